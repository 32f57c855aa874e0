"""Bulk-queue consumer: any number of items per message, partial batch failure, DLQ at once for
messages that can never succeed, each message's outcome counted once in its job."""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from tpns_account import Settings, aws
from tpns_api.adapter.coldstart import resume_before_first_call
from tpns_api.adapter.observability import count, logger, metrics
from tpns_api.deadline import queue_batch_budget
from tpns_api.jobs.wiring import jobs_from_env
from tpns_api.ledger.wiring import exporter_from_env, ledger_from_env
from tpns_api.queue.bulk import BulkProcessor, SqsDeadLetter
from tpns_api.queue.messages import records_of
from tpns_api.queue.sqs import MessageSender, max_receive_count

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@cache
def processor() -> BulkProcessor:
    dead_letter = SqsDeadLetter(
        MessageSender(aws.client("sqs"), os.environ["DEAD_LETTER_QUEUE_URL"])
    )
    jobs, ledger = jobs_from_env(), ledger_from_env()
    return BulkProcessor(
        Settings.from_env().client(pacing="shared"),
        dead_letter,
        jobs=jobs,
        ledger=ledger,
        exporter=exporter_from_env(ledger, jobs),
        max_receive_count=max_receive_count("BULK_MAX_RECEIVE_COUNT"),
    )


@resume_before_first_call
@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = records_of(event)
    remaining = context.get_remaining_time_in_millis() / 1000
    budget = queue_batch_budget(remaining)
    report = processor().process(records, time_budget=budget)
    counts = report.counts()
    count(counts)
    logger.info("bulk batch done", extra={"report": counts})
    return {"batchItemFailures": [{"itemIdentifier": i} for i in report.failed_message_ids]}
