"""Verification counted once per item, whatever SQS redelivers or duplicates, and whatever fails
in between (real verify function, moto server, emulator over HTTP)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.apps import ACCESS_ID
from tests.support.bulk import BulkRig
from tests.support.memory import Memory
from tests.support.verify import VerifyRig, run_until_idle
from tpns_account import Account, BatchOperation, OperatorType, TokenAccounts, TpnsClient
from tpns_api.jobs.model import Counts
from tpns_api.jobs.store import NewJob
from tpns_api.ledger.cells import TokenOp, version
from tpns_api.ledger.plan import Target
from tpns_api.ledger.verify import VerifyRequest
from tpns_emulator import TpnsEmulator

JOB = "job-4"
PARTS = {0: ("a", "b"), 1: ("c", "d")}


def account_of(token: str) -> Account:
    return Account(f"{token}@x.cn", 1005)


@pytest.fixture
def four_item_job(memory: Memory, client: TpnsClient, bulk: BulkRig) -> None:
    """A job of four binds in two parts, all accepted, in the ledger; TPNS holds a and c only
    (b's write lost once, d's lost for good: every push of it is lost too)."""
    tokens = [t for part in PARTS.values() for t in part]
    memory.ledger().record(
        ACCESS_ID,
        [
            TokenOp("bind", t, version(1_000, "op"), "op", ((account_of(t).account, 1005),))
            for t in tokens
        ],
    )
    jobs = memory.jobs()
    jobs.create(NewJob(JOB, "bind", 2, "android", "api", 4, 2, True))
    for part, pair in PARTS.items():
        jobs.settle(JOB, str(part), Counts(accepted=len(pair)))
    held = tuple(TokenAccounts(t, (account_of(t),)) for t in ("a", "c"))
    client.batch_operate(BatchOperation(OperatorType.OVERRIDE, held))


def request_of(part: int) -> str:
    """The first check of a part's items (indexed job-wide, as the bulk function does)."""
    targets = tuple(
        Target("token", token, index=2 * part + n) for n, token in enumerate(PARTS[part])
    )
    return VerifyRequest(f"{JOB}.{part}", "android", 1, targets, JOB).to_json()


def throttle_first_count(verify: VerifyRig, memory: Memory) -> None:
    """DynamoDB throttles the verify function's first count in the job, until its retries run
    out (the calls after it go through)."""
    table = verify.module.verifier().jobs.table
    left = [table.attempts]

    def throttle(params: dict[str, Any], **_: Any) -> None:
        writes = [next(iter(w.values())) for w in params.get("TransactItems", [])]
        tables = {params.get("TableName")} | {w["TableName"] for w in writes}
        if memory.jobs_table in tables and left[0]:
            left[0] -= 1
            error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
            raise ClientError(error, "write")  # type: ignore[arg-type]

    client: Any = table.client

    for operation in ("UpdateItem", "TransactWriteItems"):
        client.meta.events.register(f"provide-client-params.dynamodb.{operation}", throttle)


def test_a_check_redelivered_after_its_count_failed_counts_each_item_once(
    four_item_job: None, verify: VerifyRig, memory: Memory, emulator: TpnsEmulator
) -> None:
    # GIVEN d's writes lost for good, and the first count of part 0's check throttled
    emulator.faults.add("lose", token="d")
    throttle_first_count(verify, memory)
    esm = verify.esm()

    # WHEN part 0's check is delivered (b re-pushed, its next check queued, the count fails)
    memory.sqs.send_message(QueueUrl=verify.queue_url, MessageBody=request_of(0))
    assert esm.poll_once() == 1
    # AND then part 1's, and every check is processed until none is left
    memory.sqs.send_message(QueueUrl=verify.queue_url, MessageBody=request_of(1))
    run_until_idle([esm])

    # THEN each item is counted once: a, b and c verified, d unverified; the job did not
    # finish before d's last check
    job = memory.jobs().get(JOB)
    assert (job.counts.verified, job.counts.unverified) == (3, 1)
    assert job.state == "completed_with_failures"
    failures, _ = memory.jobs().failures(JOB, limit=10, cursor=None)
    assert [(f.index, f.token, f.outcome) for f in failures] == [(3, "d", "unverified")]


def test_a_next_check_delivered_twice_counts_its_items_once(
    four_item_job: None, verify: VerifyRig, memory: Memory
) -> None:
    # GIVEN part 0's first check done: a verified, b re-pushed and its next check queued
    esm = verify.esm()
    memory.sqs.send_message(QueueUrl=verify.queue_url, MessageBody=request_of(0))
    assert esm.poll_once() == 1
    (next_check,) = memory.verify_requests()
    assert next_check["verify"]["attempt"] == 2

    # WHEN SQS delivers that next check twice
    for _ in range(2):
        memory.sqs.send_message(QueueUrl=verify.queue_url, MessageBody=json.dumps(next_check))
    run_until_idle([esm])

    # THEN b is counted once: part 0's two items verified, part 1's still to check
    job = memory.jobs().get(JOB)
    assert (job.counts.verified, job.counts.unverified, job.state) == (2, 0, "running")
