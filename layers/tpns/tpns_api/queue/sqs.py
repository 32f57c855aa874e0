"""Sending to SQS: batches within SQS's limits, one retry rule, one error when it gives up."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from tpns_account import SettingsError
from tpns_api.errors import QueueUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        MessageAttributeValueTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024  # ours: well under SQS's 256 KiB, so a batch holds several
MAX_BATCH_BYTES = 240 * 1024  # SQS caps a SendMessageBatch at 256 KiB in total
MAX_BATCH_ENTRIES = 10
#: A queue's maxReceiveCount when the template gives none (its default, BulkMaxReceiveCount).
DEFAULT_MAX_RECEIVE_COUNT = 5
SEND_ATTEMPTS = 3
RETRY_DELAY_S = 0.2


class MessageSender:
    """Queues message bodies on one queue, in as few ``SendMessageBatch`` calls as fit.

    Entries SQS failed on its side (or whose call failed) are sent again, up to
    ``SEND_ATTEMPTS`` rounds; an entry SQS refused as such (``SenderFault``) is not. Whatever
    is left raises ``QueueUnavailableError`` saying how many of how many were not queued.
    """

    def __init__(self, sqs: SQSClient, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url

    def send(
        self,
        bodies: Sequence[str],
        *,
        what: str,
        delay_s: int = 0,
        attributes: Sequence[Mapping[str, str]] | None = None,
    ) -> None:
        pending = dict(enumerate(bodies))
        refused: set[int] = set()
        for attempt in range(SEND_ATTEMPTS):
            if attempt:
                time.sleep(RETRY_DELAY_S * attempt)
            for batch in _batches(pending):
                entries = [_entry(i, pending[i], delay_s, attributes) for i in batch]
                refused |= self._send_batch(entries, pending, what)
            if not pending:
                break
        if refused:
            logger.error("%s: SQS refused %d message(s) as sent", what, len(refused))
        unsent = tuple(sorted({*pending, *refused}))
        if unsent:
            raise QueueUnavailableError(
                f"{what}: {len(unsent)} of {len(bodies)} messages could not be queued", unsent
            )

    def _send_batch(
        self, entries: list[SendMessageBatchRequestEntryTypeDef], pending: dict[int, str], what: str
    ) -> set[int]:
        """One ``SendMessageBatch``: what was queued leaves ``pending``; what SQS refused as
        sent (``SenderFault``) leaves it too, and is returned."""
        try:
            answer = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("%s: SendMessageBatch failed (%s)", what, type(exc).__name__)
            return set()
        for ok in answer.get("Successful", []):
            pending.pop(int(ok["Id"]), None)
        refused = {int(f["Id"]) for f in answer.get("Failed", []) if f.get("SenderFault")}
        for index in refused:
            pending.pop(index, None)
        return refused

    def send_one(self, body: str, attributes: Mapping[str, str], *, what: str) -> None:
        """One message with string attributes (a dead letter and its reason)."""
        self.send([body], what=what, attributes=[attributes])


def _entry(
    index: int, body: str, delay_s: int, attributes: Sequence[Mapping[str, str]] | None
) -> SendMessageBatchRequestEntryTypeDef:
    entry: SendMessageBatchRequestEntryTypeDef = {"Id": str(index), "MessageBody": body}
    if delay_s:
        entry["DelaySeconds"] = delay_s
    if attributes is not None:
        values: dict[str, MessageAttributeValueTypeDef] = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in attributes[index].items()
            if value
        }
        entry["MessageAttributes"] = values
    return entry


def _batches(pending: Mapping[int, str]) -> Iterator[list[int]]:
    batch: list[int] = []
    size = 0
    for index, message in list(pending.items()):
        length = len(message.encode())
        if batch and (len(batch) == MAX_BATCH_ENTRIES or size + length > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(index)
        size += length
    if batch:
        yield batch


def max_receive_count(variable: str) -> int:
    """The receives a queue function's messages get (``variable``, as the template sets it)."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return DEFAULT_MAX_RECEIVE_COUNT
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{variable} must be a positive integer, got {raw!r}")
    return int(raw)
