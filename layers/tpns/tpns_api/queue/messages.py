"""The bulk queue's messages: reading either form, and writing ``/v1/jobs``'s.

A message is ``{"operation": "bind" | "unbind", "app"?, "job_id"?, "issued_at"?, <list field>}``
or a raw TPNS batchoperate body (``{"operator_type": 2, "token_accounts": [...]}``, a top-level
``account_type`` typing its untyped accounts), with any number of items. Invalid items are split
off (they go to the dead-letter queue with their reasons) rather than failing the message.

A backfill travels wrapped, ``{"backfill": {"operation": "backfill", <token_list or
account_list>, ...}}``, so that no consumer that does not know it (an older version) can take
it for an unbind: it cannot parse, and goes to the dead-letter queue.

``issued_at`` (epoch milliseconds or RFC 3339) orders the message's writes in the ledger; without
it, the message's ``SentTimestamp`` does. ``/v1/jobs`` and the cleanup also write ``part``
(which message of the job) and ``offset`` (the job-wide index of its first item). A dead
letter the bulk function writes carries ``op_id``, the operation it came from, so that sending
it back (a redrive) is that operation again for the ledger.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Final, Literal

from tpns_account import BatchOperation, RequestValidationError
from tpns_account.models import LIST_FIELDS, wire
from tpns_account.validation import MISSING, invalid, json_object
from tpns_account.values import Value, field
from tpns_api.errors import NeverSucceedsError
from tpns_api.http import contract
from tpns_api.queue.sqs import MAX_MESSAGE_BYTES

ITEM_PATH = re.compile(r"^(token_accounts|token_list|account_list)\[(\d+)\]")
ENVELOPE_FIELDS = ("app", "job_id", "part", "offset", "issued_at", "op_id", "reasons")
#: The plausible range of a producer's ``issued_at`` (epoch ms): from 2015-01-01, to a little
#: ahead of this function's clock (clocks differ by seconds, not by a quarter of an hour).
EARLIEST_ISSUED_AT_MS: Final = 1_420_070_400_000
MAX_ISSUED_AHEAD_MS: Final = 15 * 60 * 1000
#: A dead letter's ``op_id``: the operation it was (``<job>.<part>``, or an SQS message id).
OP_ID = re.compile(r"[\x21-\x7e]{1,200}(?![\s\S])")
BACKFILL: Final = "backfill"
MessageKind = Literal["write", "backfill"]


class Record(Value):
    """One queue message, as the event source mapping delivers it."""

    message_id: str
    body: str
    receive_count: int = 1
    sent_at_ms: int | None = None


class Message(Value, frozen=False):
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
    kind: MessageKind = "write"  # a backfill's items are asked about, never written to TPNS
    given_op_id: str | None = None  # a dead letter's: the operation it was part of

    @property
    def op_id(self) -> str:
        """The ledger's name for this message's operation: stable across redeliveries, and
        across a redrive of its dead letter (which carries it as ``op_id``)."""
        if self.given_op_id is not None:
            return self.given_op_id
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
        data = json_object(
            record.body,
            not_json="message body is not valid JSON",
            not_object="message body must be a JSON object",
        )
    except ValueError as exc:
        raise NeverSucceedsError(str(exc)) from None
    data, kind = _unwrapped(data)
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
        op_id = _op_id(data.get("op_id"))
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
        return Message(
            record,
            operation,
            *head,
            rejected=rejected,
            positions=positions,
            kind=kind,
            given_op_id=op_id,
        )
    return Message(record, None, *head, rejected=rejected, kind=kind, given_op_id=op_id)


def _unwrapped(data: dict[str, Any]) -> tuple[dict[str, Any], MessageKind]:
    """A backfill's body out of its wrapping; any other message as it is."""
    if BACKFILL not in data:
        if data.get("operation") == BACKFILL:
            raise NeverSucceedsError(
                'a backfill travels as {"backfill": {...}}, so that nothing takes it for an unbind'
            )
        return data, "write"
    inner = data[BACKFILL]
    if set(data) != {BACKFILL} or not isinstance(inner, dict):
        raise NeverSucceedsError('a backfill message is {"backfill": {...}} and nothing else')
    if inner.get("operation") != BACKFILL:
        raise NeverSucceedsError('a backfill message\'s body has "operation": "backfill"')
    return inner, "backfill"


