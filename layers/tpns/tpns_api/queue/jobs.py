"""POST /v1/jobs: a bulk request of any size becomes bulk-queue messages, answered 202."""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass

from tpns_account import CredentialsProvider, SecretsManagerCredentials, Settings
from tpns_api.deadline import Deadline
from tpns_api.errors import QueueUnavailableError
from tpns_api.http.answers import ApiResponse
from tpns_api.http.contract import JobRequest
from tpns_api.queue.messages import job_messages
from tpns_api.queue.sqs import MessageSender

logger = logging.getLogger(__name__)


@dataclass
class JobSubmitter:
    sender: MessageSender
    credentials: CredentialsProvider

    @classmethod
    def from_env(cls) -> JobSubmitter:
        """The jobs function's submitter: the template's queue, the secret for app names."""
        import boto3

        settings = Settings.from_env()
        credentials = SecretsManagerCredentials(
            settings.secret_id, max_age=settings.secret_max_age_s
        )
        sender = MessageSender(boto3.client("sqs"), os.environ["BULK_QUEUE_URL"])
        return cls(sender, credentials)

    def submit(self, job: JobRequest, deadline: Deadline) -> ApiResponse:
        """Queue the job's messages; 202 with the job's id."""
        self.credentials.get(job.app)  # an unknown app is refused now, not in the DLQ later
        job_id = job.job_id or uuid.uuid4().hex
        messages = list(job_messages(job, job_id))
        try:
            self.sender.send(messages, what=f"job {job_id}")
        except QueueUnavailableError as exc:
            raise QueueUnavailableError(
                f"{exc.message}; resubmitting the job is safe (binds and unbinds are idempotent)"
            ) from None
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
