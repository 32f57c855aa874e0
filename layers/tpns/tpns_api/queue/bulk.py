"""Bulk-queue messages: parse, record and send, and account for every item exactly once.

An item ends in exactly one place: applied (accepted by TPNS), reported failed (a permanent
per-item refusal, logged, counted, listed in its job's failures), superseded (the ledger holds
a later operation for it: nothing sent), or the dead-letter queue (invalid, refused for good at
call level, or still failing on its message's last delivery). A message whose items still hold
transient failures before its last delivery is handed back whole: binds override and unbinds
are idempotent, and the ledger records an operation once however often it comes.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import KW_ONLY
from typing import Any, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from tpns_account import BatchOperation, CredentialsError, TpnsClient, UnknownAppError
from tpns_account.models import wire
from tpns_account.values import Value, field
from tpns_api.deadline import Deadline
from tpns_api.errors import BundleError, NeverSucceedsError
from tpns_api.jobs.model import Counts, Failure
from tpns_api.jobs.store import JobStore
from tpns_api.ledger.backfill import backfill
from tpns_api.ledger.export import Exporter, ExportPage, export_page
from tpns_api.ledger.plan import Plan, Target
from tpns_api.ledger.wiring import Ledger
from tpns_api.queue.messages import Message, Record, dead_letter_body, parse_message
from tpns_api.queue.sqs import DEFAULT_MAX_RECEIVE_COUNT, MessageSender
from tpns_api.sending import Outcome, Sent, passthrough, send
from tpns_api.telemetry import Metric

logger = logging.getLogger(__name__)

MAX_ITEMS_PER_LOG_LINE = 500
MAX_REASON_CHARS = 1000


class DeadLetterSink(Protocol):
    def send(self, body: str, reason: str, attributes: dict[str, str]) -> None: ...


BATCH_METRICS = (
    Metric.MESSAGES,
    Metric.MESSAGES_RETRIED,
    Metric.MESSAGES_DEAD_LETTERED,
    Metric.ITEMS_ACCEPTED,
    Metric.ITEMS_FAILED,
    Metric.ITEMS_SUPERSEDED,
    Metric.ITEMS_DEAD_LETTERED,
    Metric.UPSTREAM_CALLS,
    Metric.UPSTREAM_RETRIES,
    Metric.UPSTREAM_THROTTLES,
)


class BulkReport(Value, frozen=False):
    """A batch's outcome: the messages to hand back, and its counts by metric."""

    failed_message_ids: list[str] = field(default_factory=list)
    tally: Counter[Metric] = field(default_factory=Counter)

    def counts(self) -> dict[str, int]:
        """The batch's metrics (every one of ``BATCH_METRICS``, 0 when nothing counted it)."""
        counts: dict[str, int] = {metric: self.tally[metric] for metric in BATCH_METRICS}
        counts[Metric.MESSAGES_RETRIED] = len(self.failed_message_ids)
        return counts


class _NotDone(Value):
    record: Record
    reason: str
    message: Message | None = None  # parsed, its items are counted when it is dead-lettered


class Never(_NotDone):
    """The message can never succeed: to the DLQ as it is (its items, if parsed, counted)."""


class Redeliver(_NotDone):
    """The message may succeed later: back to the queue, nothing counted; on its last delivery,
    to the DLQ as it is, its items counted dead-lettered."""

    sent: Sent | None = None


class Done(Value):
    """The message's calls were made (or it had no valid item): settle every item."""

    record: Record
    message: Message
    sent: Sent | None = None


class Exported(Value):
    """A page of an export was written and counted (by the exporter)."""

    record: Record


Handled = Never | Redeliver | Done | Exported


