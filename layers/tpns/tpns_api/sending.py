"""Sending a plan to TPNS, and reading the answers back per item of the operation in hand.

Whether the ledger planned the calls (``tpns_api.ledger.plan``) or the operation goes as it is
(``LedgerMode`` off, ``Plan.passthrough``), the sync routes and the bulk queue send and account
for items the same way: one ``ItemResult`` per item of the original operation, ``superseded``
where the ledger decided nothing should be sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from tpns_account import BatchOperation, BatchResult, ItemResult, TpnsClient, TpnsError
from tpns_account.results import first_error
from tpns_account.values import Value, field
from tpns_api.deadline import Deadline
from tpns_api.ledger.plan import Plan, Send, Target

Status = Literal["accepted", "failed", "error", "superseded"]
_RANK: dict[str, int] = {"accepted": 0, "failed": 1, "error": 2}


class Outcome(Value):
    """One item of the operation in hand, after its calls (if any)."""

    index: int
    status: Status
    result: ItemResult | None  # the TPNS answer that decided it (None: superseded)

    @property
    def error(self) -> TpnsError | None:
        return self.result.error if self.result is not None else None


class Sent(Value, frozen=False):
    """Every item's outcome, what the calls cost, and what TPNS's answers warned of."""

    operation: BatchOperation
    outcomes: list[Outcome]
    targets: list[Target]
    warnings: list[str] = field(default_factory=list)
    calls: int = 0
    retries: int = 0
    throttled: int = 0

    def with_status(self, *statuses: Status) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in statuses]

    def first_error(self) -> TpnsError | None:
        return first_error([o.error for o in self.outcomes if o.error is not None])

    @property
    def verifiable(self) -> list[Target]:
        """What to verify: the targets of accepted items."""
        accepted = {o.index for o in self.outcomes if o.status == "accepted"}
        return [t for t in self.targets if t.index in accepted]

    @property
    def converging(self) -> list[Target]:
        """What to verify when nothing else will send it again: the targets of accepted items
        and of items TPNS never answered (the ledger holds them; verification pushes them)."""
        sent = {o.index for o in self.outcomes if o.status in ("accepted", "error")}
        return [t for t in self.targets if t.index in sent]

    def refused_tokens(self) -> set[str]:
        return self._keys("failed")

    def unanswered_tokens(self) -> set[str]:
        """Items whose calls failed (TPNS unreachable, timing out): not applied, as we know."""
        return self._keys("error")

    def _keys(self, status: Status) -> set[str]:
        return {o.result.key for o in self.outcomes if o.status == status and o.result}


def passthrough(operation: BatchOperation) -> Plan:
    """The operation sent as it came (no ledger)."""
    send = Send(operation, tuple(range(len(operation.items))))
    return Plan(sends=[send])


def send(
    client: TpnsClient,
    plans: Plan | Iterable[Plan],
    operation: BatchOperation,
    *,
    app: str | None,
    time_budget: float,
) -> Sent:
    """Make the plans' calls (never raising for a call's failure: items carry it), all of
    them within ``time_budget``; several plans (of slices of ``operation``, indexed in it) are
    sent one by one as they come."""
    deadline = Deadline.within(time_budget)
    per_item: dict[int, list[ItemResult]] = {}
    superseded: set[int] = set()
    sent = Sent(operation, [], [])
    for plan in [plans] if isinstance(plans, Plan) else plans:
        sent.targets += plan.targets
        sent.warnings += plan.warnings
        superseded |= plan.superseded
        for call in plan.sends:
            result = client.batch_operate(
                call.operation, app=app, time_budget=deadline.budget(), raise_on_error=False
            )
            _count(sent, result)
            for position, item in enumerate(result.items):
                per_item.setdefault(call.origins[position], []).append(item)
    for index in range(len(operation.items)):
        if index in superseded:
            sent.outcomes.append(Outcome(index, "superseded", None))
            continue
        results = per_item.get(index, [])
        worst = max(results, key=lambda r: _RANK[r.status]) if results else None
        status: Status = worst.status if worst is not None else "accepted"
        sent.outcomes.append(Outcome(index, status, worst))
    return sent


def _count(sent: Sent, result: BatchResult) -> None:
    sent.calls += result.calls
    sent.retries += result.retries
    sent.throttled += result.throttled
    sent.warnings += result.warnings


def unsent(operation: BatchOperation, plan_targets: Sequence[Target] = ()) -> Sent:
    """Nothing sent (every item superseded)."""
    outcomes = [Outcome(i, "superseded", None) for i in range(len(operation.items))]
    return Sent(operation, outcomes, list(plan_targets))
