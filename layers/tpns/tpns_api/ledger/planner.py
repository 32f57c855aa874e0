"""From an operation in hand to what TPNS should get: recorded first, then the ledger's word.

A bind, op 3 or op 4 is recorded per token; op 5 per account. What goes to TPNS is what the
ledger says now, not the operation as it arrived:

- an item every newer operation already decided is *superseded*: nothing is sent for it;
- a bind sends the token's bound accounts (fewer than asked when a later unbind removed some),
  or unbinds the token from everything when nothing is left (op 4);
- op 3 sends only the accounts no later operation decided;
- op 5 unbinds the account everywhere, unless a later bind gave it a token again: then only
  the tokens it held before are unbound (op 3), so the later bind is not undone.

The accounts sent are the caller's own (an account given without a type stays without one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tpns_account import Account, BatchOperation, OperatorType, TokenAccounts
from tpns_account.models import Item
from tpns_account.payload import override_warnings
from tpns_account.values import Value
from tpns_api.ledger.cells import TokenOp
from tpns_api.ledger.items import AccountUnbind, Recorded
from tpns_api.ledger.plan import Plan, Send, Target

if TYPE_CHECKING:
    from tpns_api.ledger.store import LedgerStore


class Planner(Value, frozen=False):
    ledger: LedgerStore

    def plan(self, app: str, operation: BatchOperation, version: str, op_id: str) -> Plan:
        """Record ``operation`` (issued at ``version``) for ``app``; what to send for it."""
        items = operation.items
        if operation.operator_type is OperatorType.UNBIND_ALL_TOKENS:
            return self._account_unbinds(app, operation, version, op_id)
        ops = [_token_op(operation.operator_type, item, version, op_id) for item in items]
        recorded = self.ledger.record(app, ops)
        # The calls carry only the accounts TPNS keeps; the caller still hears which it drops.
        plan = Plan(warnings=override_warnings(operation))
        binds: list[tuple[int, TokenAccounts]] = []
        clears: list[tuple[int, str]] = []
        unbinds: list[tuple[int, TokenAccounts]] = []
        for index, (item, result) in enumerate(zip(items, recorded, strict=True)):
            if result.superseded:
                plan.superseded.add(index)
                continue
            plan.targets.append(Target("token", result.op.token, index=index))
            if isinstance(item, TokenAccounts) and operation.is_bind:
                kept = _bound_accounts(item, result)
                if kept:
                    binds.append((index, TokenAccounts(item.token, kept)))
                else:
                    clears.append((index, item.token))
            elif isinstance(item, TokenAccounts):
                left = tuple(
                    a
                    for a in item.account_list
                    if (a.account, a.effective_type) not in result.superseded_accounts
                )
                unbinds.append((index, TokenAccounts(item.token, left)))
            else:
                clears.append((index, result.op.token))
        _add(plan, operation, OperatorType.OVERRIDE, binds)
        _add(plan, operation, OperatorType.UNBIND_ALL_ACCOUNTS, clears)
        _add(plan, operation, OperatorType.UNBIND_ACCOUNTS, unbinds)
        return plan

    def _account_unbinds(
        self, app: str, operation: BatchOperation, version: str, op_id: str
    ) -> Plan:
        accounts = [item for item in operation.items if isinstance(item, Account)]
        ops = [AccountUnbind(a.account, a.effective_type, version, op_id) for a in accounts]
        plan = Plan()
        everywhere: list[tuple[int, Account]] = []
        holders: list[tuple[int, TokenAccounts]] = []
        for index, (account, result) in enumerate(
            zip(accounts, self.ledger.record_account_unbinds(app, ops), strict=True)
        ):
            if result.superseded:
                plan.superseded.add(index)
                continue
            plan.targets.append(Target("account", account.account, account.effective_type, index))
            if not result.newer_holders:
                everywhere.append((index, account))
            else:
                holders += [(index, TokenAccounts(t, (account,))) for t in result.older_holders]
        _add(plan, operation, OperatorType.UNBIND_ALL_TOKENS, everywhere)
        _add(plan, operation, OperatorType.UNBIND_ACCOUNTS, holders)
        return plan


def _token_op(operator: OperatorType, item: Item, version: str, op_id: str) -> TokenOp:
    if not isinstance(item, TokenAccounts):
        return TokenOp("unbind_token", str(item), version, op_id)
    if operator in (OperatorType.APPEND, OperatorType.OVERRIDE):
        kept = tuple((a.account, a.effective_type) for a in item.kept())
        return TokenOp("bind", item.token, version, op_id, kept)
    pairs = tuple((a.account, a.effective_type) for a in item.account_list)
    return TokenOp("unbind_accounts", item.token, version, op_id, pairs)


def _bound_accounts(item: TokenAccounts, result: Recorded) -> tuple[Account, ...]:
    """The caller's accounts that the ledger says are bound now (later unbinds removed)."""
    bound = {(c.account, c.account_type) for c in result.bound}
    return tuple(a for a in item.kept() if (a.account, a.effective_type) in bound)


def _add(
    plan: Plan,
    operation: BatchOperation,
    operator: OperatorType,
    entries: Sequence[tuple[int, TokenAccounts | Account | str]],
) -> None:
    if not entries:
        return
    items = tuple(item for _, item in entries)
    send = BatchOperation(operator, items, operation.platform)
    plan.sends.append(Send(send, tuple(index for index, _ in entries)))