def parse_issued_at(value: object, sent_at_ms: int | None) -> int:
    """``issued_at`` as epoch ms: the message's field, else when SQS received it, else now.

    A producer's value must be a plausible instant: one before 2015 is most likely epoch
    seconds (it would lose to everything), one far ahead of now would win over everything
    issued until then.
    """
    now_ms = int(time.time() * 1000)
    if value is MISSING:
        return sent_at_ms if sent_at_ms is not None else now_ms
    issued_at_ms = _instant_ms(value)
    if issued_at_ms is None:
        raise invalid("issued_at", "must be epoch milliseconds or an RFC 3339 time with its offset")
    if issued_at_ms < EARLIEST_ISSUED_AT_MS:
        raise invalid("issued_at", "is before 2015: epoch milliseconds, not seconds")
    if issued_at_ms > now_ms + MAX_ISSUED_AHEAD_MS:
        ahead_min = MAX_ISSUED_AHEAD_MS // 60_000
        raise invalid(
            "issued_at", f"is more than {ahead_min} minutes ahead of now: check the clock"
        )
    return issued_at_ms


def _instant_ms(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is not None:
            return int(moment.timestamp() * 1000)
    return None


def _position(data: Mapping[str, Any]) -> tuple[int | None, int]:
    part, offset = data.get("part"), data.get("offset", 0)
    for name, value in (("part", part), ("offset", offset)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise invalid(name, "must be a non-negative integer when given")
    return part, offset


def _op_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not OP_ID.match(value):
        raise invalid("op_id", "must be 1-200 printable ASCII characters when given")
    return value


def job_messages(
    batch: BatchOperation, head: Mapping[str, Any], *, first_part: int = 0, first_index: int = 0
) -> Iterator[str]:
    """Bulk-queue messages of at most ``MAX_MESSAGE_BYTES``, items in input order.

    ``head`` is what every message carries (operation, job_id, app, issued_at); each message
    also names its ``part`` of the job and the job-wide ``offset`` of its first item. A
    backfill's messages are wrapped (see the module's docstring).
    """
    head = dict(head)
    if batch.platform:
        head["platform"] = batch.platform
    wrap = head.get("operation") == BACKFILL

    def body(number: int, offset: int, items: list[Any]) -> str:
        content = {**head, "part": number, "offset": offset, batch.list_field: items}
        return json.dumps({BACKFILL: content} if wrap else content)

    overhead = len(body(0, 0, [])) + 32
    part: list[Any] = []
    number, offset, size = first_part, first_index, overhead
    for item in (wire(item) for item in batch.items):
        item_size = len(json.dumps(item)) + 1  # ASCII-escaped: SQS refuses some characters
        if part and size + item_size > MAX_MESSAGE_BYTES:
            yield body(number, offset, part)
            number, offset, part, size = number + 1, offset + len(part), [], overhead
        part.append(item)
        size += item_size
    if part:
        yield body(number, offset, part)


def dead_letter_body(message: Message, items: list[tuple[Any, str]]) -> str:
    """The message of just ``items`` (each with its reason), resendable as it is: it keeps its
    ``issued_at``, so a redrive never makes it newer than what was issued after it, and its
    ``op_id``, so the ledger takes a redrive for the operation it recorded (a new message id
    would order it before or after its own record by chance, and half the time superseded)."""
    body: dict[str, Any] = {
        "operation": message.operation_name,
        "issued_at": message.issued_at_ms,
        "op_id": message.op_id,
    }
    if message.app:
        body["app"] = message.app
    if message.job_id:
        body["job_id"] = message.job_id
    body[message.list_field] = [item for item, _ in items]
    body["reasons"] = [reason for _, reason in items]
    return json.dumps({BACKFILL: body} if message.kind == "backfill" else body)


def _operation(data: Mapping[str, Any], list_field: str, items: list[Any]) -> BatchOperation:
    body = {k: v for k, v in data.items() if k not in ENVELOPE_FIELDS}
    body[list_field] = items
    if "operation" in body:
        batch = contract.parse_job(body).batch
        if batch is None:
            raise invalid("operation", 'an export travels as {"export": {...}}')
        return batch
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
    if operation in ("bind", "unbind", BACKFILL):
        return str(operation)
    return "bind" if data.get("operator_type") in (1, 2) else "unbind"
