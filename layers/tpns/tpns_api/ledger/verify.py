"""Verified apply: TPNS only says "accepted"; some time later, ask it what it holds.

``VerifyDelaySeconds`` after a write, the verifier queries TPNS for the tokens (or, for op 5,
the accounts) the write touched and compares with the ledger as it is *now*, so a newer write
is never undone. A mismatch is pushed again (the ledger's current state, in whatever calls
reach it under either reading of TPNS's override: bind what is missing, unbind with op 3 what
TPNS holds beyond it), then checked again after twice the delay, up to ``VerifyAttempts``
checks; what still differs then is *unverified*. Verification requests travel as delayed
messages on the verify queue, so no function waits for them.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tpns_account import (
    Account,
    BatchOperation,
    OperatorType,
    Query,
    TokenAccounts,
    TpnsClient,
    TpnsError,
)
from tpns_account.values import Value, asdict, field
from tpns_api.deadline import MIN_BUDGET_S, Deadline
from tpns_api.errors import BundleError
from tpns_api.ledger.cells import AccountKey, Cell
from tpns_api.ledger.plan import Target
from tpns_api.ledger.store import LedgerStore
from tpns_api.queue.sqs import MessageSender
from tpns_api.telemetry import Metric

if TYPE_CHECKING:
    # The sync routes schedule verifications (``VerifyScheduler``) and never verify: the jobs'
    # and the queue's modules are imported by the verifier's methods.
    from tpns_api.jobs.model import Failure
    from tpns_api.jobs.store import JobStore
    from tpns_api.queue.messages import Record

logger = logging.getLogger(__name__)

MAX_DELAY_S = 900  # SQS's longest message delay
TARGETS_PER_MESSAGE = 500


class VerifyRequest(Value):
    """One verification message: an operation's targets, at one attempt."""

    op_id: str
    app: str | None
    attempt: int
    targets: tuple[Target, ...]
    job_id: str | None = None
    chunk: int = 0

    def to_json(self) -> str:
        body = asdict(self)
        body["targets"] = [asdict(t) for t in self.targets]
        return json.dumps({"verify": body})

    @classmethod
    def from_json(cls, text: str) -> VerifyRequest:
        body = json.loads(text)["verify"]
        targets = tuple(Target(**t) for t in body.pop("targets"))
        return cls(targets=targets, **body)


class VerifyScheduler(Value, frozen=False):
    """Queues verification requests, delayed, on the verify queue."""

    sender: MessageSender
    delay_s: int
    attempts: int

    def schedule(
        self,
        op_id: str,
        app: str | None,
        targets: Sequence[Target],
        *,
        job_id: str | None = None,
        attempt: int = 1,
        first_chunk: int = 0,
    ) -> None:
        if not targets:
            return
        requests = [
            VerifyRequest(
                op_id, app, attempt, tuple(targets[i : i + TARGETS_PER_MESSAGE]), job_id, n
            )
            for n, i in enumerate(range(0, len(targets), TARGETS_PER_MESSAGE), first_chunk)
        ]
        delay = min(MAX_DELAY_S, self.delay_s * 2 ** (attempt - 1))
        self.sender.send(
            [r.to_json() for r in requests], what=f"verification of {op_id}", delay_s=delay
        )


VERIFY_METRICS = (Metric.ITEMS_VERIFIED, Metric.ITEMS_UNVERIFIED, Metric.ITEMS_REPUSHED)


class VerifyReport(Value, frozen=False):
    """What verification found, by metric."""

    tally: Counter[Metric] = field(default_factory=Counter)

    def counts(self) -> dict[str, int]:
        """Every one of ``VERIFY_METRICS`` (0 when nothing counted it)."""
        return {metric: self.tally[metric] for metric in VERIFY_METRICS}


