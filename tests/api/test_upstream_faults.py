"""Upstream faults injected in the emulator map to the design's statuses, within the deadline."""

from __future__ import annotations

import copy
import json
import time

import pytest
from mypy_boto3_sqs import SQSClient

from tests.support.api_events import ApiFunctions, api_event, api_event_body
from tests.support.apps import ACCESS_ID, SECRET_KEY
from tests.support.lambda_runtime import FakeLambdaContext, load_function
from tpns_account import UpstreamUnavailableError
from tpns_emulator import TpnsEmulator


def test_throttling_is_429_with_retry_after(api: ApiFunctions, emulator: TpnsEmulator) -> None:
    # GIVEN TPNS throttles every call (1008028)
    emulator.faults.add("error", code=1008028)
    # WHEN a bind comes with 4 s left
    answer = api("bind", api_event("bind"), remaining_ms=4_000)
    # THEN it is 429 throttled with a Retry-After, and the TPNS code in the details
    assert answer.status == 429, answer
    assert int(answer.headers["Retry-After"]) >= 1
    assert answer.body["error"]["code"] == "throttled"
    assert answer.body["error"]["details"][0]["tpns_code"] == 1008028


def test_http_429_from_tpns_is_429(api: ApiFunctions, emulator: TpnsEmulator) -> None:
    # GIVEN TPNS answers HTTP 429 to every call
    emulator.faults.add("http", status=429)
    # WHEN a query comes with 4 s left
    answer = api("query", api_event("query-token-list"), remaining_ms=4_000)
    # THEN it is 429 with a Retry-After
    assert answer.status == 429 and "Retry-After" in answer.headers


