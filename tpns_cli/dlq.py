"""The bulk dead-letter queue: list what is in it, and move it back once the cause is fixed.

A redrive sends each message's body to the bulk queue exactly as it is (byte for byte: a
dead-lettered body keeps its ``issued_at``, so the ledger still orders it where it was issued,
never as a newer write) and deletes it from the DLQ only after SQS took the copy. A message
whose copy SQS refused stays in the DLQ. Listing and dry runs move nothing: messages they
receive are made visible again at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Final, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from tpns_account.models import LIST_FIELDS
from tpns_cli.errors import QueueError
from tpns_cli.target import Queues

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeNameType
    from mypy_boto3_sqs.type_defs import (
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        MessageTypeDef,
    )

BATCH: Final = 10  # SQS's most per receive, send and delete batch
#: How long a received message stays hidden: long enough to copy and delete a batch.
MOVE_VISIBILITY_S: Final = 120
PEEK_VISIBILITY_S: Final = 30  # then made visible again at once
WAIT_S: Final = 1  # long polling: an empty answer means the queue is (nearly) empty
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One message of the DLQ, with what its body and attributes say about it."""

    message_id: str
    body: str
    receipt: str
    reason: str | None
    sent_at_ms: int | None
    deliveries: str | None  # on the bulk queue, when the bulk function dead-lettered it

    @classmethod
    def of(cls, message: MessageTypeDef) -> DeadLetter:
        attributes = message.get("Attributes") or {}
        values = message.get("MessageAttributes") or {}
        reason, deliveries = values.get("reason"), values.get("receive_count")
        sent = attributes.get("SentTimestamp")
        return cls(
            message["MessageId"],
            message["Body"],
            message["ReceiptHandle"],
            reason.get("StringValue") if reason else None,
            int(sent) if sent and sent.isdigit() else None,
            deliveries.get("StringValue") if deliveries else None,
        )

    def summary(self) -> dict[str, Any]:
        """``job_id``, ``operation`` and the item count, when the body is a bulk message."""
        try:
            data = json.loads(self.body)
        except ValueError:
            return {}
        if not isinstance(data, dict):
            return {}
        items = next((data[f] for f in LIST_FIELDS if isinstance(data.get(f), list)), None)
        return {
            "job_id": data.get("job_id"),
            "operation": data.get("operation") or data.get("operator_type"),
            "items": None if items is None else len(items),
        }


@dataclass(frozen=True, slots=True)
class Redrive:
    """What a redrive did: moved, or left in the DLQ because SQS refused the copy."""

    moved: int
    not_sent: int
    sent_not_deleted: int  # on the bulk queue and still in the DLQ: will come back
    left: int  # ApproximateNumberOfMessages of the DLQ afterwards


def peek(queues: Queues, limit: int) -> list[DeadLetter]:
    """Up to ``limit`` messages of the DLQ, each once, left in it and visible again."""
    seen: dict[str, DeadLetter] = {}
    try:
        while len(seen) < limit:
            batch = _receive(queues, min(BATCH, limit - len(seen)), PEEK_VISIBILITY_S)
            fresh = [m for m in batch if m.message_id not in seen]
            if not fresh:
                break
            seen.update((m.message_id, m) for m in fresh)
    finally:
        _show_again(queues, list(seen.values()))
    return list(seen.values())


def redrive(queues: Queues, max_messages: int | None = None) -> Redrive:
    """Move up to ``max_messages`` (all when None) from the DLQ to the bulk queue."""
    moved = not_sent = not_deleted = 0
    while max_messages is None or moved + not_sent < max_messages:
        room = BATCH if max_messages is None else min(BATCH, max_messages - moved - not_sent)
        batch = _receive(queues, room, MOVE_VISIBILITY_S)
        if not batch:
            break
        try:
            sent = _send_copies(queues, batch)
        except QueueError:
            _show_again(queues, batch)  # not copied: a retry may take them at once
            raise
        not_sent += len(batch) - len(sent)
        deleted = _delete(queues, sent)
        moved += len(sent)
        not_deleted += len(sent) - deleted
    return Redrive(moved, not_sent, not_deleted, depth(queues))


def depth(queues: Queues) -> int:
    """Messages in the DLQ, visible or not (SQS's approximate counts)."""
    names: list[QueueAttributeNameType] = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
    ]
    answer = _sqs(
        lambda: queues.sqs.get_queue_attributes(QueueUrl=queues.dlq_url, AttributeNames=names)
    )
    attributes = answer.get("Attributes", {})
    return sum(int(attributes.get(name, "0")) for name in names)


def _receive(queues: Queues, count: int, visibility_s: int) -> list[DeadLetter]:
    answer = _sqs(
        lambda: queues.sqs.receive_message(
            QueueUrl=queues.dlq_url,
            MaxNumberOfMessages=count,
            VisibilityTimeout=visibility_s,
            WaitTimeSeconds=WAIT_S,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
    )
    return [DeadLetter.of(message) for message in answer.get("Messages", [])]


def _send_copies(queues: Queues, batch: Sequence[DeadLetter]) -> list[DeadLetter]:
    """Copy each body to the bulk queue as it is; the messages SQS took."""
    answer = _sqs(
        lambda: queues.sqs.send_message_batch(
            QueueUrl=queues.queue_url,
            Entries=[{"Id": str(i), "MessageBody": m.body} for i, m in enumerate(batch)],
        )
    )
    taken = {int(entry["Id"]) for entry in answer.get("Successful", [])}
    return [m for i, m in enumerate(batch) if i in taken]


def _delete(queues: Queues, messages: Sequence[DeadLetter]) -> int:
    """Delete the copied messages from the DLQ; how many were deleted."""
    if not messages:
        return 0
    answer = _sqs(
        lambda: queues.sqs.delete_message_batch(
            QueueUrl=queues.dlq_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m.receipt} for i, m in enumerate(messages)],
        )
    )
    return len(answer.get("Successful", []))


def _show_again(queues: Queues, messages: Sequence[DeadLetter]) -> None:
    """Make peeked messages visible again now (a redrive right after a listing sees them)."""
    for chunk in _chunks(messages, BATCH):
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": m.receipt, "VisibilityTimeout": 0}
            for i, m in enumerate(chunk)
        ]
        _sqs(
            partial(
                queues.sqs.change_message_visibility_batch, QueueUrl=queues.dlq_url, Entries=entries
            )
        )


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sqs(call: Callable[[], T]) -> T:
    try:
        return call()
    except (BotoCoreError, ClientError) as exc:
        raise QueueError(f"SQS: {exc}") from None
