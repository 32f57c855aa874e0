"""Upstream faults injected in the emulator map to the design's statuses, within the deadline."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.conftest import api_event
from tests.conftest import ACCESS_ID, SECRET_KEY
from tests.functions import FakeLambdaContext, load_function
from tpns_account import UpstreamUnavailableError
from tpns_emulator import TpnsEmulator


def test_throttling_is_429_with_retry_after(api: Any, emulator: TpnsEmulator) -> None:
    emulator.faults.add("error", code=1008028)
    answer = api("bind", api_event("bind"), remaining_ms=4_000)
    assert answer.status == 429, answer
    assert int(answer.headers["Retry-After"]) >= 1
    assert answer.body["error"]["code"] == "throttled"
    assert answer.body["error"]["details"][0]["tpns_code"] == 1008028


def test_http_429_from_tpns_is_429(api: Any, emulator: TpnsEmulator) -> None:
    emulator.faults.add("http", status=429)
    answer = api("query", api_event("query-token-list"), remaining_ms=4_000)
    assert answer.status == 429 and "Retry-After" in answer.headers


def test_wrong_key_is_502_with_the_tpns_code_and_meaning(api: Any, emulator: TpnsEmulator) -> None:
    emulator.set_secret(ACCESS_ID, "rotated-but-not-in-the-secret")
    answer = api("bind", api_event("bind"))
    assert answer.status == 502, answer
    assert answer.body["error"]["code"] == "upstream_auth_failed"
    assert answer.body["error"]["details"][0]["tpns_code"] == 1008003
    assert answer.body["error"]["details"][0]["meaning"] == "authentication failed"


@pytest.mark.parametrize(
    ("state", "code"), [("unpaid", 1008030), ("destroyed", 1008031), ("undeployed", 1010001)]
)
def test_app_state_is_502(api: Any, emulator: TpnsEmulator, state: str, code: int) -> None:
    emulator.set_app_state(ACCESS_ID, state)
    answer = api("unbind", api_event("unbind-token-list"))
    assert answer.status == 502
    assert answer.body["error"]["code"] == "upstream_app_state"
    assert answer.body["error"]["details"][0]["tpns_code"] == code


def test_wrong_region_is_502_configuration(
    api: Any, emulator: TpnsEmulator, monkeypatch: Any
) -> None:
    monkeypatch.setenv("TPNS_ENDPOINT", emulator.url + "/wrong-region")
    api.reset()
    answer = api("bind", api_event("bind"))
    assert answer.status == 502 and answer.body["error"]["code"] == "upstream_configuration_error"


def test_persistent_5xx_is_503_within_the_deadline(api: Any, emulator: TpnsEmulator) -> None:
    emulator.faults.add("http", status=502)
    started = time.monotonic()
    answer = api("bind", api_event("bind"), remaining_ms=4_000)
    assert answer.status == 503, answer
    assert answer.body["error"]["code"] == "upstream_unavailable"
    assert "idempotent" in answer.body["error"]["message"]
    assert time.monotonic() - started < 4.0


def test_dropped_connections_are_503(api: Any, emulator: TpnsEmulator) -> None:
    emulator.faults.add("drop")
    answer = api("query", api_event("get-token-accounts"), remaining_ms=3_000)
    assert answer.status == 503


def test_hang_is_504_within_the_deadline(api: Any, emulator: TpnsEmulator) -> None:
    emulator.faults.add("hang", seconds=5.0)
    started = time.monotonic()
    answer = api("unbind", api_event("unbind-token-list"), remaining_ms=3_500)
    assert answer.status == 504, answer
    assert time.monotonic() - started < 3.5


def test_transient_faults_that_clear_are_invisible_to_the_caller(
    api: Any, emulator: TpnsEmulator
) -> None:
    emulator.faults.add("http", status=503, times=2)
    answer = api("bind", api_event("bind"))
    assert answer.status == 200 and answer.body["accepted"] == 2


def test_missing_secret_is_502_service_misconfigured(api: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("TPNS_SECRET_ID", "tpns/missing")
    api.reset()
    answer = api("bind", api_event("bind"))
    assert answer.status == 502
    assert answer.body["error"]["code"] == "service_misconfigured"
    assert "ResourceNotFoundException" in answer.body["error"]["message"]


def test_unreachable_secrets_manager_is_503(api: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    api.reset()
    answer = api("bind", api_event("bind"))
    assert answer.status == 503
    assert answer.body["error"]["code"] == "credentials_unavailable"


def test_the_secret_name_is_not_in_answers(api: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("TPNS_SECRET_ID", "tpns/private-name")
    api.reset()
    answer = api("bind", api_event("bind"))
    assert answer.status == 502
    assert "tpns/private-name" not in answer.text


def test_jobs_answer_503_when_the_queue_refuses(api: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("BULK_QUEUE_URL", "http://127.0.0.1:9/000000000000/missing")
    api.reset()
    answer = api("jobs", api_event("jobs-unbind"))
    assert answer.status == 503
    assert "resubmitting the job is safe" in answer.body["error"]["message"]


def test_direct_unbind_raises_on_upstream_failure_so_retries_apply(
    api: Any, emulator: TpnsEmulator
) -> None:
    emulator.faults.add("http", status=503)
    with pytest.raises(UpstreamUnavailableError):
        load_function("unbind").lambda_handler({"token_list": ["t1"]}, FakeLambdaContext(3_000))


def test_the_secret_key_never_appears_in_answers_or_function_output(
    api: Any, emulator: TpnsEmulator, capfd: Any
) -> None:
    # GIVEN every kind of answer: success, per-item failure, auth failure, unreachable
    emulator.invalid_tokens.add("token2")
    texts = [api("bind", api_event("bind")).text]
    emulator.set_secret(ACCESS_ID, "rotated-elsewhere")
    texts.append(api("bind", api_event("bind")).text)
    emulator.faults.add("drop")
    texts.append(api("query", api_event("query-token-list"), remaining_ms=3_000).text)
    captured = capfd.readouterr()
    # THEN the canary key is in none of them, nor in anything the functions printed
    for text in [*texts, captured.out, captured.err]:
        assert SECRET_KEY not in text
