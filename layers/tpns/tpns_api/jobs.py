"""POST /v1/jobs: a bulk request of any size becomes bulk-queue messages, answered 202."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tpns_account import CredentialsProvider
from tpns_account.errors import UpstreamUnavailableError
from tpns_api import contract
from tpns_api.answers import ApiResponse

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024
MAX_BATCH_BYTES = 240 * 1024  # SQS caps a SendMessageBatch at 256 KiB in total
MAX_BATCH_ENTRIES = 10
SEND_ATTEMPTS = 3


@dataclass
class JobSubmitter:
    queue_url: str
    sqs: SQSClient
    credentials: CredentialsProvider

    def submit(self, data: Any) -> ApiResponse:
        job = contract.parse_job(data)
        self.credentials.get(job.app)  # an unknown app is refused now, not in the DLQ later
        job_id = job.job_id or uuid.uuid4().hex
        messages = list(job_messages(job, job_id))
        self._send(messages, job_id)
        logger.info(
            "job %s queued: %d items in %d messages", job_id, len(job.batch.items), len(messages)
        )
        body = {
            "job_id": job_id,
            "operation": job.operation,
            "operator_type": job.batch.wire_operator_type,
            "items": len(job.batch.items),
            "merged_duplicates": job.batch.merged_duplicates,
            "messages": len(messages),
        }
        return ApiResponse(202, body)

    def _send(self, messages: list[str], job_id: str) -> None:
        pending = dict(enumerate(messages))
        for _ in range(SEND_ATTEMPTS):
            for batch in list(_batches(pending)):
                entries = [{"Id": str(i), "MessageBody": pending[i]} for i in batch]
                try:
                    answer = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)  # type: ignore[arg-type]
                except Exception as exc:
                    logger.error("job %s: SendMessageBatch failed (%s)", job_id, type(exc).__name__)
                    continue
                for ok in answer.get("Successful", []):
                    pending.pop(int(ok["Id"]), None)
                if any(f.get("SenderFault") for f in answer.get("Failed", [])):
                    break  # our request was refused as such: sending it again will not help
            if not pending:
                return
        raise UpstreamUnavailableError(
            f"job {job_id}: {len(pending)} of {len(messages)} messages could not be queued; "
            "resubmitting the job is safe (binds and unbinds are idempotent)"
        )


def job_messages(job: contract.JobRequest, job_id: str) -> Iterator[str]:
    """Bulk-queue messages of at most MAX_MESSAGE_BYTES, items in input order."""
    batch = job.batch
    head: dict[str, Any] = {"operation": job.operation, "job_id": job_id}
    if job.app:
        head["app"] = job.app
    wire = batch.to_dict()
    if batch.platform:
        head["platform"] = batch.platform
    items = wire[batch.list_field]
    overhead = len(json.dumps({**head, batch.list_field: []}).encode()) + 16
    part: list[Any] = []
    size = overhead
    for item in items:
        item_size = len(json.dumps(item)) + 1  # ASCII-escaped: SQS refuses some characters
        if part and size + item_size > MAX_MESSAGE_BYTES:
            yield json.dumps({**head, batch.list_field: part})
            part, size = [], overhead
        part.append(item)
        size += item_size
    if part:
        yield json.dumps({**head, batch.list_field: part})


def _batches(pending: dict[int, str]) -> Iterator[list[int]]:
    batch: list[int] = []
    size = 0
    for index, message in pending.items():
        length = len(message.encode())
        if batch and (len(batch) == MAX_BATCH_ENTRIES or size + length > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(index)
        size += length
    if batch:
        yield batch
