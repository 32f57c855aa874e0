"""Fault injection: latency, error codes, HTTP errors, hangs, dropped connections."""

from __future__ import annotations

import time

import pytest
import requests

from tpns_emulator import FaultSet

APP = "1500001048"
BATCH = "/v3/device/account/batchoperate"
QUERY = "/v3/device/account/query"
BIND_T1 = {
    "operator_type": 2,
    "token_accounts": [{"token": "t1", "account_list": [{"account": "al"}]}],
}


def test_latency_fault_delays_then_answers_normally(emulator, client):
    emulator.faults.add("latency", seconds=0.2)
    start = time.perf_counter()
    answer = client.bind("t1", "alice")
    assert time.perf_counter() - start >= 0.2
    assert answer["ret_code"] == 0


def test_base_latency_applies_to_every_request(emulator, client):
    emulator.latency_s = 0.1
    start = time.perf_counter()
    client.bind("t1", "alice")
    client.bind("t2", "alice")
    assert time.perf_counter() - start >= 0.2


def test_error_fault_answers_http_200_with_its_code_and_changes_nothing(emulator, client):
    emulator.faults.add("error", code=1008004)
    response = client.post(BATCH, {"operator_type": 4, "token_list": ["t1"]})
    assert response.status_code == 200
    assert response.json() == {"ret_code": 1008004, "err_msg": "internal service call failed"}
    assert emulator.stats.by_outcome == {"fault_error_1008004": 1}


def test_error_fault_on_query_uses_camel_case(emulator, client):
    emulator.faults.add("error", code=1008028, path="query")
    answer = client.query({"operator_type": 2, "token_list": ["t1"]})
    assert answer == {"retCode": 1008028, "errMsg": "request too fast"}


def test_http_fault_answers_its_status_with_a_non_json_body(emulator, client):
    emulator.faults.add("http", status=503)
    response = client.post(BATCH, {"operator_type": 4, "token_list": ["t1"]})
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Retry-After"] == "1"
    with pytest.raises(ValueError, match="Expecting value"):
        response.json()
    assert emulator.stats.by_outcome == {"fault_http_503": 1}


def test_http_fault_keeps_the_connection_usable(emulator, client):
    # GIVEN one 500 WHEN the client retries on the same keep-alive session THEN it succeeds
    emulator.faults.add("http", status=500, times=1)
    assert client.post(BATCH, {"operator_type": 4, "token_list": ["t1"]}).status_code == 500
    assert client.post(BATCH, {"operator_type": 4, "token_list": ["t1"]}).status_code == 200


def test_drop_fault_closes_the_connection_without_a_response(emulator, client):
    # GIVEN a keep-alive connection already in use
    assert client.bind("t0", "alice")["ret_code"] == 0
    emulator.faults.add("drop", times=1)
    # WHEN the next call is dropped THEN the client sees a connection error
    with pytest.raises(requests.ConnectionError):
        client.bind("t1", "alice")
    # THEN nothing was applied, and the next call works on a new connection
    assert emulator.tokens_of(APP, "alice") == ["t0"]
    assert client.bind("t1", "alice")["ret_code"] == 0
    assert emulator.stats.by_outcome == {"fault_drop": 1, "ok": 2}


def test_hang_fault_times_the_client_out_and_then_applies_the_request(emulator, client):
    # GIVEN the server stalls 0.4 s WHEN the client waits only 0.1 s
    emulator.faults.add("hang", seconds=0.4, times=1)
    with pytest.raises(requests.Timeout):
        client.post(BATCH, BIND_T1, timeout=0.1)
    # THEN the request was still processed later: its outcome was unknown to the client
    deadline = time.monotonic() + 3
    while emulator.stats.requests == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert emulator.bindings(APP) == {"t1": [("al", 0)]}
    assert emulator.stats.faults_fired == {"hang": 1}


def test_times_limits_how_often_a_fault_fires(emulator, client):
    emulator.faults.add("error", code=1008004, times=2)
    codes = [client.bind("t1", "alice")["ret_code"] for _ in range(3)]
    assert codes == [1008004, 1008004, 0]
    assert len(emulator.faults) == 0


def test_path_filter_limits_a_fault_to_one_endpoint(emulator, client):
    emulator.faults.add("http", status=502, path="query")
    assert client.bind("t1", "alice")["ret_code"] == 0
    assert client.post(QUERY, {"operator_type": 2, "token_list": ["t1"]}).status_code == 502


def test_latency_faults_add_up_before_the_first_other_fault(emulator, client):
    emulator.faults.add("latency", seconds=0.1)
    emulator.faults.add("latency", seconds=0.1)
    emulator.faults.add("error", code=1008004)
    emulator.faults.add("http", status=500)  # never reached: the error fault fires first
    start = time.perf_counter()
    response = client.post(BATCH, {"operator_type": 4, "token_list": ["t1"]})
    assert time.perf_counter() - start >= 0.2
    assert response.json()["ret_code"] == 1008004


def test_probability_fires_some_of_the_time(emulator, client):
    emulator.faults.seed(7)
    emulator.faults.add("error", code=1008004, probability=0.5)
    codes = [client.bind("t1", "alice")["ret_code"] for _ in range(40)]
    assert 0 < codes.count(1008004) < 40


def test_seeded_probability_is_reproducible():
    def pattern():
        faults = FaultSet(seed=42)
        faults.add("drop", probability=0.3)
        return [faults.decide("batchoperate").fault is not None for _ in range(50)]

    assert pattern() == pattern()


def test_clear_removes_all_faults(emulator, client):
    emulator.faults.add("http", status=500)
    emulator.faults.clear()
    assert client.bind("t1", "alice")["ret_code"] == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "explode"},
        {"kind": "error"},
        {"kind": "latency"},
        {"kind": "hang"},
        {"kind": "http", "status": 99},
        {"kind": "http", "probability": 1.5},
        {"kind": "http", "times": 0},
        {"kind": "http", "path": "push"},
    ],
)
def test_inconsistent_faults_are_refused(emulator, kwargs):
    kind = kwargs.pop("kind")
    with pytest.raises(ValueError, match=r"\w"):
        emulator.faults.add(kind, **kwargs)
