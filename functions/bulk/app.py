"""Bulk-queue consumer: any number of items per message, partial batch failure, DLQ at once for
messages that can never succeed."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tpns_account import Settings
from tpns_api.bulk import BulkProcessor, BulkReport, Record, SqsDeadLetter
from tpns_api.lambda_adapter import logger, metrics

# Leave this long (or a tenth of the timeout, if more) to report before Lambda stops us.
SAFETY_MARGIN_S = 5.0


@cache
def processor() -> BulkProcessor:
    import boto3

    dead_letter = SqsDeadLetter(os.environ["DEAD_LETTER_QUEUE_URL"], boto3.client("sqs"))
    return BulkProcessor(Settings.from_env().client(), dead_letter)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = [
        Record(
            r["messageId"],
            r["body"],
            int(r.get("attributes", {}).get("ApproximateReceiveCount", 1)),
        )
        for r in event.get("Records", [])
    ]
    remaining = context.get_remaining_time_in_millis() / 1000
    budget = max(1.0, remaining - max(SAFETY_MARGIN_S, remaining / 10))
    report = processor().process(records, time_budget=budget)
    _publish(report, len(records))
    return {"batchItemFailures": [{"itemIdentifier": i} for i in report.failed_message_ids]}


def _publish(report: BulkReport, messages: int) -> None:
    counts = {
        "Messages": messages,
        "MessagesRetried": len(report.failed_message_ids),
        "MessagesDeadLettered": report.dead_lettered_messages,
        "ItemsAccepted": report.accepted,
        "ItemsFailed": report.failed,
        "ItemsDeadLettered": report.dead_lettered_items,
        "UpstreamCalls": report.calls,
        "UpstreamRetries": report.retried_calls,
        "UpstreamThrottles": report.throttled,
    }
    for name, value in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info("bulk batch done", extra={"report": counts})
