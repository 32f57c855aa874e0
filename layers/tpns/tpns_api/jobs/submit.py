"""POST /v1/jobs: a bulk request of any size becomes a job and its bulk-queue messages (202).

The job's record is written before its messages are queued, so every message has a job to
count in. With an ``Idempotency-Key``, a retried request answers the first one's job and
queues nothing; a first attempt that died halfway is finished by the retry under its job id
(its messages carry their part numbers, so a part queued twice still counts once).
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from tpns_account import CredentialsProvider, SecretsManagerCredentials, Settings, SettingsError
from tpns_account.validation import invalid
from tpns_account.values import Value, replace
from tpns_api.deadline import Deadline
from tpns_api.errors import BundleError, QueueUnavailableError
from tpns_api.http.answers import ApiResponse
from tpns_api.http.contract import JobRequest
from tpns_api.http.lookups import JobLookup
from tpns_api.jobs.idempotency import IdempotencyStore
from tpns_api.jobs.model import Counts, Failure
from tpns_api.jobs.store import JobStore, NewJob
from tpns_api.jobs.wiring import jobs_from_env
from tpns_api.ledger.wiring import ledger_on
from tpns_api.queue.messages import BACKFILL, job_messages
from tpns_api.queue.sqs import MessageSender

logger = logging.getLogger(__name__)

NOT_QUEUED = "not queued: the bulk queue did not take its message"


class JobExistsError(BundleError):
    """The body names a ``job_id`` another job already has."""


class JobSubmitter(Value, frozen=False):
    sender: MessageSender
    credentials: CredentialsProvider
    jobs: JobStore
    idempotency: IdempotencyStore
    verifying: bool  # the ledger is on: accepted items are verified before the job finishes

    @classmethod
    def from_env(cls, clock: Callable[[], float] = time.time) -> JobSubmitter:
        """The jobs function's submitter, as the template wires it."""
        from tpns_account import aws

        settings = Settings.from_env()
        credentials = SecretsManagerCredentials(
            settings.secret_id, max_age=settings.secret_max_age_s
        )
        jobs = jobs_from_env(clock)
        if jobs is None:
            raise SettingsError("JOBS_TABLE is required by the jobs function")
        return cls(
            MessageSender(aws.client("sqs"), os.environ["BULK_QUEUE_URL"]),
            credentials,
            jobs,
            IdempotencyStore(jobs.table, clock),
            verifying=ledger_on(),
        )

    def submit(self, job: JobRequest, deadline: Deadline) -> ApiResponse:
        """Record the job, queue its messages; 202 with where to watch it."""
        self.credentials.get(job.app)  # an unknown app is refused now, not in the DLQ later
        if job.operation in ("backfill", "export") and not self.verifying:
            raise invalid(
                "operation", f"{job.operation} needs the ledger: this deployment keeps none"
            )
        job_id = job.job_id or uuid.uuid4().hex
        key = job.idempotency_key
        resuming = False
        if key is not None:
            claim = self.idempotency.claim(job.caller, key, job.body_hash, job_id, job.issued_at_ms)
            if claim.kind == "replay" and claim.answer is not None:
                return self._accepted(job, {**claim.answer, "replayed": True})
            job_id, resuming = claim.job_id, claim.kind == "resume"
            job = replace(job, issued_at_ms=claim.issued_at_ms)
        new, messages, answer = self._plan(job, job_id)
        if not self.jobs.create(new) and not resuming:
            if key is not None:
                self.idempotency.release(job.caller, key)
            raise JobExistsError(f"job_id: {job_id!r} is taken by another job; choose another")
        try:
            self.sender.send(messages, what=f"job {job_id}")
        except QueueUnavailableError as exc:
            raise self._not_queued(job, job_id, messages, exc) from None
        logger.info(
            "job %s queued: %s items in %d messages", job_id, new.items_total, len(messages)
        )
        if key is not None:
            self.idempotency.complete(job.caller, key, answer)
        return self._accepted(job, answer)

    def _plan(self, job: JobRequest, job_id: str) -> tuple[NewJob, list[str], dict[str, Any]]:
        """The job's record, its messages, and the answer that says what was queued."""
        answer: dict[str, Any] = {"job_id": job_id, "state": "queued", "operation": job.operation}
        if job.batch is None:  # an export: its first page; each page queues the next
            from tpns_api.ledger.export import ExportPage  # (the ledger's store: exports only)

            new = NewJob(job_id, "export", None, job.app, "export", None, None, False)
            messages = [ExportPage(job_id, job.app).to_json()]
            return new, messages, {**answer, "operator_type": None, "items": None, "messages": 1}
        head: dict[str, Any] = {"operation": job.operation, "job_id": job_id}
        head |= {"issued_at": job.issued_at_ms, **({"app": job.app} if job.app else {})}
        messages = list(job_messages(job.batch, head))
        backfill = job.operation == "backfill"
        new = NewJob(
            job_id,
            job.operation,
            None if backfill else job.batch.wire_operator_type,
            job.app,
            "backfill" if backfill else "api",
            len(job.batch.items),
            len(messages),
            self.verifying and not backfill,  # a backfill writes nothing to TPNS to verify
        )
        answer |= {
            "operator_type": new.operator_type,
            "items": len(job.batch.items),
            "merged_duplicates": job.batch.merged_duplicates,
            "messages": len(messages),
        }
        return new, messages, answer

    def _not_queued(
        self, job: JobRequest, job_id: str, messages: list[str], exc: QueueUnavailableError
    ) -> QueueUnavailableError:
        """Leave the job resumable (same key) or, without a key, finished for what was queued:
        the items of the messages not queued are reported failed, so the job still ends."""
        key = job.idempotency_key
        if key is not None:
            self.idempotency.suspend(job.caller, key)
            return QueueUnavailableError(
                f"{exc.message}; send the same request with the same Idempotency-Key to "
                f"finish job {job_id}"
            )
        if job.batch is None:
            self.jobs.fail(job_id, NOT_QUEUED)
            return QueueUnavailableError(f"{exc.message}; job {job_id} failed; send it again")
        for index in exc.unsent:
            body = json.loads(messages[index])
            body = body.get(BACKFILL, body)
            items = body[job.batch.list_field]
            failures = [
                Failure.of_item(body["offset"] + i, "failed", item, reason=NOT_QUEUED)
                for i, item in enumerate(items)
            ]
            self.jobs.settle(job_id, str(body["part"]), Counts(failed=len(items)), failures)
        return QueueUnavailableError(
            f"{exc.message}; job {job_id} reports their items failed; send the request again "
            "(with an Idempotency-Key, retries are safe)"
        )

    def status(self, lookup: JobLookup) -> ApiResponse:
        """``GET /v1/jobs/{job_id}``: its state and counts."""
        return ApiResponse(200, self.jobs.get(lookup.job_id).to_dict(lookup.base_path))

    def failures(self, lookup: JobLookup) -> ApiResponse:
        """``GET /v1/jobs/{job_id}/failures``: a page of its failed items."""
        items, cursor = self.jobs.failures(lookup.job_id, limit=lookup.limit, cursor=lookup.cursor)
        body = {
            "job_id": lookup.job_id,
            "items": [f.to_dict() for f in items],
            "next_cursor": cursor,
        }
        return ApiResponse(200, body)

    def _accepted(self, job: JobRequest, answer: Mapping[str, Any]) -> ApiResponse:
        location = f"{job.base_path}/v1/jobs/{answer['job_id']}"
        body = {**answer, "status_url": location}
        return ApiResponse(202, body, headers={"Location": location})
