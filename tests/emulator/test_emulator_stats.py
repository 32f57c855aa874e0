"""Counters tests and benchmarks assert on: requests, outcomes, calls, concurrency, throttling."""

from __future__ import annotations

import threading
import time

import requests

from tests.support.tpns_client import (
    BATCHOPERATE_PATH,
    QUERY_PATH,
    MakeTestClient,
    TpnsTestClient,
    acc,
)
from tests.support.vector import VECTOR_ACCESS_ID
from tpns_emulator import TpnsEmulator


def test_stats_count_requests_by_path_and_outcome(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a fresh emulator
    # WHEN a bind, a query and an unauthenticated unbind are sent
    client.bind("t1", "alice")
    client.query({"operator_type": 2, "token_list": ["t1"]})
    client.post(BATCHOPERATE_PATH, {"operator_type": 4, "token_list": ["t1"]}, headers={})
    # THEN the stats count them, by path and by outcome
    stats = emulator.stats
    assert stats.requests == 3
    assert stats.by_path == {BATCHOPERATE_PATH: 2, QUERY_PATH: 1}
    assert stats.by_outcome == {"ok": 2, "auth": 1}
    assert stats["requests"] == 3  # also readable like a dict


def test_stats_record_each_call(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN an override of three tokens
    items = [{"token": f"t{i}", "account_list": acc("alice")} for i in range(3)]
    # WHEN it is sent
    client.batch({"operator_type": 2, "token_accounts": items})
    # THEN one call is recorded: its path, app, operator type, size and outcome
    (call,) = emulator.stats.calls
    assert (call.path, call.access_id, call.operator_type, call.item_count) == (
        BATCHOPERATE_PATH,
        VECTOR_ACCESS_ID,
        2,
        3,
    )
    assert (call.ret_code, call.http_status, call.outcome) == (0, 200, "ok")


def test_peak_concurrency_counts_simultaneous_requests(
    emulator: TpnsEmulator, make_client: MakeTestClient
) -> None:
    # GIVEN 8 clients on separate connections and 0.3 s latency per request
    emulator.latency_s = 0.3
    clients = [make_client() for _ in range(8)]
    barrier = threading.Barrier(len(clients))

    def call(c: TpnsTestClient) -> None:
        barrier.wait()
        c.bind("t1", "alice")

    threads = [threading.Thread(target=call, args=(c,)) for c in clients]
    # WHEN they all call at once
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # THEN all 8 were in flight together, and none is now
    stats = emulator.stats
    assert stats.peak_concurrency == 8
    assert stats.in_flight == 0
    assert stats.requests == 8


def test_reset_stats_clears_counters_but_keeps_bindings(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN one bind served
    client.bind("t1", "alice")
    # WHEN the stats are reset
    emulator.reset_stats()
    # THEN every counter is back to zero, and the binding is still there
    stats = emulator.stats
    assert (stats.requests, stats.by_outcome, stats.calls, stats.peak_concurrency) == (0, {}, [], 0)
    assert emulator.tokens_of(VECTOR_ACCESS_ID, "alice") == ["t1"]


def test_reset_clears_bindings_faults_counters_and_invalid_tokens_but_keeps_apps(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a binding, a fault and an invalid token
    client.bind("t1", "alice")
    emulator.faults.add("http", status=500)
    emulator.invalid_tokens.add("bad")
    # WHEN the emulator is reset
    emulator.reset()
    # THEN all of them are gone, and the app still authenticates
    assert emulator.bindings(VECTOR_ACCESS_ID) == {}
    assert len(emulator.faults) == 0
    assert emulator.invalid_tokens == set()
    assert emulator.stats.requests == 0
    assert client.bind("t1", "alice")["ret_code"] == 0


def test_qps_cap_throttles_the_excess_with_1008028(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a cap of 3 requests per second
    emulator.qps_cap = 3
    # WHEN 5 requests arrive at once
    codes = [client.bind("t1", "alice")["ret_code"] for _ in range(5)]
    # THEN the excess is throttled (HTTP 200, 1008028) and counted
    assert codes == [0, 0, 0, 1008028, 1008028]
    assert emulator.stats.throttled == 2
    assert emulator.stats.by_outcome == {"ok": 3, "throttled": 2}


def test_qps_cap_window_slides(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN a cap of 2 requests per second, used up by 3 requests
    emulator.qps_cap = 2
    assert [client.bind("t1", "alice")["ret_code"] for _ in range(3)] == [0, 0, 1008028]
    # WHEN a second has passed
    time.sleep(1.05)
    # THEN a request is served again
    assert client.bind("t1", "alice")["ret_code"] == 0


def test_throttled_query_uses_camel_case(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN a cap of 1 request per second, used up by a bind
    emulator.qps_cap = 1
    client.bind("t1", "alice")
    # WHEN a query comes in the same second
    answer = client.query({"operator_type": 2, "token_list": ["t1"]})
    # THEN it is throttled, in the query's camelCase envelope
    assert answer == {"retCode": 1008028, "errMsg": "request too fast"}


def test_no_qps_cap_means_no_throttling(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN no QPS cap
    emulator.qps_cap = None
    # WHEN 50 binds are sent at once
    codes = [client.bind("t1", "alice")["ret_code"] for _ in range(50)]
    # THEN every one succeeds
    assert all(code == 0 for code in codes)


def test_reset_restores_the_constructor_settings() -> None:
    # GIVEN an emulator built with a style and an apply delay, then reconfigured
    emu = TpnsEmulator(apps={VECTOR_ACCESS_ID: "k"}, apply_delay=1.5, style="legacy")
    emu.style = "current"
    emu.apply_delay = 0
    emu.qps_cap = 10
    emu.omit_default_account_type = True
    # WHEN it is reset
    emu.reset()
    # THEN the constructor's settings are back
    assert (emu.style, emu.apply_delay, emu.qps_cap) == ("legacy", 1.5, None)
    assert emu.omit_default_account_type is False


def test_reset_abandons_requests_still_hanging(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a request stuck in a long hang
    emulator.faults.add("hang", seconds=30)
    outcome: list[str] = []

    def call() -> None:
        try:
            client.bind("t1", "alice")
            outcome.append("answered")
        except requests.ConnectionError:
            outcome.append("connection error")

    thread = threading.Thread(target=call)
    thread.start()
    deadline = time.monotonic() + 5
    while emulator.stats.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    # WHEN the emulator is reset
    emulator.reset()
    thread.join(timeout=5)
    # THEN the request is cut off without applying anything or leaving a call record
    assert outcome == ["connection error"]
    assert emulator.bindings(VECTOR_ACCESS_ID) == {}
    assert emulator.stats.requests == 0