class Verifier(Value, frozen=False):
    ledger: LedgerStore
    client: TpnsClient
    scheduler: VerifyScheduler
    jobs: JobStore | None = None

    def verify(self, request: VerifyRequest, *, time_budget: float) -> VerifyReport:
        """Check one request's targets; push mismatches again, or give up on them.

        The job counts each item's outcome once (``JobStore.settle_verification``: a marker
        per item), not once per message: a redelivery decides again, and an item it now finds
        matching may also be in the next attempt already scheduled, or in a duplicate of it.
        Whichever reports an item first counts it, so the order in which fixes, the next
        attempt and the count happen (or fail, and are redelivered) cannot count it twice; an
        item still mismatched is scheduled again by every delivery until one counts it.
        """
        app_key = self.client.credentials.get(request.app).access_id
        tokens = [t for t in request.targets if t.kind == "token"]
        accounts = [t for t in request.targets if t.kind == "account"]
        mismatched: list[Target] = []
        fixes = _Fixes()
        deadline = Deadline.within(time_budget)
        mismatched += self._tokens(app_key, request.app, tokens, fixes, deadline.budget())
        mismatched += self._accounts(app_key, request.app, accounts, fixes, deadline.budget())
        final = request.attempt >= self.scheduler.attempts
        report = VerifyReport()
        matched = [t for t in request.targets if t not in mismatched]
        unverified = mismatched if final else []
        if not final and mismatched:
            report.tally[Metric.ITEMS_REPUSHED] = len(mismatched)
            fixes.send(self.client, request.app, deadline)
            self.scheduler.schedule(
                request.op_id,
                request.app,
                mismatched,
                job_id=request.job_id,
                attempt=request.attempt + 1,
                # The chunk number the first check gave it (one message: it holds at most
                # this request's targets); the job counts per item, not per message.
                first_chunk=request.chunk,
            )
        report.tally[Metric.ITEMS_VERIFIED] = len(matched)
        report.tally[Metric.ITEMS_UNVERIFIED] = len(unverified)
        self.ledger.record_verifications(
            app_key,
            [(t.key, request.op_id, True) for t in matched if t.kind == "token"]
            + [(t.key, request.op_id, False) for t in unverified if t.kind == "token"],
        )
        if unverified:
            logger.warning(
                "operation %s: %d item(s) unverified after %d checks",
                request.op_id,
                len(unverified),
                request.attempt,
                extra={"unverified": [asdict(t) for t in unverified[:100]]},
            )
        if self.jobs is not None and request.job_id is not None:
            self.jobs.settle_verification(
                request.job_id, [t.index for t in matched], [_unverified(t) for t in unverified]
            )
        return report

    def process(
        self, records: Sequence[Record], *, time_budget: float, max_receive_count: int
    ) -> tuple[list[str], VerifyReport]:
        """One delivered batch of verification messages; the ids to redeliver, and counts."""
        failed: list[str] = []
        total = VerifyReport()
        deadline = Deadline.within(time_budget)
        for done, record in enumerate(records):
            if deadline.budget() < MIN_BUDGET_S:  # the rest would run past the invocation
                logger.warning("out of time: %d verification(s) again later", len(records) - done)
                failed += [r.message_id for r in records[done:]]
                break
            try:
                request = VerifyRequest.from_json(record.body)
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                logger.error(
                    "verification message %s is not one; left to the DLQ", record.message_id
                )
                failed.append(record.message_id)
                continue
            try:
                report = self.verify(request, time_budget=deadline.budget())
            except (BundleError, TpnsError) as exc:
                if record.receive_count < max_receive_count:
                    logger.warning(
                        "verification of %s failed (%s); again later", request.op_id, exc
                    )
                    failed.append(record.message_id)
                    continue
                report = self.give_up(request, f"could not verify: {type(exc).__name__}")
            total.tally.update(report.tally)
        return failed, total

    def give_up(self, request: VerifyRequest, reason: str) -> VerifyReport:
        """The request's last delivery failed: its targets are unverified, and counted so
        (those an earlier delivery counted stay as they were)."""
        logger.error(
            "operation %s: %d item(s) unverified: %s", request.op_id, len(request.targets), reason
        )
        if self.jobs is not None and request.job_id is not None:
            self.jobs.settle_verification(
                request.job_id, [], [_unverified(t) for t in request.targets]
            )
        return VerifyReport(Counter({Metric.ITEMS_UNVERIFIED: len(request.targets)}))

    def _tokens(
        self, app_key: str, app: str | None, targets: Sequence[Target], fixes: _Fixes, budget: float
    ) -> list[Target]:
        if not targets:
            return []
        tokens = list(dict.fromkeys(t.key for t in targets))
        desired = self.ledger.bound(app_key, tokens)
        actual = _held_by_tokens(self.client, app, tokens, budget)
        wrong = {
            token for token in tokens if not fixes.token(token, desired[token], actual.get(token))
        }
        return [t for t in targets if t.key in wrong]

    def _accounts(
        self, app_key: str, app: str | None, targets: Sequence[Target], fixes: _Fixes, budget: float
    ) -> list[Target]:
        if not targets:
            return []
        keys: list[AccountKey] = [(t.key, t.account_type) for t in targets]
        actual = _held_by_accounts(self.client, app, keys, budget)
        wrong: set[AccountKey] = set()
        for key in keys:
            holders = actual.get(key)
            if holders is None:
                wrong.add(key)  # TPNS could not be asked: check again later
                continue
            desired = self.ledger.bound(app_key, sorted(holders))
            extra = [
                t for t in holders if key not in {(c.account, c.account_type) for c in desired[t]}
            ]
            for token in extra:
                fixes.unbind(token, [Account(*key)])
            if extra:
                wrong.add(key)
        return [t for t in targets if (t.key, t.account_type) in wrong]


