"""The API's synchronous operations, independent of how the request arrived."""

from __future__ import annotations

from dataclasses import dataclass

from tpns_account import Settings, TpnsClient, defaults
from tpns_api.deadline import Deadline
from tpns_api.http.answers import ApiResponse, batch_answer, query_answer
from tpns_api.http.contract import BatchRequest, QueryRequest


@dataclass
class BindingService:
    """bind / unbind / query over one long-lived client (one per process)."""

    client: TpnsClient
    sync_max_items: int = defaults.SYNC_MAX_ITEMS

    def batch_operate(self, request: BatchRequest, deadline: Deadline) -> ApiResponse:
        """Send the bind or unbind; every item answers accepted or failed, in input order."""
        result = self.client.batch_operate(
            request.operation, app=request.app, time_budget=deadline.budget()
        )
        return batch_answer(result)

    def query(self, request: QueryRequest, deadline: Deadline) -> ApiResponse:
        """Ask TPNS in real time; answers in TPNS's shapes."""
        result = self.client.query(request.query, app=request.app, time_budget=deadline.budget())
        return query_answer(result)


def binding_service() -> BindingService:
    """The API functions' service, from the environment (the template's settings).

    Calls are paced per request (``per_call``): a warm function serving requests back to back
    never waits for the previous request's slot; one request's own calls stay under the cap.
    """
    settings = Settings.from_env()
    return BindingService(settings.client(pacing="per_call"), settings.sync_max_items)
