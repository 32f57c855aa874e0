"""The API's synchronous operations, independent of how the request arrived.

With the ledger on, a bind or unbind is recorded first (DynamoDB unavailable: 503, nothing
sent), what TPNS gets is what the ledger says, and its verification is scheduled, not awaited
(and if that fails, TPNS's answer says so in a warning).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tpns_account import Settings, TpnsClient, defaults
from tpns_account.values import Value
from tpns_api.deadline import Deadline
from tpns_api.errors import LedgerOffError, QueueUnavailableError
from tpns_api.http.answers import ApiResponse, batch_answer, query_answer
from tpns_api.http.contract import BatchRequest, QueryRequest

if TYPE_CHECKING:
    # Imported where used: a query never loads the sending path, LedgerMode off never the
    # ledger's modules (a cold start pays for every module it imports).
    from tpns_api.http.lookups import BindingsLookup
    from tpns_api.ledger.wiring import Ledger
    from tpns_api.sending import Sent

logger = logging.getLogger(__name__)


class BindingService(Value, frozen=False):
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
            self._after(self.ledger, app_key, request.app, op_id, sent)
        error = sent.first_error()
        if error is not None:
            raise error
        return batch_answer(sent)

    @staticmethod
    def _after(ledger: Ledger, app_key: str, app: str | None, op_id: str, sent: Sent) -> None:
        """Record TPNS's answer and schedule verification. TPNS already has the request, so a
        failure here is a warning on TPNS's answer, not an error: the ledger holds the operation
        (what TPNS did not answer stays in it, and verification will push it)."""
        from tpns_api.store.dynamo import StoreUnavailableError

        try:
            ledger.after(app_key, app, op_id, sent, targets=sent.converging)
        except (StoreUnavailableError, QueueUnavailableError) as exc:
            logger.error("operation %s: sent, but not recorded or verified: %s", op_id, exc)
            sent.warnings.append(
                "sent to TPNS, but TPNS's answer could not be recorded or its verification "
                f"scheduled ({exc}); send the request again to have it checked"
            )

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
