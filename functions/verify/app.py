"""Verified apply: some time after TPNS accepted a write, check it holds what the ledger says."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from tpns_account import Settings, SettingsError
from tpns_api.adapter.coldstart import resume_before_first_call
from tpns_api.adapter.observability import count, logger, metrics
from tpns_api.deadline import queue_batch_budget
from tpns_api.jobs.wiring import jobs_from_env
from tpns_api.ledger.verify import Verifier
from tpns_api.ledger.wiring import ledger_from_env
from tpns_api.queue.messages import records_of
from tpns_api.queue.sqs import max_receive_count

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@cache
def verifier() -> Verifier:
    ledger = ledger_from_env()
    if ledger is None:
        raise SettingsError("LEDGER_TABLE is required by the verify function")
    client = Settings.from_env().client(pacing="shared")
    return Verifier(ledger.store, client, ledger.scheduler, jobs_from_env())


@resume_before_first_call
@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    remaining = context.get_remaining_time_in_millis() / 1000
    budget = queue_batch_budget(remaining)
    failed, report = verifier().process(
        records_of(event),
        time_budget=budget,
        max_receive_count=max_receive_count("VERIFY_MAX_RECEIVE_COUNT"),
    )
    count(report.counts())
    logger.info("verification batch done", extra={"report": report.counts()})
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}
