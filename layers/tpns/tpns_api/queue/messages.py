"""The bulk queue's messages: reading either form, and writing ``/v1/jobs``'s.

A message is ``{"operation": "bind" | "unbind", "app"?, "job_id"?, <list field>}`` or a raw
TPNS batchoperate body (``{"operator_type": 2, "token_accounts": [...]}``, a top-level
``account_type`` typing its untyped accounts), with any number of items. Invalid items are split
off (they go to the dead-letter queue with their reasons) rather than failing the message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tpns_account import BatchOperation, RequestValidationError
from tpns_account.models import LIST_FIELDS, wire
from tpns_account.validation import MISSING
from tpns_api.errors import NeverSucceedsError
from tpns_api.http import contract
from tpns_api.queue.sqs import MAX_MESSAGE_BYTES

ITEM_PATH = re.compile(r"^(token_accounts|token_list|account_list)\[(\d+)\]")
ENVELOPE_FIELDS = ("app", "job_id")


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


def job_messages(job: contract.JobRequest, job_id: str) -> Iterator[str]:
    """Bulk-queue messages of at most ``MAX_MESSAGE_BYTES``, items in input order."""
    batch = job.batch
    head: dict[str, Any] = {"operation": job.operation, "job_id": job_id}
    if job.app:
        head["app"] = job.app
    if batch.platform:
        head["platform"] = batch.platform
    overhead = len(json.dumps({**head, batch.list_field: []}).encode()) + 16
    part: list[Any] = []
    size = overhead
    for item in (wire(item) for item in batch.items):
        item_size = len(json.dumps(item)) + 1  # ASCII-escaped: SQS refuses some characters
        if part and size + item_size > MAX_MESSAGE_BYTES:
            yield json.dumps({**head, batch.list_field: part})
            part, size = [], overhead
        part.append(item)
        size += item_size
    if part:
        yield json.dumps({**head, batch.list_field: part})


def dead_letter_body(message: Message, items: list[tuple[Any, str]]) -> str:
    """The message of just ``items`` (each with its reason), resendable as it is."""
    body: dict[str, Any] = {"operation": message.operation_name}
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