def test_wrong_key_is_502_with_the_tpns_code_and_meaning(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN the app's key rotated in TPNS but not in the secret
    emulator.set_secret(ACCESS_ID, "rotated-but-not-in-the-secret")
    # WHEN a bind comes
    answer = api("bind", api_event("bind"))
    # THEN it is 502 upstream_auth_failed, with TPNS's code and what it means
    assert answer.status == 502, answer
    assert answer.body["error"]["code"] == "upstream_auth_failed"
    assert answer.body["error"]["details"][0]["tpns_code"] == 1008003
    assert answer.body["error"]["details"][0]["meaning"] == "authentication failed"


@pytest.mark.parametrize(
    ("state", "code"), [("unpaid", 1008030), ("destroyed", 1008031), ("undeployed", 1010001)]
)
def test_app_state_is_502(api: ApiFunctions, emulator: TpnsEmulator, state: str, code: int) -> None:
    # GIVEN the app is in a state where TPNS refuses it
    emulator.set_app_state(ACCESS_ID, state)
    # WHEN an unbind comes
    answer = api("unbind", api_event("unbind-token-list"))
    # THEN it is 502 upstream_app_state, with the state's TPNS code
    assert answer.status == 502
    assert answer.body["error"]["code"] == "upstream_app_state"
    assert answer.body["error"]["details"][0]["tpns_code"] == code


def test_wrong_region_is_502_configuration(
    api: ApiFunctions, emulator: TpnsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the functions pointed at a TPNS path that does not exist (as a wrong region would be)
    monkeypatch.setenv("TPNS_ENDPOINT", emulator.url + "/wrong-region")
    api.reset()
    # WHEN a bind comes
    answer = api("bind", api_event("bind"))
    # THEN it is 502 upstream_configuration_error
    assert answer.status == 502 and answer.body["error"]["code"] == "upstream_configuration_error"


def test_persistent_5xx_is_503_within_the_deadline(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS answers HTTP 502 to every call
    emulator.faults.add("http", status=502)
    # WHEN a bind comes with 4 s left
    started = time.monotonic()
    answer = api("bind", api_event("bind"), remaining_ms=4_000)
    # THEN it is 503, saying a retry is safe, before the deadline
    assert answer.status == 503, answer
    assert answer.body["error"]["code"] == "upstream_unavailable"
    assert "idempotent" in answer.body["error"]["message"]
    assert time.monotonic() - started < 4.0


def test_dropped_connections_are_503(api: ApiFunctions, emulator: TpnsEmulator) -> None:
    # GIVEN TPNS drops every connection
    emulator.faults.add("drop")
    # WHEN a lookup comes with 3 s left
    answer = api("query", api_event("get-token-accounts"), remaining_ms=3_000)
    # THEN it is 503
    assert answer.status == 503


def test_hang_is_504_within_the_deadline(api: ApiFunctions, emulator: TpnsEmulator) -> None:
    # GIVEN TPNS hangs for 5 s
    emulator.faults.add("hang", seconds=5.0)
    # WHEN an unbind comes with 3.5 s left
    started = time.monotonic()
    answer = api("unbind", api_event("unbind-token-list"), remaining_ms=3_500)
    # THEN it is 504, before the deadline
    assert answer.status == 504, answer
    assert time.monotonic() - started < 3.5


def test_transient_faults_that_clear_are_invisible_to_the_caller(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS fails the first two calls with HTTP 503
    emulator.faults.add("http", status=503, times=2)
    # WHEN a bind comes
    answer = api("bind", api_event("bind"))
    # THEN it succeeds, every item accepted
    assert answer.status == 200 and answer.body["accepted"] == 2


def test_missing_secret_is_502_service_misconfigured(
    api: ApiFunctions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the functions configured with a secret that does not exist
    monkeypatch.setenv("TPNS_SECRET_ID", "tpns/missing")
    api.reset()
    # WHEN a bind comes
    answer = api("bind", api_event("bind"))
    # THEN it is 502 service_misconfigured, naming the cause
    assert answer.status == 502
    assert answer.body["error"]["code"] == "service_misconfigured"
    assert "ResourceNotFoundException" in answer.body["error"]["message"]


def test_unreachable_secrets_manager_is_503(
    api: ApiFunctions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the functions pointed at an AWS endpoint nothing listens on
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    api.reset()
    # WHEN a bind comes
    answer = api("bind", api_event("bind"))
    # THEN it is 503 credentials_unavailable
    assert answer.status == 503
    assert answer.body["error"]["code"] == "credentials_unavailable"


def test_the_secret_name_is_not_in_answers(
    api: ApiFunctions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the functions configured with a missing secret of a recognisable name
    monkeypatch.setenv("TPNS_SECRET_ID", "tpns/private-name")
    api.reset()
    # WHEN a bind comes
    answer = api("bind", api_event("bind"))
    # THEN the 502 does not name the secret
    assert answer.status == 502
    assert "tpns/private-name" not in answer.text


def test_jobs_answer_503_when_the_queue_refuses_and_the_job_reports_its_items_failed(
    api: ApiFunctions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the jobs function pointed at a queue that does not exist
    monkeypatch.setenv("BULK_QUEUE_URL", "http://127.0.0.1:9/000000000000/missing")
    api.reset()
    body = {**api_event_body("jobs-unbind"), "job_id": "queue-down"}
    # WHEN a job comes without an Idempotency-Key
    answer = api("jobs", api_event("jobs-unbind", body))
    # THEN it is 503, saying what became of the job and that sending again is safe
    assert answer.status == 503
    message = answer.body["error"]["message"]
    assert "job queue-down reports their items failed" in message
    assert "send the request again" in message
    # AND the job does not wait forever: it failed, every item listed as not queued
    status = api("jobs", api_event("job-status", path_parameters={"job_id": "queue-down"}))
    assert status.body["state"] == "failed"
    assert status.body["items"] | {"failed": 2, "pending": 0} == status.body["items"]
    failures = api("jobs", api_event("job-failures", path_parameters={"job_id": "queue-down"}))
    assert [(f["index"], f["account"], f["outcome"]) for f in failures.body["items"]] == [
        (0, "926@163.com", "failed"),
        (1, "1527000001", "failed"),
    ]
    assert failures.body["items"][0]["reason"].startswith("not queued")


def test_jobs_answer_503_when_the_queue_refuses_and_a_retry_with_the_key_finishes_the_job(
    api: ApiFunctions, monkeypatch: pytest.MonkeyPatch, bulk_queue_url: str
) -> None:
    # GIVEN a job with an Idempotency-Key that the bulk queue did not take
    monkeypatch.setenv("BULK_QUEUE_URL", "http://127.0.0.1:9/000000000000/missing")
    api.reset()
    event = api_event("jobs-bind-idempotent")
    refused = api("jobs", event)
    assert refused.status == 503
    assert "same Idempotency-Key" in refused.body["error"]["message"]
    # WHEN the queue is back and the same request is sent again at once
    monkeypatch.setenv("BULK_QUEUE_URL", bulk_queue_url)
    api.reset()
    answer = api("jobs", event)
    # THEN it is accepted, as the job the first attempt made
    assert answer.status == 202, answer
    job_id = answer.body["job_id"]
    assert job_id in refused.body["error"]["message"]
    status = api("jobs", api_event("job-status", path_parameters={"job_id": job_id}))
    assert status.body["state"] == "queued"
    assert status.body["items"]["failed"] == 0


def test_a_retry_with_the_key_an_hour_later_queues_the_first_attempts_issued_at(
    api: ApiFunctions, monkeypatch: pytest.MonkeyPatch, bulk_queue_url: str, sqs: SQSClient
) -> None:
    # GIVEN a job with an Idempotency-Key that the bulk queue did not take
    monkeypatch.setenv("BULK_QUEUE_URL", "http://127.0.0.1:9/000000000000/missing")
    api.reset()
    first = api_event("jobs-bind-idempotent")
    assert api("jobs", first).status == 503
    # WHEN the same request is sent again an hour later, the queue back
    monkeypatch.setenv("BULK_QUEUE_URL", bulk_queue_url)
    api.reset()
    retry = copy.deepcopy(first)
    retry["requestContext"]["requestTimeEpoch"] += 3_600_000
    assert api("jobs", retry).status == 202
    # THEN its messages are the first attempt's operation: issued when it was, not an hour later
    received = sqs.receive_message(QueueUrl=bulk_queue_url, MaxNumberOfMessages=10)
    issued = {json.loads(m["Body"])["issued_at"] for m in received["Messages"]}
    assert issued == {first["requestContext"]["requestTimeEpoch"]}


def test_direct_unbind_raises_on_upstream_failure_so_retries_apply(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS answers HTTP 503 to every call
    emulator.faults.add("http", status=503)
    # WHEN the unbind function is invoked directly (not through API Gateway)
    # THEN it raises, so that the invoker's retries apply
    with pytest.raises(UpstreamUnavailableError):
        load_function("unbind").lambda_handler({"token_list": ["t1"]}, FakeLambdaContext(3_000))


def test_the_secret_key_never_appears_in_answers_or_function_output(
    api: ApiFunctions, emulator: TpnsEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    # GIVEN TPNS refusing a token
    emulator.invalid_tokens.add("token2")
    # WHEN every kind of answer comes: per-item failure, auth failure, unreachable
    texts = [api("bind", api_event("bind")).text]
    emulator.set_secret(ACCESS_ID, "rotated-elsewhere")
    texts.append(api("bind", api_event("bind")).text)
    emulator.faults.add("drop")
    texts.append(api("query", api_event("query-token-list"), remaining_ms=3_000).text)
    captured = capfd.readouterr()
    # THEN the canary key is in none of them, nor in anything the functions printed
    for text in [*texts, captured.out, captured.err]:
        assert SECRET_KEY not in text
