"""The bulk queue's messages: reading either form, and writing ``/v1/jobs``'s.

A message is ``{"operation": "bind" | "unbind", "app"?, "job_id"?, "issued_at"?, <list field>}``
or a raw TPNS batchoperate body (``{"operator_type": 2, "token_accounts": [...]}``, a top-level
``account_type`` typing its untyped accounts), with any number of items. Invalid items are split
off (they go to the dead-letter queue with their reasons) rather than failing the message.

``issued_at`` (epoch milliseconds or RFC 3339) orders the message's writes in the ledger; without
it, the message's ``SentTimestamp`` does. ``/v1/jobs`` and the cleanup also write ``part``
(which message of the job) and ``offset`` (the job-wide index of its first item).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tpns_account import BatchOperation, RequestValidationError
from tpns_account.models import LIST_FIELDS, wire
from tpns_account.validation import MISSING, invalid
from tpns_api.errors import NeverSucceedsError
from tpns_api.http import contract
from tpns_api.queue.sqs import MAX_MESSAGE_BYTES

ITEM_PATH = re.compile(r"^(token_accounts|token_list|account_list)\[(\d+)\]")
ENVELOPE_FIELDS = ("app", "job_id", "part", "offset", "issued_at", "reasons")


@dataclass(frozen=True, slots=True)
class Record:
    """One queue message, as the event source mapping delivers it."""

    message_id: str
    body: str
    receive_count: int = 1
    sent_at_ms: int | None = None


@dataclass(slots=True)
class Message:
    record: Record
    operation: BatchOperation | None  # None when every item was invalid
    app: str | None
    job_id: str | None
    operation_name: str
    list_field: str
    issued_at_ms: int
    part: int | None = None
    offset: int = 0
    rejected: list[tuple[int, Any, str]] = field(default_factory=list)
    #: The index in the message of each item of ``operation`` (the rest were rejected).
    positions: list[int] = field(default_factory=list)

    @property
    def op_id(self) -> str:
        """The ledger's name for this message's operation: stable across redeliveries."""
        if self.job_id is not None and self.part is not None:
            return f"{self.job_id}.{self.part}"
        return self.record.message_id


def records_of(event: Mapping[str, Any]) -> list[Record]:
    """The records of an SQS event, as the event source mapping delivers them."""
    records = []
    for raw in event.get("Records", []):
        attributes = raw.get("attributes", {})
        sent = attributes.get("SentTimestamp")
        records.append(
            Record(
                raw["messageId"],
                raw["body"],
                int(attributes.get("ApproximateReceiveCount", 1)),
                int(sent) if isinstance(sent, str) and sent.isdigit() else None,
            )
        )
    return records


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
        app = contract.parse_app(data.get("app", MISSING))
        job_id = contract.parse_name("job_id", data.get("job_id", MISSING))
        issued_at = parse_issued_at(data.get("issued_at", MISSING), record.sent_at_ms)
        part, offset = _position(data)
    except RequestValidationError as exc:
        raise NeverSucceedsError(str(exc)) from None
    head = (app, job_id, _operation_name(data), list_field, issued_at, part, offset)
    rejected: list[tuple[int, Any, str]] = []
    positions = list(range(len(items)))
    while items:
        try:
            operation = _operation(data, list_field, items)
        except RequestValidationError as exc:
            bad = _item_issues(exc)
            if bad is None:
                raise NeverSucceedsError(str(exc)) from None
            rejected += [(positions[i], items[i], reason) for i, reason in sorted(bad.items())]
            positions = [p for i, p in enumerate(positions) if i not in bad]
            items = [item for i, item in enumerate(items) if i not in bad]
            continue
        return Message(record, operation, *head, rejected=rejected, positions=positions)
    return Message(record, None, *head, rejected=rejected)


def parse_issued_at(value: object, sent_at_ms: int | None) -> int:
    """``issued_at`` as epoch ms: the message's field, else when SQS received it, else now."""
    if value is MISSING:
        return sent_at_ms if sent_at_ms is not None else int(time.time() * 1000)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return int(moment.timestamp() * 1000)
    raise invalid("issued_at", "must be epoch milliseconds or an RFC 3339 time with its offset")


def _position(data: Mapping[str, Any]) -> tuple[int | None, int]:
    part, offset = data.get("part"), data.get("offset", 0)
    for name, value in (("part", part), ("offset", offset)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise invalid(name, "must be a non-negative integer when given")
    return part, offset


def job_messages(
    batch: BatchOperation, head: Mapping[str, Any], *, first_part: int = 0, first_index: int = 0
) -> Iterator[str]:
    """Bulk-queue messages of at most ``MAX_MESSAGE_BYTES``, items in input order.

    ``head`` is what every message carries (operation, job_id, app, issued_at); each message
    also names its ``part`` of the job and the job-wide ``offset`` of its first item.
    """
    head = dict(head)
    if batch.platform:
        head["platform"] = batch.platform
    overhead = len(json.dumps({**head, "part": 0, "offset": 0, batch.list_field: []})) + 32
    part: list[Any] = []
    number, offset, size = first_part, first_index, overhead
    for item in (wire(item) for item in batch.items):
        item_size = len(json.dumps(item)) + 1  # ASCII-escaped: SQS refuses some characters
        if part and size + item_size > MAX_MESSAGE_BYTES:
            yield json.dumps({**head, "part": number, "offset": offset, batch.list_field: part})
            number, offset, part, size = number + 1, offset + len(part), [], overhead
        part.append(item)
        size += item_size
    if part:
        yield json.dumps({**head, "part": number, "offset": offset, batch.list_field: part})


def dead_letter_body(message: Message, items: list[tuple[Any, str]]) -> str:
    """The message of just ``items`` (each with its reason), resendable as it is: it keeps its
    ``issued_at``, so a redrive never makes it newer than what was issued after it."""
    body: dict[str, Any] = {"operation": message.operation_name, "issued_at": message.issued_at_ms}
    if message.app:
        body["app"] = message.app
    if message.job_id:
        body["job_id"] = message.job_id
    body[message.list_field] = [item for item, _ in items]
    body["reasons"] = [reason for _, reason in items]
    return json.dumps(body)


def _operation(data: Mapping[str, Any], list_field: str, items: list[Any]) -> BatchOperation:
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


def _operation_name(data: Mapping[str, Any]) -> str:
    operation = data.get("operation")
    if operation in ("bind", "unbind"):
        return str(operation)
    return "bind" if data.get("operator_type") in (1, 2) else "unbind"
