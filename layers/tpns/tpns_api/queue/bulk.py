"""Bulk-queue messages: parse, send through the client, and account for every item.

An item ends in exactly one of three places: applied (accepted by TPNS), reported failed (a
permanent per-item refusal, logged and counted), or the dead-letter queue (invalid, or refused
for good at call level). A message whose items still hold transient failures is handed back for
redelivery, whole; SQS's redrive moves it to the DLQ after ``maxReceiveCount``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from tpns_account import BatchResult, CredentialsError, TpnsClient, UnknownAppError
from tpns_account.models import wire
from tpns_api.errors import BundleError, NeverSucceedsError
from tpns_api.queue.messages import Message, Record, dead_letter_body, parse_message
from tpns_api.queue.sqs import MessageSender
from tpns_api.telemetry import Metric

logger = logging.getLogger(__name__)

MAX_ITEMS_PER_LOG_LINE = 500
MAX_REASON_CHARS = 1000


class DeadLetterSink(Protocol):
    def send(self, body: str, reason: str, attributes: dict[str, str]) -> None: ...


@dataclass(slots=True)
class BulkReport:
    failed_message_ids: list[str] = field(default_factory=list)
    messages: int = 0
    accepted: int = 0
    failed: int = 0
    dead_lettered_messages: int = 0
    dead_lettered_items: int = 0
    retried_calls: int = 0
    calls: int = 0
    throttled: int = 0
    merged_duplicates: int = 0

    def counts(self) -> dict[str, int]:
        """The batch's metrics."""
        return {
            Metric.MESSAGES: self.messages,
            Metric.MESSAGES_RETRIED: len(self.failed_message_ids),
            Metric.MESSAGES_DEAD_LETTERED: self.dead_lettered_messages,
            Metric.ITEMS_ACCEPTED: self.accepted,
            Metric.ITEMS_FAILED: self.failed,
            Metric.ITEMS_DEAD_LETTERED: self.dead_lettered_items,
            Metric.UPSTREAM_CALLS: self.calls,
            Metric.UPSTREAM_RETRIES: self.retried_calls,
            Metric.UPSTREAM_THROTTLES: self.throttled,
        }


class BulkProcessor:
    """Processes one delivered batch of bulk messages (any number of items each)."""

    def __init__(self, client: TpnsClient, dead_letter: DeadLetterSink) -> None:
        self.client = client
        self.dead_letter = dead_letter

    def process(self, records: Sequence[Record], *, time_budget: float) -> BulkReport:
        report = BulkReport(messages=len(records))
        if not records:
            return report
        # Each message is parsed in its own worker, so the first calls go out while later
        # messages are still being parsed; outcomes are settled in delivery order.
        with ThreadPoolExecutor(max_workers=len(records), thread_name_prefix="bulk") as pool:
            outcomes = list(pool.map(lambda r: self._parse_and_send(r, time_budget), records))
        for record, (message, outcome) in zip(records, outcomes, strict=True):
            if isinstance(message, NeverSucceedsError):
                self._dead_letter_whole(record, str(message), report)
            else:
                self._settle(message, outcome, report)
        return report

    def _parse_and_send(
        self, record: Record, time_budget: float
    ) -> tuple[Message | NeverSucceedsError, BatchResult | Exception | None]:
        try:
            message = parse_message(record)
        except NeverSucceedsError as exc:
            return exc, None
        return message, self._send(message, time_budget)

    def _send(self, message: Message, time_budget: float) -> BatchResult | Exception | None:
        if message.operation is None:
            return None
        try:
            return self.client.batch_operate(
                message.operation, app=message.app, time_budget=time_budget, raise_on_error=False
            )
        except (UnknownAppError, CredentialsError) as exc:
            return exc

    def _settle(
        self, message: Message, outcome: BatchResult | Exception | None, report: BulkReport
    ) -> None:
        record = message.record
        if isinstance(outcome, UnknownAppError):
            self._dead_letter_whole(record, str(outcome), report)
            return
        if isinstance(outcome, Exception):
            logger.error(
                "bulk message %s: credentials unavailable (%s); redelivering",
                record.message_id,
                outcome,
            )
            report.failed_message_ids.append(record.message_id)
            return
        leftovers: list[tuple[Any, str]] = list(message.rejected)
        if outcome is not None:
            report.calls += outcome.calls
            report.retried_calls += outcome.retries
            report.throttled += outcome.throttled
            report.merged_duplicates += outcome.operation.merged_duplicates
            if any(item.error is not None and item.error.retryable for item in outcome.errored):
                # Redelivered whole: accepted items are sent again, which is harmless because
                # binds override and unbinds are idempotent; nothing goes to the DLQ yet, so
                # nothing can be dead-lettered twice.
                logger.warning(
                    "bulk message %s: %d item(s) still failing transiently; redelivering",
                    record.message_id,
                    len(outcome.errored),
                )
                report.failed_message_ids.append(record.message_id)
                return
            report.accepted += len(outcome.accepted)
            report.failed += len(outcome.failed)
            _log_item_failures(record.message_id, message.job_id, outcome)
            leftovers += [(wire(item.item), str(item.error)) for item in outcome.errored]
        if leftovers:
            self._dead_letter_items(message, leftovers, report)

    def _dead_letter_whole(self, record: Record, reason: str, report: BulkReport) -> None:
        attributes = {
            "source_message_id": record.message_id,
            "receive_count": str(record.receive_count),
        }
        if self._send_dead_letter(record.body, reason, attributes, record):
            report.dead_lettered_messages += 1
            logger.warning("bulk message %s dead-lettered: %s", record.message_id, reason)
        else:
            report.failed_message_ids.append(record.message_id)

    def _dead_letter_items(
        self, message: Message, items: list[tuple[Any, str]], report: BulkReport
    ) -> None:
        record = message.record
        reason = f"{len(items)} item(s) can never succeed; first: {items[0][1]}"
        attributes = {
            "source_message_id": record.message_id,
            "receive_count": str(record.receive_count),
        }
        if self._send_dead_letter(dead_letter_body(message, items), reason, attributes, record):
            report.dead_lettered_items += len(items)
            logger.warning(
                "bulk message %s: %d item(s) dead-lettered", record.message_id, len(items)
            )
        else:
            report.failed_message_ids.append(record.message_id)

    def _send_dead_letter(
        self, body: str, reason: str, attributes: dict[str, str], record: Record
    ) -> bool:
        try:
            self.dead_letter.send(body, reason[:MAX_REASON_CHARS], attributes)
        except BundleError:
            logger.exception(
                "could not dead-letter bulk message %s; redelivering", record.message_id
            )
            return False
        return True


def _log_item_failures(message_id: str, job_id: str | None, result: BatchResult) -> None:
    failed = result.failed
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
                    {"item": item.key, "code": item.code, "reason": item.reason} for item in part
                ],
            },
        )


class SqsDeadLetter:
    """Sends never-succeed messages to the DLQ with the reason as a message attribute."""

    def __init__(self, sender: MessageSender) -> None:
        self.sender = sender

    def send(self, body: str, reason: str, attributes: dict[str, str]) -> None:
        self.sender.send_one(body, {"reason": reason, **attributes}, what="dead letter")
