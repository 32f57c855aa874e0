"""DynamoDB or SQS unreachable: the bulk path hands the message back, and loses nothing after;
at its last delivery it dead-letters the message itself, and its job counts it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.apps import ACCESS_ID
from tests.support.bulk import MAX_RECEIVE_COUNT, BulkRig
from tests.support.memory import Memory
from tests.support.outage import dynamodb_back, dynamodb_unreachable
from tpns_api.jobs.store import NewJob
from tpns_emulator import TpnsEmulator


def test_a_message_met_by_an_unreachable_dynamodb_is_redelivered_and_then_applied(
    bulk: BulkRig, emulator: TpnsEmulator, memory: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a bind of 30 tokens on the bulk queue, and the function's DynamoDB out of reach
    tokens = [f"outage-{i:02d}" for i in range(30)]
    items = [{"token": t, "account_list": [{"account": f"{t}@x.cn", "account_type": 1005}]}
             for t in tokens]  # fmt: skip
    message_id = bulk.send({"operation": "bind", "token_accounts": items})
    dynamodb_unreachable(monkeypatch)
    bulk.module.processor.cache_clear()
    answers: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        answers.append(bulk.module.lambda_handler(event, context))
        return answers[-1]

    esm = bulk.esm()
    esm.handler = handler

    # WHEN it is delivered
    assert esm.poll_once() == 1

    # THEN the function reports it for redelivery, and TPNS got nothing
    assert answers == [{"batchItemFailures": [{"itemIdentifier": message_id}]}]
    assert emulator.stats.requests == 0

    # WHEN DynamoDB is back and the queue is drained
    dynamodb_back(monkeypatch)
    bulk.module.processor.cache_clear()
    esm.drain(max_seconds=30)

    # THEN every binding is in TPNS and in the ledger, and nothing is in the DLQ
    held = emulator.bindings(ACCESS_ID)
    assert all(held.get(t) == [(f"{t}@x.cn", 1005)] for t in tokens)
    bound = memory.ledger().bound(ACCESS_ID, tokens)
    assert all(
        [(c.account, c.account_type) for c in bound[t]] == [(f"{t}@x.cn", 1005)] for t in tokens
    )
    assert bulk.dead_letters() == []


def test_a_job_message_still_failing_at_its_last_delivery_is_dead_lettered_and_counted(
    bulk: BulkRig, memory: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a job of two items in one message, whose verification cannot be queued (the verify
    # queue is out of reach), delivered for the last time
    memory.jobs().create(NewJob("last-1", "bind", 2, None, "api", 2, 1, True))
    items = [{"token": f"last-{i}", "account_list": [{"account": f"u{i}@x.cn"}]} for i in range(2)]
    body = {
        "operation": "bind",
        "job_id": "last-1",
        "part": 0,
        "offset": 0,
        "token_accounts": items,
    }
    monkeypatch.setenv("VERIFY_QUEUE_URL", "http://127.0.0.1:9/000000000000/missing")
    bulk.module.processor.cache_clear()
    # WHEN it is processed
    _, failed = bulk.invoke([body], receive_count=MAX_RECEIVE_COUNT)
    # THEN it is not handed back to SQS (whose redrive would count nothing): the function put it
    # in the DLQ as it was, saying why, and the job counts both items dead-lettered
    assert failed == []
    (dead,) = bulk.dead_letters()
    assert dead["attributes"]["reason"].startswith("still failing at its last delivery (3)")
    assert json.loads(dead["body"]) == body
    job = memory.jobs().get("last-1")
    assert (job.counts.dead_lettered, job.state) == (2, "failed")
