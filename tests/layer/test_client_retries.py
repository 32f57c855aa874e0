"""Retries with backoff inside the caller's deadline, and concurrency within its bound."""

from __future__ import annotations

import json
import threading
import time
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.apps import ACCESS_ID, SECRET_KEY
from tests.support.layer_clients import MakeClient
from tpns_account import (
    Account,
    AppCredentials,
    RetryableError,
    RetryPolicy,
    TokenAccounts,
    TpnsClient,
    UpstreamUnavailableError,
)
from tpns_account import client as client_module
from tpns_emulator import TpnsEmulator


def tokens(n: int) -> list[TokenAccounts]:
    return [TokenAccounts(f"token-{i:04d}", (Account(f"acct-{i}"),)) for i in range(n)]


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "http", "status": 500},
        {"kind": "http", "status": 502},
        {"kind": "http", "status": 503},
        {"kind": "http", "status": 429},
        {"kind": "error", "code": 1008004},
        {"kind": "error", "code": 1008028},
        {"kind": "drop"},
        {"kind": "hang", "seconds": 0.5},
    ],
    ids=lambda f: "-".join(str(v) for v in f.values()),
)
def test_transient_faults_are_retried_until_the_call_succeeds(
    make_client: MakeClient, emulator: TpnsEmulator, fault: dict[str, Any]
) -> None:
    # GIVEN TPNS fails the first two calls transiently
    client = make_client(timeout=0.2)
    kind = fault.pop("kind")
    emulator.faults.add(kind, times=2, **fault)
    # WHEN binding
    result = client.bind(tokens(1))
    # THEN the third attempt lands and the binding is there
    assert result.ok
    assert result.retries == 2
    assert result.calls == 3
    assert emulator.bindings(ACCESS_ID) == {"token-0000": [("acct-0", 0)]}


