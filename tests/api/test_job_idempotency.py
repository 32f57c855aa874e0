"""``Idempotency-Key`` on ``POST /v1/jobs``: replayed, refused for another body, refused while
the first is in flight, and kept for 24 hours (an injected clock, not a wait)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from mypy_boto3_sqs import SQSClient

from tests.support.api_events import ApiFunctions, api_event, api_event_body
from tests.support.bulk import drain_queue
from tests.support.clock import ManualClock
from tests.support.lambda_runtime import load_function
from tpns_api.adapter.events import http_request
from tpns_api.deadline import Deadline
from tpns_api.http.contract import job_request
from tpns_api.jobs.idempotency import WINDOW_S
from tpns_api.jobs.submit import JobSubmitter
from tpns_api.queue.sqs import MessageSender

EVENT = "jobs-bind-idempotent"


def queued_job_ids(sqs: SQSClient, queue_url: str) -> list[str]:
    """The job of each message on the queue (taken off it)."""
    import json

    return [json.loads(m["Body"])["job_id"] for m in drain_queue(sqs, queue_url)]


def test_the_same_key_and_body_twice_answer_one_job_replayed_and_queue_it_once(
    api: ApiFunctions, sqs: SQSClient, bulk_queue_url: str
) -> None:
    # GIVEN a job request with an Idempotency-Key, accepted
    first = api("jobs", api_event(EVENT))
    assert first.status == 202, first

    # WHEN the same request comes again (a client retrying after a lost answer)
    again = api("jobs", api_event(EVENT))

    # THEN it answers the same job, marked replayed, with the same Location
    assert again.status == 202, again
    assert again.body["job_id"] == first.body["job_id"]
    assert again.body["replayed"] is True and "replayed" not in first.body
    assert again.headers["Location"] == first.headers["Location"]
    # AND the job's messages are on the bulk queue once
    assert queued_job_ids(sqs, bulk_queue_url) == [first.body["job_id"]] * first.body["messages"]


def test_the_key_with_another_body_is_refused_with_422_and_queues_nothing(
    api: ApiFunctions, sqs: SQSClient, bulk_queue_url: str
) -> None:
    # GIVEN a job accepted under an Idempotency-Key
    assert api("jobs", api_event(EVENT)).status == 202
    drain_queue(sqs, bulk_queue_url)
    # AND another body (one more token) sent with the same key
    body = api_event_body(EVENT)
    body["token_accounts"].append({"token": "token9", "account_list": [{"account": "9@x.cn"}]})

    # WHEN it comes
    answer = api("jobs", api_event(EVENT, body))

    # THEN it is refused with 422 idempotency_key_reused, and nothing is queued
    assert answer.status == 422, answer
    assert answer.body["error"]["code"] == "idempotency_key_reused"
    assert drain_queue(sqs, bulk_queue_url) == []


class HeldSender:
    """A sender that waits until released before queueing (a first request still in flight)."""

    def __init__(self, sender: MessageSender) -> None:
        self.sender = sender
        self.entered = threading.Event()
        self.release = threading.Event()

    def send(self, bodies: Sequence[str], **options: Any) -> None:
        self.entered.set()
        assert self.release.wait(10)
        self.sender.send(bodies, **options)


# Two invocations at once in one process share Powertools' metrics: one flushes them all.
@pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")
def test_a_request_while_the_first_with_its_key_is_in_flight_is_refused_with_409(
    api: ApiFunctions, sqs: SQSClient, bulk_queue_url: str
) -> None:
    # GIVEN a first request with a key, held just before it queues its messages
    submitter: JobSubmitter = load_function("jobs").api.service()
    held = HeldSender(submitter.sender)
    submitter.sender = held  # type: ignore[assignment]
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(api, "jobs", api_event(EVENT))
        assert held.entered.wait(10)

        # WHEN the same request comes meanwhile
        second = api("jobs", api_event(EVENT))
        held.release.set()

    # THEN it is refused with 409 idempotency_key_in_progress, and the first goes through
    assert second.status == 409, second
    assert second.body["error"]["code"] == "idempotency_key_in_progress"
    assert first.result().status == 202
    # AND a retry after it answers the first request's job
    third = api("jobs", api_event(EVENT))
    assert third.status == 202 and third.body["job_id"] == first.result().body["job_id"]
    assert set(queued_job_ids(sqs, bulk_queue_url)) == {first.result().body["job_id"]}


def test_a_key_replays_its_job_for_24_hours_and_then_starts_a_new_one(
    api: ApiFunctions, sqs: SQSClient, bulk_queue_url: str
) -> None:
    # GIVEN the jobs function's submitter on a clock the test moves
    clock = ManualClock(1_800_000_000.0)
    submitter = JobSubmitter.from_env(clock=clock)
    request = job_request(http_request(api_event(EVENT), {}))
    first = submitter.submit(request, Deadline.within(10))
    assert first.status == 202

    # WHEN the same request comes 24 hours later, and again one second after that
    clock.advance(WINDOW_S)
    within = submitter.submit(request, Deadline.within(10))
    clock.advance(1)
    after = submitter.submit(request, Deadline.within(10))

    # THEN at 24 hours it is still the first job, replayed; after them, a new job, queued
    assert (within.status, within.body["job_id"], within.body.get("replayed")) == (
        202,
        first.body["job_id"],
        True,
    )
    assert after.status == 202 and "replayed" not in after.body
    assert after.body["job_id"] != first.body["job_id"]
    assert set(queued_job_ids(sqs, bulk_queue_url)) == {first.body["job_id"], after.body["job_id"]}
