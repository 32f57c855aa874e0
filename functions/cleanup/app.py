"""Scheduled cleanup: turn manifests under s3://$CLEANUP_BUCKET/pending/ into bulk unbinds."""

from __future__ import annotations

import os
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tpns_api.cleanup import CleanupRunner, RunSummary
from tpns_api.lambda_adapter import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    import boto3

    runner = CleanupRunner(
        boto3.client("s3"),
        boto3.client("sqs"),
        os.environ["CLEANUP_BUCKET"],
        os.environ["BULK_QUEUE_URL"],
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    started = time.monotonic()
    summary = runner.run()
    return _publish(summary, time.monotonic() - started)


def _publish(summary: RunSummary, elapsed: float) -> dict[str, Any]:
    done, left = summary.completed, summary.unfinished
    counts = {
        "ManifestsCompleted": len(done),
        "ManifestsUnfinished": len(left),
        "LinesRejected": sum(c.lines_rejected for c in done),
        "ItemsQueued": sum(c.items_queued for c in done),
    }
    for name, value in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    result = {
        "completed": [c.manifest for c in done],
        "unfinished": [{"manifest": c.manifest, "lines_read": c.lines_read} for c in left],
        "seconds": round(elapsed, 1),
        **counts,
    }
    logger.info("cleanup run finished" if not left else "cleanup run paused", extra={"run": result})
    return result
