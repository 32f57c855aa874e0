"""The API's synchronous operations, independent of how the request arrived.

With the ledger on, a bind or unbind is recorded first (DynamoDB unavailable: 503, nothing
sent), what TPNS gets is what the ledger says, and its verification is scheduled, not awaited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tpns_account import Settings, TpnsClient, defaults
from tpns_api.deadline import Deadline
from tpns_api.errors import LedgerOffError
from tpns_api.http.answers import ApiResponse, batch_answer, query_answer
from tpns_api.http.contract import BatchRequest, QueryRequest

if TYPE_CHECKING:
    # Imported where used: a query never loads the sending path, LedgerMode off never the
    # ledger's modules (a cold start pays for every module it imports).
    from tpns_api.http.lookups import BindingsLookup
    from tpns_api.ledger.wiring import Ledger


@dataclass
class BindingService:
    """bind / unbind / query over one long-lived client (one per process)."""

    client: TpnsClient
    sync_max_items: int = defaults.SYNC_MAX_ITEMS
    ledger: Ledger | None = None

    def batch_operate(self, request: BatchRequest, deadline: Deadline) -> ApiResponse:
        """Record, send, answer per item (accepted, failed or superseded), in input order."""
        from tpns_api.sending import passthrough, send

        operation = request.operation
        op_id = request.request_id
        app_key = self.client.credentials.get(request.app).access_id
        if self.ledger is None:
            plan = passthrough(operation)
        else:
            plan = self.ledger.plan(app_key, operation, request.issued_at_ms, op_id)
        sent = send(self.client, plan, operation, app=request.app, time_budget=deadline.budget())
        if self.ledger is not None:
            # What TPNS did not answer stays in the ledger: verification will push it.
            self.ledger.after(app_key, request.app, op_id, sent, targets=sent.converging)
        error = sent.first_error()
        if error is not None:
            raise error
        return batch_answer(sent)

    def bindings(self, lookup: BindingsLookup) -> ApiResponse:
        """What the ledger holds for a token, or (a page of) an account's tokens."""
        if self.ledger is None:
            raise LedgerOffError("this deployment keeps no ledger (LedgerMode off)")
        app_key = self.client.credentials.get(lookup.app).access_id
        store = self.ledger.store
        if lookup.token is not None:
            bindings = store.token_bindings(app_key, lookup.token)
            return ApiResponse(200, {"items": [b.to_dict() for b in bindings], "next_cursor": None})
        from tpns_api.jobs.store import decode_cursor, encode_cursor

        account = str(lookup.account)
        pk = f"A#{app_key}#{account}"
        start = decode_cursor(lookup.cursor, pk=pk)
        bindings, last = store.account_bindings(
            app_key, account, lookup.account_type, limit=lookup.limit, start=start
        )
        body = {"items": [b.to_dict() for b in bindings], "next_cursor": encode_cursor(last)}
        return ApiResponse(200, body)

    def query(self, request: QueryRequest, deadline: Deadline) -> ApiResponse:
        """Ask TPNS in real time; answers in TPNS's shapes."""
        result = self.client.query(request.query, app=request.app, time_budget=deadline.budget())
        return query_answer(result)


def binding_service() -> BindingService:
    """The API functions' service, from the environment (the template's settings).

    Calls are paced per request (``per_call``): a warm function serving requests back to back
    never waits for the previous request's slot; one request's own calls stay under the cap.
    """
    from tpns_api.ledger.wiring import ledger_from_env

    settings = Settings.from_env()
    client = settings.client(pacing="per_call")
    return BindingService(client, settings.sync_max_items, ledger_from_env())