class _Fixes:
    """The calls that bring TPNS to the ledger's state, whatever its override scope."""

    def __init__(self) -> None:
        self.binds: list[TokenAccounts] = []
        self.unbinds: list[TokenAccounts] = []
        self.clears: list[str] = []

    def token(self, token: str, desired: Sequence[Cell], held: set[AccountKey] | None) -> bool:
        """Whether TPNS holds ``desired``; if not, the calls to fix it are added."""
        if held is None:
            return False  # TPNS could not be asked: check again later
        want = {(c.account, c.account_type) for c in desired}
        if want == held:
            return True
        extra = held - want
        if not want:
            self.clears.append(token)
            return False
        if want - held:
            self.binds.append(TokenAccounts(token, tuple(Account(a, t) for a, t in sorted(want))))
            # An override of the types it names replaces their accounts under either reading;
            # what it does not name stays under the per-type reading: unbind that explicitly.
            extra = {(a, t) for a, t in extra if t not in {t for _, t in want}}
        if extra:
            self.unbind(token, [Account(a, t) for a, t in sorted(extra)])
        return False

    def unbind(self, token: str, accounts: Sequence[Account]) -> None:
        self.unbinds.append(TokenAccounts(token, tuple(accounts)))

    def send(self, client: TpnsClient, app: str | None, deadline: Deadline) -> None:
        operations = [
            BatchOperation(OperatorType.OVERRIDE, tuple(self.binds)),
            BatchOperation(OperatorType.UNBIND_ACCOUNTS, tuple(self.unbinds)),
            BatchOperation(OperatorType.UNBIND_ALL_ACCOUNTS, tuple(self.clears)),
        ]
        for operation in operations:
            if operation.items:
                budget = deadline.budget()
                client.batch_operate(operation, app=app, time_budget=budget, raise_on_error=False)


def _held_by_tokens(
    client: TpnsClient, app: str | None, tokens: Sequence[str], budget: float
) -> dict[str, set[AccountKey]]:
    """What TPNS holds per token (a token TPNS could not be asked about is left out)."""
    result = client.query(
        Query.accounts_of(tokens), app=app, time_budget=budget, raise_on_error=False
    )
    return {
        str(item.item): {(a.account, a.effective_type) for a in item.accounts}
        for item in result.items
        if item.status != "error"
    }


def _held_by_accounts(
    client: TpnsClient, app: str | None, accounts: Iterable[AccountKey], budget: float
) -> dict[AccountKey, set[str]]:
    query = Query.tokens_of([Account(a, t) for a, t in accounts])
    result = client.query(query, app=app, time_budget=budget, raise_on_error=False)
    held: dict[AccountKey, set[str]] = {}
    for item in result.items:
        if item.status != "error" and isinstance(item.item, Account):
            held[(item.item.account, item.item.effective_type)] = set(item.tokens)
    return held


def _unverified(target: Target) -> Failure:
    from tpns_api.jobs.model import Failure

    if target.kind == "token":
        return Failure(target.index, "unverified", token=target.key, reason="TPNS does not hold it")
    return Failure(
        target.index,
        "unverified",
        account=target.key,
        account_type=target.account_type,
        reason="TPNS does not hold it",
    )


def parse_targets(values: Iterable[Mapping[str, Any]]) -> list[Target]:
    return [Target(**dict(v)) for v in values]
