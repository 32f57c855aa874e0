"""The bulk function: partial batch failure, DLQ at once for never-succeed, nothing lost."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from tests.support.apps import ACCESS_ID, IOS_ACCESS_ID
from tests.support.bulk import MAX_RECEIVE_COUNT, BulkRig
from tests.support.lambda_runtime import FakeLambdaContext
from tests.support.paths import EVENTS_DIR
from tpns_emulator import TpnsEmulator


def binds(prefix: str, n: int) -> list[dict[str, Any]]:
    """``n`` token_accounts items, <prefix>-00000 bound to user-<prefix>-00000 and so on."""
    return [
        {"token": f"{prefix}-{i:05d}", "account_list": [{"account": f"user-{prefix}-{i:05d}"}]}
        for i in range(n)
    ]


def test_mixed_batch_settles_each_message_its_own_way(
    bulk: BulkRig, emulator: TpnsEmulator
) -> None:
    # GIVEN a good message, a malformed one, one with invalid tokens, and one whose upstream
    # (the ios app) keeps failing
    emulator.invalid_tokens.update({"bad-00000", "bad-00002"})
    emulator.faults.add("http", status=503, access_id=IOS_ACCESS_ID)
    good = {"operation": "bind", "token_accounts": binds("good", 30)}
    malformed = "{not json"
    invalid = {"operation": "bind", "token_accounts": binds("bad", 3)}
    failing = {"operation": "bind", "app": "ios", "token_accounts": binds("ios", 5)}
    # WHEN the batch is processed
    _, failed = bulk.invoke([good, malformed, invalid, failing], remaining_ms=8_000)
    # THEN only the failing message is reported for redelivery
    assert failed == ["m3"]
    # AND the malformed one is in the DLQ with its reason
    (dead,) = bulk.dead_letters()
    assert dead["body"] == malformed
    assert dead["attributes"]["reason"] == "message body is not valid JSON"
    assert dead["attributes"]["source_message_id"] == "m1"
    # AND the good items and the valid item of the invalid-token message are bound
    bound = emulator.bindings(ACCESS_ID)
    assert {t for t in bound if t.startswith("good-")} == {f"good-{i:05d}" for i in range(30)}
    assert set(bound) - {f"good-{i:05d}" for i in range(30)} == {"bad-00001"}
    assert emulator.bindings(IOS_ACCESS_ID) == {}


def test_invalid_tokens_are_reported_in_logs_and_counted(
    bulk: BulkRig,
    emulator: TpnsEmulator,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN TPNS refuses one token
    emulator.invalid_tokens.add("bad-00001")
    # WHEN a message holding it is processed
    with caplog.at_level(logging.WARNING, logger="tpns_api.queue.bulk"):
        bulk.invoke([{"operation": "bind", "token_accounts": binds("bad", 3)}])
    # THEN the refused item is logged with its code, and counted in the metrics
    (log,) = [r for r in caplog.records if "TPNS refused" in r.getMessage()]
    assert log.failed_items == [{"item": "bad-00001", "code": 1008006, "reason": "invalid token"}]  # type: ignore[attr-defined]
    metrics = next(
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    )
    assert metrics["ItemsFailed"] == [1.0]
    assert metrics["ItemsAccepted"] == [2.0]


def test_items_that_fail_validation_go_to_the_dlq_and_the_rest_is_applied(
    bulk: BulkRig, emulator: TpnsEmulator
) -> None:
    # GIVEN a job message with two valid tokens and two invalid ones
    body = {
        "operation": "unbind",
        "job_id": "gdpr-7",
        "token_list": ["ok-1", "x" * 65, "ok-2", "bad token"],
    }
    # WHEN it is processed
    _, failed = bulk.invoke([body])
    # THEN it is not redelivered
    assert failed == []
    # AND the invalid items are parked in the DLQ as one message, with the job and the reasons
    (dead,) = bulk.dead_letters()
    parked = json.loads(dead["body"])
    assert parked["token_list"] == ["x" * 65, "bad token"]
    assert parked["operation"] == "unbind" and parked["job_id"] == "gdpr-7"
    assert parked["reasons"][0].startswith("token_list[1]: must be 1-64 bytes")
    # AND the valid items were sent to TPNS
    assert emulator.stats.calls[-1]["item_count"] == 2


def test_a_dead_letter_sent_back_after_the_fix_is_applied_not_superseded_by_itself(
    bulk: BulkRig, emulator: TpnsEmulator
) -> None:
    # GIVEN a job message TPNS refused for good at call level, so the bulk function parked its
    # items in the DLQ (the ledger recorded the bind, under the message's job and part)
    emulator.faults.add("error", code=1008007, path="batchoperate", times=1)
    message = {
        "operation": "bind",
        "job_id": "zz-redrive",  # sorts after any SQS message id, as half of all job ids do
        "part": 0,
        "issued_at": 1764583200000,
        "token_accounts": binds("redrive", 1),
    }
    bulk.invoke([message])
    (dead,) = bulk.dead_letters()

    # WHEN the cause is gone and the dead letter's body is sent to the bulk queue as it is
    # (a redrive: a new SQS message, with a new message id)
    bulk.invoke([dead["body"]])

    # THEN the bind is sent and applied: the redrive is the same operation as the original,
    # not an older one that the original's ledger record supersedes
    assert [call["item_count"] for call in emulator.stats.calls] == [1, 1]
    emulator.flush()
    assert emulator.bindings(ACCESS_ID) == {"redrive-00000": [("user-redrive-00000", 0)]}


def test_wrong_shapes_never_succeed_and_go_straight_to_the_dlq(
    bulk: BulkRig, emulator: TpnsEmulator
) -> None:
    # GIVEN a batch of six messages that can never succeed
    bodies = [
        "[]",
        {"operation": "bind"},
        {"operation": "bind", "token_list": ["t1"], "account_list": [{"account": "ab"}]},
        {"operation": "merge", "token_list": ["t1"]},
        {"operator_type": 9, "token_list": ["t1"]},
        {"operation": "unbind", "app": "web", "token_list": ["t1"]},
    ]
    # WHEN it is processed
    _, failed = bulk.invoke(bodies)
    # THEN none is redelivered: each is in the DLQ with its reason, and none reached TPNS
    assert failed == []
    reasons = sorted(d["attributes"]["reason"] for d in bulk.dead_letters())
    assert len(reasons) == 6
    assert "unknown app 'web'; known apps: android, ios" in reasons
    assert "operation: must be 'bind', 'unbind', 'backfill' or 'export'" in reasons
    assert emulator.stats.requests == 0


@pytest.mark.parametrize(
    ("issued_at", "reason"),
    [
        (1_764_583_200, "issued_at: is before 2015: epoch milliseconds, not seconds"),
        ("9999-12-31T00:00:00Z", "issued_at: is more than 15 minutes ahead of now"),
    ],
)
def test_an_implausible_issued_at_goes_to_the_dlq_unsent(
    bulk: BulkRig, emulator: TpnsEmulator, issued_at: object, reason: str
) -> None:
    # GIVEN an unbind whose issued_at is epoch seconds, or far in the future
    body = {"operation": "unbind", "token_list": ["t1"], "issued_at": issued_at}
    # WHEN it is processed
    _, failed = bulk.invoke([body])
    # THEN it is not redelivered: it is in the DLQ, saying why, and TPNS got nothing
    assert failed == []
    (dead,) = bulk.dead_letters()
    assert reason in dead["attributes"]["reason"]
    assert emulator.stats.requests == 0


def test_raw_tpns_messages_are_accepted(bulk: BulkRig, emulator: TpnsEmulator) -> None:
    # GIVEN three tokens bound by a raw TPNS override message (operator_type 2)
    bulk.invoke([{"operator_type": 2, "token_accounts": binds("raw", 3)}])
    # WHEN a raw unbind of one token (operator_type 4) is processed
    bulk.invoke([{"operator_type": 4, "app": "android", "token_list": ["raw-00001"]}])
    # THEN that token is unbound
    assert set(emulator.bindings(ACCESS_ID)) == {"raw-00000", "raw-00002"}
    # AND a raw unbind of an account (operator_type 5) unbinds it from its token
    bulk.invoke([{"operator_type": 5, "account_list": [{"account": "user-raw-00000"}]}])
    assert set(emulator.bindings(ACCESS_ID)) == {"raw-00002"}


def test_a_message_of_5000_items_is_applied(bulk: BulkRig, emulator: TpnsEmulator) -> None:
    # GIVEN one message of 5,000 bindings
    message = {"operation": "bind", "token_accounts": binds("big", 5000)}
    # WHEN it is processed
    _, failed = bulk.invoke([message])
    # THEN every binding is applied, in 250 calls of 20
    assert failed == []
    assert len(emulator.bindings(ACCESS_ID)) == 5000
    assert emulator.stats.requests == 250


def test_duplicates_in_a_message_are_merged(bulk: BulkRig, emulator: TpnsEmulator) -> None:
    # GIVEN a message naming t1 twice
    body = {"operation": "unbind", "token_list": ["t1", "t2", "t1"]}
    # WHEN it is processed
    bulk.invoke([body])
    # THEN TPNS got each token once
    assert emulator.stats.calls[-1]["item_count"] == 2


def test_transient_failures_are_redelivered_then_dead_lettered_by_the_redrive(
    bulk: BulkRig, emulator: TpnsEmulator
) -> None:
    # GIVEN a message whose upstream never recovers, on a queue with maxReceiveCount 3
    emulator.faults.add("http", status=500)
    bulk.send({"operation": "unbind", "token_list": ["t1"]})
    # WHEN the event source mapping keeps delivering it
    esm = bulk.esm(timeout_s=3.0)
    esm.drain(max_seconds=60)
    # THEN it was tried maxReceiveCount times and then moved to the DLQ, whole
    assert esm.stats.delivered == MAX_RECEIVE_COUNT
    (dead,) = bulk.dead_letters()
    assert json.loads(dead["body"])["token_list"] == ["t1"]


def test_the_dlq_send_failing_keeps_the_message_for_redelivery(
    bulk: BulkRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the function's DLQ does not exist
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", bulk.dlq_url + "-missing")
    bulk.module.processor.cache_clear()
    # WHEN a message that belongs in the DLQ is processed
    _, failed = bulk.invoke(["not json"])
    # THEN it is reported failed, so SQS redelivers it rather than lose it
    assert failed == ["m0"]


def test_the_canonical_sqs_event_is_processed(bulk: BulkRig, emulator: TpnsEmulator) -> None:
    # GIVEN the canonical SQS event of events/sqs/
    event = json.loads((EVENTS_DIR / "sqs" / "bulk-batch.json").read_text())
    # WHEN the bulk function is invoked with it
    answer = bulk.module.lambda_handler(event, FakeLambdaContext())
    # THEN nothing failed and its tokens are bound
    assert answer == {"batchItemFailures": []}
    assert set(emulator.bindings(ACCESS_ID)) == {"token1", "token2"}


def test_one_invocation_never_calls_faster_than_tpns_max_qps(
    bulk: BulkRig, emulator: TpnsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN TPNS_MAX_QPS 30 under a TPNS cap of 45 calls/s (a margin for a loaded machine, whose
    # scheduling can bunch paced calls on their way to the emulator)
    monkeypatch.setenv("TPNS_MAX_QPS", "30")
    bulk.module.processor.cache_clear()
    emulator.qps_cap = 45
    # WHEN 3 messages needing 60 calls in all arrive in one batch
    started = time.monotonic()
    _, failed = bulk.invoke(
        [{"operation": "bind", "token_accounts": binds(f"q{m}", 400)} for m in range(3)]
    )
    # THEN the calls were paced, and TPNS throttled none of them
    assert failed == []
    assert time.monotonic() - started >= 59 / 30
    assert emulator.stats.requests == 60
    assert emulator.stats.throttled == 0
