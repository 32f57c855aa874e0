"""Scheduled cleanup: turn manifests under s3://$CLEANUP_BUCKET/pending/ into bulk unbinds."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from tpns_account import aws
from tpns_api.adapter.coldstart import resume_before_first_call
from tpns_api.adapter.observability import count, logger, metrics
from tpns_api.jobs.wiring import jobs_from_env
from tpns_api.ledger.wiring import ledger_on
from tpns_api.queue.cleanup import CleanupRunner
from tpns_api.queue.sqs import MessageSender

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@resume_before_first_call
@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runner = CleanupRunner(
        aws.client("s3"),
        MessageSender(aws.client("sqs"), os.environ["BULK_QUEUE_URL"]),
        os.environ["CLEANUP_BUCKET"],
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
        jobs=jobs_from_env(),
        verifying=ledger_on(),
    )
    started = time.monotonic()
    summary = runner.run()
    result = summary.report(time.monotonic() - started)
    count(summary.counts())
    logger.info(
        "cleanup run finished" if not summary.unfinished else "cleanup run paused",
        extra={"run": result},
    )
    return result
