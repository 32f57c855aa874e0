"""Fault injection: latency, error codes, HTTP errors, hangs, dropped connections."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.support.tpns_client import BATCHOPERATE_PATH, QUERY_PATH, TpnsTestClient
from tests.support.vector import VECTOR_ACCESS_ID
from tpns_emulator import FaultSet, TpnsEmulator

BIND_T1 = {
    "operator_type": 2,
    "token_accounts": [{"token": "t1", "account_list": [{"account": "al"}]}],
}
UNBIND_T1 = {"operator_type": 4, "token_list": ["t1"]}


def test_latency_fault_delays_then_answers_normally(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a latency fault of 0.2 s
    emulator.faults.add("latency", seconds=0.2)
    # WHEN a bind is sent
    start = time.perf_counter()
    answer = client.bind("t1", "alice")
    # THEN it takes at least that long, and succeeds
    assert time.perf_counter() - start >= 0.2
    assert answer["ret_code"] == 0


def test_base_latency_applies_to_every_request(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a base latency of 0.1 s
    emulator.latency_s = 0.1
    # WHEN two binds are sent
    start = time.perf_counter()
    client.bind("t1", "alice")
    client.bind("t2", "alice")
    # THEN each was delayed
    assert time.perf_counter() - start >= 0.2


def test_error_fault_answers_http_200_with_its_code_and_changes_nothing(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN an error fault of TPNS's internal error code
    emulator.faults.add("error", code=1008004)
    # WHEN an unbind is sent
    response = client.post(BATCHOPERATE_PATH, UNBIND_T1)
    # THEN it is HTTP 200 with that code and its message, and counted as the fault
    assert response.status_code == 200
    assert response.json() == {"ret_code": 1008004, "err_msg": "internal service call failed"}
    assert emulator.stats.by_outcome == {"fault_error_1008004": 1}


def test_error_fault_on_query_uses_camel_case(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a throttling error fault on the query path
    emulator.faults.add("error", code=1008028, path="query")
    # WHEN a query is sent
    answer = client.query({"operator_type": 2, "token_list": ["t1"]})
    # THEN the error is in the query's camelCase envelope
    assert answer == {"retCode": 1008028, "errMsg": "request too fast"}


def test_http_fault_answers_its_status_with_a_non_json_body(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN an HTTP 503 fault
    emulator.faults.add("http", status=503)
    # WHEN an unbind is sent
    response = client.post(BATCHOPERATE_PATH, UNBIND_T1)
    # THEN it is a 503 with an HTML body and Retry-After, counted as the fault
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Retry-After"] == "1"
    with pytest.raises(ValueError, match="Expecting value"):
        response.json()
    assert emulator.stats.by_outcome == {"fault_http_503": 1}


def test_http_fault_keeps_the_connection_usable(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN one HTTP 500
    emulator.faults.add("http", status=500, times=1)
    # WHEN the client sends twice on the same keep-alive session
    first = client.post(BATCHOPERATE_PATH, UNBIND_T1)
    second = client.post(BATCHOPERATE_PATH, UNBIND_T1)
    # THEN the first gets the 500 and the retry succeeds
    assert first.status_code == 500
    assert second.status_code == 200


def test_drop_fault_closes_the_connection_without_a_response(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a keep-alive connection already in use, and one drop fault
    assert client.bind("t0", "alice")["ret_code"] == 0
    emulator.faults.add("drop", times=1)
    # WHEN the next call is dropped
    # THEN the client sees a connection error
    with pytest.raises(requests.ConnectionError):
        client.bind("t1", "alice")
    # AND nothing was applied, and the next call works on a new connection
    assert emulator.tokens_of(VECTOR_ACCESS_ID, "alice") == ["t0"]
    assert client.bind("t1", "alice")["ret_code"] == 0
    assert emulator.stats.by_outcome == {"fault_drop": 1, "ok": 2}


def test_hang_fault_times_the_client_out_and_then_applies_the_request(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN the server stalls 0.4 s once
    emulator.faults.add("hang", seconds=0.4, times=1)
    # WHEN the client waits only 0.1 s
    with pytest.raises(requests.Timeout):
        client.post(BATCHOPERATE_PATH, BIND_T1, timeout=0.1)
    # THEN the request was still processed later: its outcome was unknown to the client
    deadline = time.monotonic() + 3
    while emulator.stats.requests == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert emulator.bindings(VECTOR_ACCESS_ID) == {"t1": [("al", 0)]}
    assert emulator.stats.faults_fired == {"hang": 1}


def test_times_limits_how_often_a_fault_fires(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN an error fault limited to two times
    emulator.faults.add("error", code=1008004, times=2)
    # WHEN three binds are sent
    codes = [client.bind("t1", "alice")["ret_code"] for _ in range(3)]
    # THEN the first two fail, the third succeeds, and the fault is used up
    assert codes == [1008004, 1008004, 0]
    assert len(emulator.faults) == 0


def test_path_filter_limits_a_fault_to_one_endpoint(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN an HTTP 502 fault on the query path only
    emulator.faults.add("http", status=502, path="query")
    # WHEN a bind and a query are sent
    bound = client.bind("t1", "alice")
    queried = client.post(QUERY_PATH, {"operator_type": 2, "token_list": ["t1"]})
    # THEN only the query gets the fault
    assert bound["ret_code"] == 0
    assert queried.status_code == 502


def test_latency_faults_add_up_before_the_first_other_fault(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN two latency faults, then an error fault, then an HTTP fault
    emulator.faults.add("latency", seconds=0.1)
    emulator.faults.add("latency", seconds=0.1)
    emulator.faults.add("error", code=1008004)
    emulator.faults.add("http", status=500)  # never reached: the error fault fires first
    # WHEN an unbind is sent
    start = time.perf_counter()
    response = client.post(BATCHOPERATE_PATH, UNBIND_T1)
    # THEN both latencies applied, and the error fault answered
    assert time.perf_counter() - start >= 0.2
    assert response.json()["ret_code"] == 1008004


def test_probability_fires_some_of_the_time(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN a seeded error fault with probability 0.5
    emulator.faults.seed(7)
    emulator.faults.add("error", code=1008004, probability=0.5)
    # WHEN 40 binds are sent
    codes = [client.bind("t1", "alice")["ret_code"] for _ in range(40)]
    # THEN some failed and some did not
    assert 0 < codes.count(1008004) < 40


def test_seeded_probability_is_reproducible() -> None:
    # GIVEN two fault sets with the same seed and the same probabilistic fault
    def pattern() -> list[bool]:
        faults = FaultSet(seed=42)
        faults.add("drop", probability=0.3)
        return [faults.decide("batchoperate").fault is not None for _ in range(50)]

    # WHEN each decides 50 times
    first, second = pattern(), pattern()
    # THEN they decide alike
    assert first == second


def test_clear_removes_all_faults(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN an HTTP fault on every call
    emulator.faults.add("http", status=500)
    # WHEN the faults are cleared
    emulator.faults.clear()
    # THEN calls succeed again
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
    ids=[
        "unknown-kind",
        "error-without-code",
        "latency-without-seconds",
        "hang-without-seconds",
        "http-status-99",
        "probability-above-1",
        "zero-times",
        "unknown-path",
    ],
)
def test_inconsistent_faults_are_refused(emulator: TpnsEmulator, kwargs: dict[str, Any]) -> None:
    # GIVEN a fault that is unknown, incomplete or out of range
    kind = kwargs.pop("kind")
    # WHEN it is added
    # THEN it is refused with a message
    with pytest.raises(ValueError, match=r"\w"):
        emulator.faults.add(kind, **kwargs)
