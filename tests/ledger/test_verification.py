"""Verified apply, in-process: TPNS silently losing writes, and verification converging it to
the ledger (real moto server, real emulator over HTTP, the jobs, bulk and verify functions)."""

from __future__ import annotations

import time

import pytest

from tests.support.api_events import ApiFunctions, api_event
from tests.support.apps import ACCESS_ID
from tests.support.bulk import BulkRig, sqs_event
from tests.support.lambda_runtime import FakeLambdaContext
from tests.support.memory import Memory
from tests.support.verify import VerifyRig, run_until_idle
from tpns_api.ledger.plan import Target
from tpns_api.ledger.verify import VerifyRequest
from tpns_emulator import TpnsEmulator


def test_a_2000_item_job_losing_a_tenth_of_its_writes_ends_with_every_item_verified(
    jobs_api: ApiFunctions,
    bulk: BulkRig,
    verify: VerifyRig,
    memory: Memory,
    emulator: TpnsEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN TPNS losing 10% of the writes it accepts (answered "0", never applied)
    emulator.faults.seed(2026)
    emulator.faults.add("lose", probability=0.1)
    # AND six checks per write: a write is unverified only if all its pushes are lost, which
    # with the default three happens to 2,000 x 0.1^3 = 2 items of such a job on average
    monkeypatch.setenv("VERIFY_ATTEMPTS", "6")
    # AND a job binding 2,000 tokens (the android app's)
    tokens = [f"lossy-{i:04d}" for i in range(2000)]
    items = [{"token": t, "account_list": [{"account": f"{t}@x.cn", "account_type": 1005}]}
             for t in tokens]  # fmt: skip
    body = {"operation": "bind", "app": "android", "token_accounts": items}
    answer = jobs_api("jobs", api_event("jobs-bind", body))
    assert answer.status == 202, answer

    # WHEN the bulk and verify queues are processed until nothing is left
    run_until_idle([bulk.esm(), verify.esm()])

    # THEN writes were really lost (about a tenth), and pushed again
    (lose,) = emulator.faults.snapshot()
    assert 150 <= lose.fired <= 260
    # AND the job ends with every item verified
    job_id = answer.body["job_id"]
    status = jobs_api("jobs", api_event("job-status", path_parameters={"job_id": job_id})).body
    assert status["state"] == "succeeded"
    assert (
        status["items"] | {"accepted": 2000, "verified": 2000, "unverified": 0} == status["items"]
    )
    # AND TPNS holds exactly what the ledger holds
    held = emulator.bindings(ACCESS_ID)
    desired = memory.ledger().bound(ACCESS_ID, tokens)
    assert {t: sorted((c.account, c.account_type) for c in desired[t]) for t in tokens} == {
        t: sorted(held.get(t, [])) for t in tokens
    }
    assert all(held[t] == [(f"{t}@x.cn", 1005)] for t in tokens)


def test_a_verify_batch_stops_within_its_time_and_hands_back_what_it_did_not_check(
    verify: VerifyRig, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS taking 0.6 s per call, and three verifications of one token each
    emulator.latency_s = 0.6
    bodies = [
        VerifyRequest(f"op-{n}", "android", 1, (Target("token", f"slow-{n}"),)).to_json()
        for n in range(3)
    ]
    # WHEN the verify function gets them with 6.5 s left (1.5 s for TPNS, after its margin)
    started = time.monotonic()
    answer = verify.module.lambda_handler(sqs_event(bodies), FakeLambdaContext(6_500))
    elapsed = time.monotonic() - started
    # THEN it checked what fit in its time (the first, at least) and handed the rest back, in
    # order, finishing within its time and one call
    handed_back = [f["itemIdentifier"] for f in answer["batchItemFailures"]]
    assert handed_back in (["m1", "m2"], ["m2"])
    assert elapsed < 1.5 + 0.6 + 0.5
