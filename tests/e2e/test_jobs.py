"""Jobs you can watch, end to end through the local stack: states, exact counts, failures in
pages, redelivery and dead letters counted once, idempotency keys under real concurrency."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.support.emulator_admin import EmulatorAdmin, tokens_sent
from tests.support.local_stack import RunningStack
from tests.support.stack_jobs import (
    failure_pages,
    submit_job,
    wait_until_idle,
    watch_job,
)

INVALID_TOKEN = 1008006


def bind_job(prefix: str, count: int) -> dict[str, Any]:
    """A bind job of ``count`` tokens, each to its own account."""
    items = [
        {"token": f"{prefix}-{i:05d}", "account_list": [{"account": f"{prefix}-user-{i}"}]}
        for i in range(count)
    ]
    return {"operation": "bind", "token_accounts": items}


def test_a_5000_item_job_goes_queued_running_succeeded_with_every_count_exact(
    jobs_stack: RunningStack, jobs_tpns: EmulatorAdmin
) -> None:
    # GIVEN a bind job of 5,000 items, accepted
    answer = submit_job(jobs_stack, bind_job("j5k", 5000))
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["state"] == "queued" and accepted["items"] == 5000
    assert answer.headers["Location"] == accepted["status_url"]

    # WHEN it is polled through GET /v1/jobs/{id} until it is final
    watched = watch_job(jobs_stack, accepted["job_id"], timeout_s=120)

    # THEN it went queued -> running -> succeeded, in that order (the first poll may already
    # find it running: the stack's poller takes a message within milliseconds)
    assert watched.states in (["queued", "running", "succeeded"], ["running", "succeeded"])
    # AND every count is exact: all accepted, none pending, all verified, every message done
    job = watched.last
    assert job["items"] == {
        "total": 5000,
        "accepted": 5000,
        "failed": 0,
        "dead_lettered": 0,
        "superseded": 0,
        "pending": 0,
        "verified": 5000,
        "unverified": 0,
    }
    assert job["messages"] == {"total": accepted["messages"], "done": accepted["messages"]}
    assert job["finished_at"] is not None
    # AND TPNS holds every binding
    wait_until_idle(jobs_stack)
    held = jobs_tpns.state()
    assert all(held.get(f"j5k-{i:05d}") == {(f"j5k-user-{i}", 0)} for i in range(5000))


def test_an_accepted_jobs_location_leads_to_its_status_and_that_to_its_failures(
    jobs_stack: RunningStack, jobs_tpns: EmulatorAdmin
) -> None:
    # GIVEN a job accepted by the stack (202 with a Location)
    answer = submit_job(jobs_stack, bind_job("follow", 3))
    assert answer.status_code == 202, answer.text

    # WHEN a client follows its Location, then the status's failures_url, as given
    status = jobs_stack.call("GET", answer.headers["Location"])
    failures = jobs_stack.call("GET", status.json().get("failures_url", "?"))

    # THEN both answer: the job's status, and its (empty) failures
    assert status.status_code == 200, status.text
    assert status.json()["job_id"] == answer.json()["job_id"]
    assert failures.status_code == 200, failures.text
    assert failures.json()["items"] == []
    # AND both URLs are under the same base path (the stage the caller's URL has)
    assert status.json()["failures_url"] == answer.headers["Location"] + "/failures"


def test_a_job_with_invalid_tokens_lists_exactly_those_in_pages_with_their_tpns_codes(
    jobs_stack: RunningStack, jobs_tpns: EmulatorAdmin
) -> None:
    # GIVEN a job of 300 tokens of which TPNS refuses 7 as invalid
    body = bind_job("bad", 300)
    invalid = {7: "bad-00007", 8: "bad-00008", 40: "bad-00040", 99: "bad-00099",
               150: "bad-00150", 151: "bad-00151", 299: "bad-00299"}  # fmt: skip
    jobs_tpns.configure(invalid_tokens=sorted(invalid.values()))

    # WHEN it has run to the end
    job_id = submit_job(jobs_stack, body).json()["job_id"]
    job = watch_job(jobs_stack, job_id).last

    # THEN it completed with failures, those 7 counted failed and the rest accepted
    assert job["state"] == "completed_with_failures"
    assert job["items"] | {"accepted": 293, "failed": 7, "pending": 0} == job["items"]
    assert job["items"]["verified"] == 293
    # AND its failures list exactly those items, with TPNS's code, in two pages of 4
    pages = failure_pages(jobs_stack, job_id, limit=4)
    assert [len(p["items"]) for p in pages] == [4, 3]
    assert pages[0]["next_cursor"] is not None and pages[1]["next_cursor"] is None
    listed = [item for page in pages for item in page["items"]]
    assert [(f["index"], f["token"]) for f in listed] == sorted(invalid.items())
    assert {(f["outcome"], f["code"]) for f in listed} == {("failed", INVALID_TOKEN)}


def test_a_forged_failures_cursor_is_refused_with_400(
    jobs_stack: RunningStack, jobs_tpns: EmulatorAdmin
) -> None:
    # GIVEN a job, and cursors it never handed out: garbage, and one of another listing
    job_id = submit_job(jobs_stack, bind_job("cursor", 3)).json()["job_id"]
    other = base64.urlsafe_b64encode(
        json.dumps({"pk": "JOB#someone-else", "sk": "F#0000000001"}).encode()
    ).decode()
    forged = [other.rstrip("="), "bm90LWEtY3Vyc29y", "A" * 40]

    # WHEN its failures are asked for with each
    answers = [
        jobs_stack.call("GET", f"/v1/jobs/{job_id}/failures?limit=2&cursor={cursor}")
        for cursor in forged
    ]

    # THEN each is a 400 naming the cursor
    assert [a.status_code for a in answers] == [400, 400, 400], [a.text for a in answers]
    assert all("cursor" in a.json()["error"]["message"] for a in answers)


def test_a_message_redelivered_after_a_partial_failure_counts_each_item_once(
    jobs_stack: RunningStack, jobs_tpns: EmulatorAdmin
) -> None:
    # GIVEN TPNS failing the first six calls (the bulk function's retries of its first chunk;
    # this stack makes one call at a time, so the message's other chunks get through)
    jobs_tpns.fault("http", status=503, times=6, path="batchoperate")
    body = bind_job("partial", 100)

    # WHEN a job of 100 items (one message, five chunks) runs to the end
    job_id = submit_job(jobs_stack, body).json()["job_id"]
    job = watch_job(jobs_stack, job_id, timeout_s=60).last

    # THEN the message was handed back after a partial failure and delivered again:
    # items 20-99 were accepted twice, items 0-19 once (on the second delivery)
    sent: dict[str, int] = {}
    for call in jobs_tpns.batch_calls():
        for token in tokens_sent(call):
            sent[token] = sent.get(token, 0) + 1
    assert {sent[f"partial-{i:05d}"] for i in range(20)} == {1}
    assert {sent[f"partial-{i:05d}"] for i in range(20, 100)} == {2}
    # AND the job counts each item once
    assert job["state"] == "succeeded"
    assert job["items"] | {"total": 100, "accepted": 100, "pending": 0} == job["items"]
    assert job["items"]["verified"] == 100
    assert job["messages"] == {"total": 1, "done": 1}


def test_a_message_that_exhausts_its_receives_counts_its_items_dead_lettered(
    jobs_stack: RunningStack, jobs_tpns: EmulatorAdmin
) -> None:
    # GIVEN TPNS failing every bind and unbind call
    jobs_tpns.fault("http", status=503, path="batchoperate")

    # WHEN a job of 15 items is delivered until its message's receives run out (two here)
    job_id = submit_job(jobs_stack, bind_job("doomed", 15)).json()["job_id"]
    job = watch_job(jobs_stack, job_id, timeout_s=60).last

    # THEN the job failed, its 15 items counted dead-lettered, once
    assert job["state"] == "failed"
    assert job["items"] | {"accepted": 0, "dead_lettered": 15, "pending": 0} == job["items"]
    assert job["messages"] == {"total": 1, "done": 1}
    failures = [f for page in failure_pages(jobs_stack, job_id, limit=100) for f in page["items"]]
    assert [(f["index"], f["outcome"]) for f in failures] == [
        (i, "dead_lettered") for i in range(15)
    ]
    # AND the items are in the dead-letter queue, with why
    dead = jobs_stack.sqs().receive_message(
        QueueUrl=jobs_stack.outputs["BulkDeadLetterQueueUrl"],
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
        WaitTimeSeconds=1,
    )["Messages"]
    mine = [json.loads(m["Body"]) for m in dead if job_id in m["Body"]]
    assert len(mine) == 1 and len(mine[0]["token_accounts"]) == 15
    assert all("2 of 2 deliveries" in reason for reason in mine[0]["reasons"])


def test_the_same_key_and_body_twice_queue_the_job_once(
    jobs_stack: RunningStack, jobs_tpns: EmulatorAdmin
) -> None:
    # GIVEN a job of 50 items sent with an Idempotency-Key, and run to the end
    body = bind_job("idem", 50)
    first = submit_job(jobs_stack, body, key="idem-key-1")
    assert first.status_code == 202, first.text
    watch_job(jobs_stack, first.json()["job_id"])
    calls = len(jobs_tpns.batch_calls())

    # WHEN the same request is sent again (a client retry)
    again = submit_job(jobs_stack, body, key="idem-key-1")
    wait_until_idle(jobs_stack)

    # THEN it answers the same job, replayed, and TPNS got nothing more
    assert again.status_code == 202, again.text
    assert again.json()["job_id"] == first.json()["job_id"]
    assert again.json()["replayed"] is True
    assert again.headers["Location"] == first.headers["Location"]
    assert calls >= 3  # 50 items: calls of 20, 20 and 10 (and any re-push verification made)
    assert len(jobs_tpns.batch_calls()) == calls


def test_concurrent_requests_with_one_key_make_one_job(
    jobs_stack: RunningStack, jobs_tpns: EmulatorAdmin
) -> None:
    # GIVEN eight identical requests with one Idempotency-Key
    body = bind_job("race", 30)

    # WHEN they are sent at once (the stack runs several jobs function instances)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: submit_job(jobs_stack, body, key="race-key"), range(8)))

    # THEN each answered the one job (202) or that it is in progress (409), never another job
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {202, 409}, [a.text for a in answers]
    job_ids = {a.json()["job_id"] for a in answers if a.status_code == 202}
    assert len(job_ids) == 1
    conflicts = [a.json()["error"]["code"] for a in answers if a.status_code == 409]
    assert set(conflicts) <= {"idempotency_key_in_progress"}
    assert sum(not a.json().get("replayed", False) for a in answers if a.status_code == 202) == 1
    # AND the job's items reached TPNS once
    (job_id,) = job_ids
    assert watch_job(jobs_stack, job_id).last["state"] == "succeeded"
    wait_until_idle(jobs_stack)
    sent = [t for call in jobs_tpns.batch_calls() for t in tokens_sent(call)]
    assert sorted(sent) == sorted(f"race-{i:05d}" for i in range(30))