class BulkProcessor(Value, frozen=False):
    """Processes one delivered batch of bulk messages (any number of items each)."""

    client: TpnsClient
    dead_letter: DeadLetterSink
    _: KW_ONLY
    jobs: JobStore | None = None
    ledger: Ledger | None = None
    exporter: Exporter | None = None
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT
    _started: set[str] = field(default_factory=set, init=False)  # jobs marked running here
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _parsing: threading.Lock = field(default_factory=threading.Lock, init=False)
    _recording: threading.Lock = field(default_factory=threading.Lock, init=False)

    def process(self, records: Sequence[Record], *, time_budget: float) -> BulkReport:
        """Every message, its calls all within ``time_budget`` (the batch's, not each one's)."""
        report = BulkReport(tally=Counter({Metric.MESSAGES: len(records)}))
        if not records:
            return report
        deadline = Deadline.within(time_budget)
        # Each message is handled in its own worker, so the first calls go out while later
        # messages are still being parsed; outcomes are settled in delivery order.
        with ThreadPoolExecutor(max_workers=len(records), thread_name_prefix="bulk") as pool:
            handled = list(pool.map(lambda r: self._handle(r, deadline), records))
        for outcome in handled:
            self._settle(outcome, report)
        return report

    # -- one message, in its worker -------------------------------------------------------------

    def _handle(self, record: Record, deadline: Deadline) -> Handled:
        try:
            parsed = self._parse(record)
        except NeverSucceedsError as exc:
            return Never(record, str(exc))
        if isinstance(parsed, ExportPage):
            return self._export(record, parsed)
        message = parsed
        self._start(message)
        if message.operation is None:
            return Done(record, message)
        try:
            app_key = self.client.credentials.get(message.app).access_id
            if message.kind == "backfill":
                return self._backfill(message, message.operation, app_key, deadline)
            return self._write(message, message.operation, app_key, deadline)
        except UnknownAppError as exc:
            return Never(record, str(exc), message)
        except (CredentialsError, BundleError) as exc:
            return Redeliver(record, f"{type(exc).__name__}: {exc}", message)

    def _parse(self, record: Record) -> ExportPage | Message:
        """One message at a time (parsing is CPU, under the GIL): the first message's calls go
        out once it is parsed, while the next waits its turn, instead of every message of the
        batch finishing its parsing together, the first calls last (~40 ms of a 10-message
        batch)."""
        with self._parsing:
            page = export_page(record.body)
            return page if page is not None else parse_message(record)

    def _write(
        self, message: Message, operation: BatchOperation, app_key: str, deadline: Deadline
    ) -> Handled:
        """Record (ledger on), send what the ledger says, and have it verified. A slice is
        recorded at a time, one message's at a time: while this message sends a slice, the
        others record theirs."""
        record = message.record
        if self.ledger is None:
            plans: Plan | Iterator[Plan] = passthrough(operation)
        else:
            plans = self.ledger.plans(
                app_key, operation, message.issued_at_ms, message.op_id, turn=self._recording
            )
        sent = send(self.client, plans, operation, app=message.app, time_budget=deadline.budget())
        redeliver = self._redeliver_if_transient(record, sent)
        if redeliver is not None:
            return redeliver
        if self.ledger is not None:
            try:
                self.ledger.after(
                    app_key,
                    message.app,
                    message.op_id,
                    sent,
                    job_id=message.job_id if message.part is not None else None,
                    targets=[_in_job(message, t) for t in sent.verifiable],
                )
            except BundleError as exc:
                return Redeliver(record, f"{type(exc).__name__}: {exc}", message, sent)
        return Done(record, message, sent)

    def _backfill(
        self, message: Message, operation: BatchOperation, app_key: str, deadline: Deadline
    ) -> Handled:
        """Ask TPNS what it holds for the message's items; record it (``ledger.backfill``)."""
        if self.ledger is None:
            return Never(message.record, "a backfill fills the ledger: this deployment keeps none")
        sent = backfill(
            self.client,
            self.ledger.store,
            app_key,
            message.app,
            operation,
            message.op_id,
            time_budget=deadline.budget(),
        )
        redeliver = self._redeliver_if_transient(message.record, sent)
        return redeliver or Done(message.record, message, sent)

    def _export(self, record: Record, page: ExportPage) -> Handled:
        """One page of an export (``tpns_api.ledger.export``); it counts itself in its job."""
        if self.exporter is None:
            return Never(record, "an export reads the ledger: this deployment keeps none")
        try:
            self.exporter.export(page, self.client.credentials.get(page.app).access_id)
        except UnknownAppError as exc:
            return Never(record, str(exc))
        except (CredentialsError, BundleError, BotoCoreError, ClientError) as exc:
            reason = f"export {page.job_id}: {type(exc).__name__}: {exc}"
            if record.receive_count >= self.max_receive_count:
                self._fail_job(page.job_id, reason)
            return Redeliver(record, reason)
        return Exported(record)

    def _fail_job(self, job_id: str, reason: str) -> None:
        """An export page failed at its last delivery: its job ends failed (the page: the DLQ)."""
        if self.jobs is None:
            return
        try:
            self.jobs.fail(job_id, reason)
        except BundleError:
            logger.exception("job %s: could not mark it failed", job_id)

    def _redeliver_if_transient(self, record: Record, sent: Sent) -> Redeliver | None:
        """Items still failing transiently before the last delivery: the message comes back."""
        transient = [o for o in sent.outcomes if o.error is not None and o.error.retryable]
        if transient and record.receive_count < self.max_receive_count:
            return Redeliver(record, f"{len(transient)} item(s) failing transiently", sent=sent)
        return None

    def _start(self, message: Message) -> None:
        """Mark the message's job running (once per job and process)."""
        job_id = message.job_id
        if self.jobs is None or job_id is None or message.part is None:
            return
        with self._lock:
            if job_id in self._started:
                return
            self._started.add(job_id)
        try:
            self.jobs.start(job_id)
        except BundleError:
            logger.warning("job %s: could not mark it running", job_id)

    # -- settling, in delivery order ------------------------------------------------------------

    def _settle(self, handled: Handled, report: BulkReport) -> None:
        record = handled.record
        if isinstance(handled, Exported):
            return
        sent = handled.sent if not isinstance(handled, Never) else None
        if sent is not None:
            report.tally[Metric.UPSTREAM_CALLS] += sent.calls
            report.tally[Metric.UPSTREAM_RETRIES] += sent.retries
            report.tally[Metric.UPSTREAM_THROTTLES] += sent.throttled
        if isinstance(handled, Redeliver) and record.receive_count < self.max_receive_count:
            logger.warning("bulk message %s: %s; redelivering", record.message_id, handled.reason)
            report.failed_message_ids.append(record.message_id)
        elif isinstance(handled, Redeliver):
            reason = (
                f"still failing at its last delivery ({record.receive_count}): {handled.reason}"
            )
            self._dead_letter_whole(Never(record, reason, handled.message), report)
        elif isinstance(handled, Never):
            self._dead_letter_whole(handled, report)
        else:
            self._settle_done(handled.message, handled.sent, report)

    def _dead_letter_whole(self, never: Never, report: BulkReport) -> None:
        """To the DLQ as it is, its items (if parsed) counted dead-lettered. Once it is there, a
        failure to count it does not redeliver it (that would dead-letter it twice): its copy
        keeps its job and part, so a redrive counts it."""
        record = never.record
        if not self._dead_letter(record, record.body, never.reason, report):
            return
        report.tally[Metric.MESSAGES_DEAD_LETTERED] += 1
        if never.message is not None:
            outcome = _all_dead(never.message, never.reason)
            self._settle_job(never.message, outcome, report, redeliver=False)

    def _settle_done(self, message: Message, sent: Sent | None, report: BulkReport) -> None:
        """Every item: counted accepted, failed or superseded, or dead-lettered with why."""
        record = message.record
        dead = list(message.rejected)
        failures: list[Failure] = []
        counts = {"accepted": 0, "failed": 0, "superseded": 0}
        if sent is not None:
            _log_item_failures(record.message_id, message.job_id, sent)
            items = sent.operation.items
            for outcome in sent.outcomes:
                position = message.positions[outcome.index]
                if outcome.status == "error":
                    why = _error_reason(outcome, record, self.max_receive_count)
                    dead.append((position, wire(items[outcome.index]), why))
                    continue
                counts[outcome.status] += 1
                if outcome.status == "failed" and outcome.result is not None:
                    result = outcome.result
                    failures.append(
                        _failure(
                            message,
                            position,
                            "failed",
                            wire(result.item),
                            result.code,
                            result.reason,
                        )
                    )
        if dead:
            body = dead_letter_body(message, [(item, why) for _, item, why in dead])
            reason = f"{len(dead)} item(s) can never succeed; first: {dead[0][2]}"
            if not self._dead_letter(record, body, reason, report):
                return
            report.tally[Metric.ITEMS_DEAD_LETTERED] += len(dead)
            failures += [
                _failure(message, p, "dead_lettered", item, None, why) for p, item, why in dead
            ]
        report.tally[Metric.ITEMS_ACCEPTED] += counts["accepted"]
        report.tally[Metric.ITEMS_FAILED] += counts["failed"]
        report.tally[Metric.ITEMS_SUPERSEDED] += counts["superseded"]
        self._settle_job(message, (Counts(dead_lettered=len(dead), **counts), failures), report)

    def _settle_job(
        self,
        message: Message,
        outcome: tuple[Counts, list[Failure]],
        report: BulkReport,
        *,
        redeliver: bool = True,
    ) -> None:
        if self.jobs is None or message.job_id is None or message.part is None:
            return
        counts, failures = outcome
        try:
            self.jobs.settle(message.job_id, str(message.part), counts, failures)
        except BundleError:
            logger.exception("job %s: could not count part %s", message.job_id, message.part)
            if redeliver:
                report.failed_message_ids.append(message.record.message_id)

    def _dead_letter(self, record: Record, body: str, reason: str, report: BulkReport) -> bool:
        attributes = {
            "source_message_id": record.message_id,
            "receive_count": str(record.receive_count),
        }
        try:
            self.dead_letter.send(body, reason[:MAX_REASON_CHARS], attributes)
        except BundleError:
            logger.exception(
                "could not dead-letter bulk message %s; redelivering", record.message_id
            )
            report.failed_message_ids.append(record.message_id)
            return False
        logger.warning("bulk message %s dead-lettered: %s", record.message_id, reason[:200])
        return True


