"""A large bulk message is recorded in the ledger a slice at a time, and sent as it is recorded."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import EndpointConnectionError

from tests.support.apps import ACCESS_ID
from tests.support.bulk import BulkRig
from tests.support.memory import Memory
from tpns_api.jobs.store import NewJob
from tpns_api.ledger.wiring import RECORD_SLICE, Ledger
from tpns_emulator import TpnsEmulator

ISSUED_AT = 1764583200000


def binds(n: int) -> list[dict[str, Any]]:
    return [
        {"token": f"s-{i:05d}", "account_list": [{"account": f"user-{i:05d}"}]} for i in range(n)
    ]


def ledger_of(bulk: BulkRig) -> Ledger:
    ledger = bulk.module.processor().ledger
    if ledger is None:
        raise LookupError("the bulk function was configured without its ledger")
    return ledger


def test_a_large_message_sends_its_first_calls_before_its_last_items_are_recorded(
    bulk: BulkRig, emulator: TpnsEmulator
) -> None:
    # GIVEN a message of five slices' worth of binds, and the times of the ledger's transactions
    transactions: list[float] = []
    ledger_of(bulk).store.table.client.meta.events.register(
        "before-call.dynamodb.TransactWriteItems", lambda **_: transactions.append(time.time())
    )
    message = {"operation": "bind", "token_accounts": binds(5 * RECORD_SLICE)}

    # WHEN it is processed
    _, failed = bulk.invoke([message])

    # THEN TPNS answered its first call before the ledger recorded its last slice
    assert min(call.at for call in emulator.stats.calls) < max(transactions)
    # AND every binding is applied
    assert failed == []
    assert len(emulator.bindings(ACCESS_ID)) == 5 * RECORD_SLICE


def test_a_job_message_of_several_slices_counts_each_item_at_its_own_index(
    bulk: BulkRig, emulator: TpnsEmulator, memory: Memory
) -> None:
    # GIVEN a job of one 500-item bind (three slices) whose items 250-399 a later-issued unbind
    # already removed, and whose item 450 TPNS refuses
    unbind = {
        "operation": "unbind",
        "issued_at": ISSUED_AT + 1000,
        "token_list": [f"s-{i:05d}" for i in range(250, 400)],
    }
    bulk.invoke([unbind])
    emulator.reset_stats()
    emulator.invalid_tokens.add("s-00450")
    jobs = memory.jobs()
    jobs.create(NewJob("sliced", "bind", 2, None, "api", 500, 1, True))
    message = {
        "operation": "bind",
        "job_id": "sliced",
        "part": 0,
        "offset": 0,
        "issued_at": ISSUED_AT,
        "token_accounts": binds(500),
    }

    # WHEN the job's message is processed
    _, failed = bulk.invoke([message])

    # THEN only the items the unbind did not supersede were sent
    assert failed == []
    assert sum(call["item_count"] for call in emulator.stats.calls) == 350
    # AND the job counts each item once, the refused one at its own index
    job = jobs.get("sliced")
    counts = job.counts
    assert (counts.accepted, counts.superseded, counts.failed) == (349, 150, 1)
    failures, _ = jobs.failures("sliced", limit=10, cursor=None)
    assert [(f.index, f.token, f.outcome) for f in failures] == [(450, "s-00450", "failed")]


def test_a_message_whose_ledger_fails_after_its_first_slice_is_redelivered_and_then_applied(
    bulk: BulkRig, emulator: TpnsEmulator
) -> None:
    # GIVEN a two-slice message, and DynamoDB out of reach once TPNS got the first slice's calls
    def unreachable_after_first_calls(**_: Any) -> None:
        if emulator.stats.requests:
            raise EndpointConnectionError(endpoint_url="http://dynamodb.invalid")

    events = ledger_of(bulk).store.table.client.meta.events
    events.register("before-send.dynamodb", unreachable_after_first_calls)
    message = {
        "operation": "bind",
        "issued_at": ISSUED_AT,
        "token_accounts": binds(2 * RECORD_SLICE),
    }

    # WHEN it is delivered
    _, failed = bulk.invoke([message])

    # THEN it is handed back to SQS, with only the first slice sent
    assert failed == ["m0"]
    assert len(emulator.bindings(ACCESS_ID)) == RECORD_SLICE
    # AND once DynamoDB is back, its redelivery applies every item
    events.unregister("before-send.dynamodb", unreachable_after_first_calls)
    _, failed = bulk.invoke([message], receive_count=2)
    assert failed == []
    assert len(emulator.bindings(ACCESS_ID)) == 2 * RECORD_SLICE
