"""Bulk-queue messages: parse, send through the client, and account for every item.

An item ends in exactly one of three places: applied (accepted by TPNS), reported failed (a
permanent per-item refusal, logged and counted), or the dead-letter queue (invalid, or refused
for good at call level). A message whose items still hold transient failures is handed back for
redelivery, whole; SQS's redrive moves it to the DLQ after ``maxReceiveCount``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from tpns_account import (
    BatchOperation,
    BatchResult,
    CredentialsError,
    RequestValidationError,
    TpnsClient,
    UnknownAppError,
)
from tpns_account.models import LIST_FIELDS
from tpns_api import contract

logger = logging.getLogger(__name__)

ITEM_PATH = re.compile(r"^(token_accounts|token_list|account_list)\[(\d+)\]")
ENVELOPE_FIELDS = ("app", "job_id")
MAX_ITEMS_PER_LOG_LINE = 500
MAX_REASON_CHARS = 1000


class NeverSucceedsError(ValueError):
    """The message cannot succeed however often it is delivered (not JSON, wrong shape)."""


class DeadLetterSink(Protocol):
    def send(self, body: str, reason: str, attributes: dict[str, str]) -> None: ...


@dataclass(frozen=True, slots=True)
class Record:
    """One queue message, as the event source mapping delivers it."""

    message_id: str
    body: str
    receive_count: int = 1


@dataclass(slots=True)
class Message:
    record: Record
    operation: BatchOperation | None  # None when every item was invalid
    app: str | None
    job_id: str | None
    operation_name: str
    list_field: str
    rejected: list[tuple[Any, str]] = field(default_factory=list)


@dataclass(slots=True)
class BulkReport:
    failed_message_ids: list[str] = field(default_factory=list)
    accepted: int = 0
    failed: int = 0
    dead_lettered_messages: int = 0
    dead_lettered_items: int = 0
    retried_calls: int = 0
    calls: int = 0
    throttled: int = 0
    merged_duplicates: int = 0


def parse_message(record: Record) -> Message:
    """Read either message form; split off invalid items instead of refusing the message."""
    try:
        data = json.loads(record.body)
    except (ValueError, RecursionError):
        raise NeverSucceedsError("message body is not valid JSON") from None
    if not isinstance(data, dict):
        raise NeverSucceedsError("message body must be a JSON object")
    present = [name for name in LIST_FIELDS if name in data]
    if len(present) != 1:
        raise NeverSucceedsError(f"message must hold exactly one of {', '.join(LIST_FIELDS)}")
    list_field = present[0]
    items = data[list_field]
    if not isinstance(items, list) or not items:
        raise NeverSucceedsError(f"{list_field} must be a non-empty array")
    try:
        app = contract.parse_app(data.get("app"))
        job_id = contract.parse_job_id(data.get("job_id"))
    except RequestValidationError as exc:
        raise NeverSucceedsError(str(exc)) from None
    name = _operation_name(data)
    rejected: list[tuple[Any, str]] = []
    while items:
        try:
            operation = _operation(data, list_field, items)
        except RequestValidationError as exc:
            bad = _item_issues(exc)
            if bad is None:
                raise NeverSucceedsError(str(exc)) from None
            rejected += [(items[index], reason) for index, reason in sorted(bad.items())]
            items = [item for index, item in enumerate(items) if index not in bad]
            continue
        return Message(record, operation, app, job_id, name, list_field, rejected)
    return Message(record, None, app, job_id, name, list_field, rejected)


def _operation(data: dict[str, Any], list_field: str, items: list[Any]) -> BatchOperation:
    body = {k: v for k, v in data.items() if k not in ENVELOPE_FIELDS}
    body[list_field] = items
    if "operation" in body:
        return contract.parse_job(body).batch
    return BatchOperation.from_dict(body, duplicates="merge")


def _item_issues(exc: RequestValidationError) -> dict[int, str] | None:
    """Index → reason for item-level issues; None if any issue concerns the whole message."""
    bad: dict[int, str] = {}
    for issue in exc.issues:
        match = ITEM_PATH.match(issue.field)
        if match is None:
            return None
        bad.setdefault(int(match.group(2)), str(issue))
    return bad


def _operation_name(data: dict[str, Any]) -> str:
    operation = data.get("operation")
    if operation in ("bind", "unbind"):
        return str(operation)
    return "bind" if data.get("operator_type") in (1, 2) else "unbind"


class BulkProcessor:
    """Processes one delivered batch of bulk messages (any number of items each)."""

    def __init__(self, client: TpnsClient, dead_letter: DeadLetterSink) -> None:
        self.client = client
        self.dead_letter = dead_letter

    def process(self, records: Sequence[Record], *, time_budget: float) -> BulkReport:
        report = BulkReport()
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
            leftovers += [(_wire(item.item), str(item.error)) for item in outcome.errored]
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
        body: dict[str, Any] = {"operation": message.operation_name}
        if message.app:
            body["app"] = message.app
        if message.job_id:
            body["job_id"] = message.job_id
        body[message.list_field] = [item for item, _ in items]
        body["reasons"] = [reason for _, reason in items]
        reason = f"{len(items)} item(s) can never succeed; first: {items[0][1]}"
        attributes = {
            "source_message_id": record.message_id,
            "receive_count": str(record.receive_count),
        }
        if self._send_dead_letter(json.dumps(body), reason, attributes, record):
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
        except Exception:
            logger.exception(
                "could not dead-letter bulk message %s; redelivering", record.message_id
            )
            return False
        return True


def _wire(item: Any) -> Any:
    return item.to_dict() if hasattr(item, "to_dict") else item


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

    def __init__(self, queue_url: str, sqs: Any) -> None:
        self.queue_url = queue_url
        self.sqs = sqs

    def send(self, body: str, reason: str, attributes: dict[str, str]) -> None:
        message_attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in {"reason": reason, **attributes}.items()
            if value
        }
        self.sqs.send_message(
            QueueUrl=self.queue_url, MessageBody=body, MessageAttributes=message_attributes
        )
