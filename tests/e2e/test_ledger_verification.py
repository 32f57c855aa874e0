"""Verified apply through the local stack, on its (shortened) verify delay: a write TPNS
accepts and never applies is pushed again, then reported unverified, counted and alarmed."""

from __future__ import annotations

from pathlib import Path

from tests.support.emf import emf_metrics_in
from tests.support.emulator_admin import EmulatorAdmin, tokens_sent
from tests.support.local_stack import RunningStack
from tests.support.stack_jobs import failure_pages, submit_job, watch_job
from tests.support.template import load_template

VERIFY_ATTEMPTS = 3  # the template's default


def test_a_token_whose_writes_are_always_lost_ends_unverified_counted_listed_and_alarmed(
    ledger_stack: RunningStack, ledger_tpns: EmulatorAdmin
) -> None:
    # GIVEN TPNS accepting every write of one token and applying none
    lost = "always-lost-0003"
    ledger_tpns.fault("lose", token=lost)
    tokens = [f"always-lost-{i:04d}" for i in range(6)]
    items = [{"token": t, "account_list": [{"account": f"{t}@x.cn", "account_type": 1005}]}
             for t in tokens]  # fmt: skip

    # WHEN a job binding it and five others runs to the end (checks after 1, 2 and 4 s)
    job_id = submit_job(ledger_stack, {"operation": "bind", "token_accounts": items}).json()
    job = watch_job(ledger_stack, job_id["job_id"], timeout_s=60).last

    # THEN the job completed with that one item unverified, the others verified
    assert job["state"] == "completed_with_failures"
    assert (
        job["items"] | {"accepted": 6, "verified": 5, "unverified": 1, "pending": 0} == job["items"]
    )
    # AND its failures list it as unverified
    (failure,) = [
        f for page in failure_pages(ledger_stack, job["job_id"], 10) for f in page["items"]
    ]
    assert (failure["index"], failure["token"], failure["outcome"]) == (3, lost, "unverified")
    # AND the ledger says so, TPNS does not hold it, and it was pushed once per check
    bindings = ledger_stack.call("GET", f"/v1/tokens/{lost}/bindings").json()["items"]
    assert [(b["account"], b["state"]) for b in bindings] == [(f"{lost}@x.cn", "unverified")]
    assert lost not in ledger_tpns.state()
    pushes = [c for c in ledger_tpns.batch_calls() if lost in tokens_sent(c)]
    assert len(pushes) == VERIFY_ATTEMPTS
    # AND the verify function emitted ItemsUnverified as the template's alarm watches it
    alarm = load_template()["Resources"]["ItemsUnverifiedAlarm"]["Properties"]
    watched = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    log = Path(ledger_stack.endpoints["logs"]) / "VerifyFunction.log"
    unverified = [
        m
        for m in emf_metrics_in(log)
        if (m.namespace, m.name) == (alarm["Namespace"], alarm["MetricName"])
        and m.dimensions == watched
    ]
    assert sum(m.value for m in unverified) == alarm["Threshold"] == 1