def test_retries_give_up_cleanly_at_the_deadline(
    make_client: MakeClient, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS keeps failing and the caller allows 0.6 s with many attempts
    client = make_client(retry=RetryPolicy(max_attempts=1000, base_delay=0.05, max_delay=0.2))
    emulator.faults.add("http", status=503)
    started = time.monotonic()
    # WHEN binding
    with pytest.raises(UpstreamUnavailableError) as caught:
        client.bind(tokens(1), time_budget=0.6)
    elapsed = time.monotonic() - started
    # THEN the last transient error is raised, within the deadline, after several attempts
    assert elapsed < 0.6 + 0.3  # the deadline, plus the slack of one in-flight call
    assert caught.value.attempts >= 3


def test_a_backoff_that_oversleeps_the_deadline_ends_with_tpns_last_error(
    make_client: MakeClient,
    emulator: TpnsEmulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN TPNS keeps failing, and a host so busy that every backoff sleeps 0.5 s too long
    client = make_client(retry=RetryPolicy(max_attempts=1000, base_delay=0.05, max_delay=0.2))
    emulator.faults.add("http", status=503)
    clock = types.SimpleNamespace(
        monotonic=time.monotonic, sleep=lambda seconds: time.sleep(seconds + 0.5)
    )
    monkeypatch.setattr(client_module, "time", clock)
    # WHEN binding with 0.3 s
    with pytest.raises(RetryableError) as caught:
        client.bind(tokens(1), time_budget=0.3)
    # THEN the error is TPNS's 503, not a timeout the client made up for a call it never sent
    assert isinstance(caught.value, UpstreamUnavailableError)
    # AND the client says it gave up, as it does when the next delay would not fit
    assert any("gave up after" in record.getMessage() for record in caplog.records)


def test_a_hang_never_outlives_the_deadline(
    make_client: MakeClient, emulator: TpnsEmulator
) -> None:
    # GIVEN a client timeout of 5 s and TPNS hanging for 3 s
    client = make_client(timeout=5.0)
    emulator.faults.add("hang", seconds=3.0)
    # WHEN binding with a deadline of 0.4 s
    started = time.monotonic()
    with pytest.raises(RetryableError):
        client.bind(tokens(1), time_budget=0.4)
    # THEN a retryable error comes at the deadline, not after the hang or the timeout
    assert time.monotonic() - started < 1.5


def test_only_the_failed_chunk_is_retried(client: TpnsClient, emulator: TpnsEmulator) -> None:
    # GIVEN 45 tokens (3 calls) and one transient failure
    emulator.faults.add("http", status=500, times=1)
    # WHEN bound
    result = client.bind(tokens(45))
    # THEN 4 calls were made and every token is bound
    assert result.ok
    assert result.calls == 4
    assert len(emulator.bindings(ACCESS_ID)) == 45


def test_concurrency_never_exceeds_its_bound(
    make_client: MakeClient, emulator: TpnsEmulator
) -> None:
    # GIVEN slow TPNS calls and a bound of 3
    emulator.faults.add("latency", seconds=0.05)
    client = make_client(max_concurrency=3)
    # WHEN 240 tokens (12 calls) are bound, from two threads at once
    threads = [threading.Thread(target=client.bind, args=(tokens(240)[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN calls overlapped, but never more than 3 at a time
    assert 2 <= emulator.stats.peak_concurrency <= 3
    assert len(emulator.bindings(ACCESS_ID)) == 240


def test_client_qps_cap_paces_calls_and_keeps_tpns_from_throttling(
    make_client: MakeClient, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS throttles above 60 calls/s and the client is capped at 50 calls/s
    emulator.qps_cap = 60
    client = make_client(max_qps=50, max_concurrency=8, time_budget=10.0)
    # WHEN 80 calls' worth of tokens are bound
    started = time.monotonic()
    result = client.bind(tokens(1600))
    elapsed = time.monotonic() - started
    # THEN the calls were paced (80 calls at 50/s take at least 79/50 s) and none throttled
    assert elapsed >= 79 / 50
    assert result.ok
    assert result.retries == 0
    assert emulator.stats.throttled == 0


def test_without_a_qps_cap_tpns_throttles_the_same_load(
    make_client: MakeClient, emulator: TpnsEmulator
) -> None:
    # GIVEN the same TPNS cap and no client cap: the pacing above is what prevented throttling
    emulator.qps_cap = 60
    client = make_client(max_concurrency=8, time_budget=10.0)
    # WHEN 80 calls' worth of tokens are bound
    client.bind(tokens(1600), raise_on_error=False)
    # THEN TPNS throttled some of them
    assert emulator.stats.throttled > 0


class _FlakyItems(BaseHTTPRequestHandler):
    """First answer: item 1 failed internally; afterwards everything succeeds."""

    protocol_version = "HTTP/1.1"
    bodies: list[Any] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.bodies.append(body)
        n = len(body["token_list"])
        result = ["0", "1008004"] if len(self.bodies) == 1 else ["0"] * n
        reply = json.dumps({"ret_code": 1008026, "err_msg": "part", "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def flaky_items() -> Iterator[tuple[str, list[Any]]]:
    bodies: list[Any] = []  # this server's own, not shared with another test's
    handler = type("Handler", (_FlakyItems,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    server.shutdown()
    server.server_close()


def test_items_failing_transiently_are_resent_alone(flaky_items: tuple[str, list[Any]]) -> None:
    # GIVEN a TPNS whose first answer fails the second item internally, then succeeds
    url, bodies = flaky_items
    client = TpnsClient(
        AppCredentials(ACCESS_ID, SECRET_KEY), endpoint=url, retry=RetryPolicy(base_delay=0.01)
    )
    # WHEN two tokens are unbound
    result = client.unbind_all_accounts(["t1", "t2"])
    # THEN both end accepted, and the retry carried the failed item alone
    assert result.ok
    assert [b["token_list"] for b in bodies] == [["t1", "t2"], ["t2"]]


class _AcceptedThenDown(BaseHTTPRequestHandler):
    """First answer: item 1 failed internally; afterwards the server is down (HTTP 503)."""

    protocol_version = "HTTP/1.1"
    calls: list[int] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.calls.append(1)
        if len(self.calls) == 1:
            status, reply = 200, b'{"ret_code": 1008026, "result": ["0", "1008004", "0"]}'
        else:
            status, reply = 503, b"down"
        self.send_response(status)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: Any) -> None:
        pass


def test_items_tpns_accepted_stay_accepted_when_the_retry_of_others_fails() -> None:
    # GIVEN a TPNS whose first answer fails the middle item internally, then is down
    handler = type("Handler", (_AcceptedThenDown,), {"calls": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = TpnsClient(
            AppCredentials(ACCESS_ID, SECRET_KEY),
            endpoint=f"http://127.0.0.1:{server.server_address[1]}",
            retry=RetryPolicy(base_delay=0.01, max_attempts=3),
        )
        # WHEN three tokens are unbound without raising on errors
        result = client.unbind_all_accounts(["t1", "t2", "t3"], raise_on_error=False)
    finally:
        server.shutdown()
        server.server_close()
    # THEN the items TPNS accepted stay accepted; only the retried one is in error
    assert [i.status for i in result.items] == ["accepted", "error", "accepted"]
    assert isinstance(result.items[1].error, UpstreamUnavailableError)