def _in_job(message: Message, target: Target) -> Target:
    """A verification target indexed as its job counts items (job-wide)."""
    index = message.offset + message.positions[target.index]
    return Target(target.kind, target.key, target.account_type, index)


def _error_reason(outcome: Outcome, record: Record, max_receive_count: int) -> str:
    error = outcome.error
    if error is not None and error.retryable:
        return (
            f"still failing after {record.receive_count} of {max_receive_count} deliveries: {error}"
        )
    return str(error)


def _failure(
    message: Message,
    position: int,
    outcome: Literal["failed", "dead_lettered"],
    item: Any,
    code: int | None,
    reason: str | None,
) -> Failure:
    """A job's record of one item (as the message carried it) that did not make it."""
    return Failure.of_item(message.offset + position, outcome, item, code, reason)


def _all_dead(message: Message, reason: str) -> tuple[Counts, list[Failure]]:
    """A parsed message that can never succeed (its app is unknown): every item of it."""
    items = message.operation.items if message.operation is not None else ()
    dead = [(message.positions[i], wire(item), reason) for i, item in enumerate(items)]
    dead += message.rejected
    failures = [_failure(message, p, "dead_lettered", item, None, why) for p, item, why in dead]
    return Counts(dead_lettered=len(failures)), failures


def _log_item_failures(message_id: str, job_id: str | None, sent: Sent) -> None:
    failed = [o for o in sent.outcomes if o.status == "failed" and o.result is not None]
    for start in range(0, len(failed), MAX_ITEMS_PER_LOG_LINE):
        part = failed[start : start + MAX_ITEMS_PER_LOG_LINE]
        logger.warning(
            "bulk message %s: TPNS refused %d item(s)",
            message_id,
            len(part),
            extra={
                "message_id": message_id,
                "job_id": job_id,
                "failed_items": [
                    {"item": o.result.key, "code": o.result.code, "reason": o.result.reason}
                    for o in part
                    if o.result is not None
                ],
            },
        )


class SqsDeadLetter:
    """Sends never-succeed messages to the DLQ with the reason as a message attribute."""

    def __init__(self, sender: MessageSender) -> None:
        self.sender = sender

    def send(self, body: str, reason: str, attributes: dict[str, str]) -> None:
        self.sender.send_one(body, {"reason": reason, **attributes}, what="dead letter")
