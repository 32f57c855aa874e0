"""Bulk-queue consumer: any number of items per message, partial batch failure, DLQ at once for
messages that can never succeed, each message's outcome counted once in its job."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tpns_account import Settings
from tpns_api.adapter.observability import count, logger, metrics
from tpns_api.jobs.wiring import jobs_from_env
from tpns_api.ledger.wiring import ledger_from_env
from tpns_api.queue.bulk import BulkProcessor, SqsDeadLetter
from tpns_api.queue.messages import records_of
from tpns_api.queue.sqs import MessageSender

# Leave this long (or a tenth of the timeout, if more) to report before Lambda stops us.
SAFETY_MARGIN_S = 5.0


@cache
def processor() -> BulkProcessor:
    import boto3

    dead_letter = SqsDeadLetter(
        MessageSender(boto3.client("sqs"), os.environ["DEAD_LETTER_QUEUE_URL"])
    )
    return BulkProcessor(
        Settings.from_env().client(pacing="shared"),
        dead_letter,
        jobs=jobs_from_env(),
        ledger=ledger_from_env(),
        max_receive_count=int(os.environ.get("BULK_MAX_RECEIVE_COUNT", "5")),
    )


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = records_of(event)
    remaining = context.get_remaining_time_in_millis() / 1000
    budget = max(1.0, remaining - max(SAFETY_MARGIN_S, remaining / 10))
    report = processor().process(records, time_budget=budget)
    counts = report.counts()
    count(counts)
    logger.info("bulk batch done", extra={"report": counts})
    return {"batchItemFailures": [{"itemIdentifier": i} for i in report.failed_message_ids]}
