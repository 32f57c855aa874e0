"""Backfill: learn what TPNS holds for tokens or accounts the ledger may not know.

A team that used TPNS before the bundle starts with bindings the ledger never saw. A backfill
queries TPNS for the given tokens (their accounts) or accounts (their tokens) and records each
binding found as an observation: older than anything the bundle issues, so it fills only cells
the ledger knows nothing about and never overrides a write the bundle made
(``cells.BACKFILL_VERSION``). Nothing is written to TPNS.
"""

from __future__ import annotations

from tpns_account import Account, BatchOperation, Query, TpnsClient
from tpns_account.results import ItemResult, ItemStatus, QueryItem, QueryStatus
from tpns_api.ledger.cells import BACKFILL_VERSION, AccountKey, TokenOp
from tpns_api.ledger.store import LedgerStore
from tpns_api.sending import Outcome, Sent

_STATUS: dict[QueryStatus, ItemStatus] = {
    "found": "accepted",
    "not_found": "accepted",  # TPNS holds nothing for it: that is learned too
    "failed": "failed",
    "error": "error",
}


def backfill(
    client: TpnsClient,
    store: LedgerStore,
    app_key: str,
    app: str | None,
    operation: BatchOperation,
    op_id: str,
    *,
    time_budget: float,
) -> Sent:
    """Query TPNS for the operation's tokens or accounts; record what it holds."""
    accounts = [item for item in operation.items if isinstance(item, Account)]
    tokens = [item for item in operation.items if isinstance(item, str)]
    query = Query.tokens_of(accounts) if accounts else Query.accounts_of(tokens)
    result = client.query(query, app=app, time_budget=time_budget, raise_on_error=False)
    held: dict[str, set[AccountKey]] = {}
    for item in result.items:
        if isinstance(item.item, Account):
            key = (item.item.account, item.item.effective_type)
            for token in item.tokens:
                held.setdefault(token, set()).add(key)
        else:
            held.setdefault(item.item, set()).update(
                (a.account, a.effective_type) for a in item.accounts
            )
    store.record(
        app_key,
        [
            TokenOp("observe", token, BACKFILL_VERSION, op_id, tuple(sorted(accounts_held)))
            for token, accounts_held in held.items()
            if accounts_held
        ],
    )
    outcomes = [
        Outcome(i, _STATUS[item.status], _as_item_result(item))
        for i, item in enumerate(result.items)
    ]
    return Sent(operation, outcomes, [], calls=result.calls, retries=result.retries)


def _as_item_result(item: QueryItem) -> ItemResult:
    return ItemResult(
        item.index, item.item, _STATUS[item.status], item.code, item.reason, item.error
    )
