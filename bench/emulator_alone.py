"""Clients that add nothing: one bare connection posting calls one after another (the bulk
table's *sequential* baseline) and no-op threads posting a pre-built, pre-signed call (what the
emulator itself allows at each concurrency)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from bench.config import BATCH_PATH, ITEMS_PER_CALL, BenchError
from bench.events import bulk_token_accounts, sign_headers
from bench.measure import Bench
from bench.results import Results


def signed_call(items: list[dict[str, Any]]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"operator_type": 2, "token_accounts": items}, separators=(",", ":")).encode()
    return body, sign_headers(body)


def sequential(bench: Bench, calls: int) -> float:
    """Bindings/s of one bare connection posting 20-binding calls one after another."""
    items = bulk_token_accounts(0, calls * ITEMS_PER_CALL)
    requests = [
        signed_call(items[i : i + ITEMS_PER_CALL]) for i in range(0, len(items), ITEMS_PER_CALL)
    ]
    connection = _Connection(bench.emulator.url)
    try:
        connection.post(*requests[0])
        started = time.monotonic()
        for body, headers in requests:
            connection.post(body, headers)
        elapsed = time.monotonic() - started
    finally:
        connection.close()
    return len(items) / elapsed


# -- the emulator alone -------------------------------------------------------------------


def emulator_alone(bench: Bench, results: Results, progress: Any) -> None:
    """No-op clients making a bulk batch's worth of calls, at each bulk concurrency."""
    config = bench.config
    top = max(config.concurrencies)
    calls = config.bulk_messages * config.bulk_items // ITEMS_PER_CALL
    for run in range(config.bulk_runs):
        bench.emulator.configure(latency_s=config.latency_s)
        for threads in (*config.concurrencies, 2 * top):
            results.noop_cps.setdefault(threads, []).append(noop(bench, threads, calls))
        bench.emulator.configure()
        results.noop_zero_cps.append(noop(bench, 4, 10 * calls))
        progress(f"emulator run {run + 1}/{config.bulk_runs}")


def noop(bench: Bench, threads: int, calls: int) -> float:
    """Calls/s of ``threads`` clients that only post a pre-built, pre-signed call, ``calls``
    in all, each on a keep-alive ``http.client`` connection (the least a client can do),
    timed like the bulk batch: from the first call out to the last answer."""
    body, headers = signed_call(bulk_token_accounts(0, ITEMS_PER_CALL))
    remaining = [calls]
    lock = threading.Lock()
    failures: list[str] = []
    start = threading.Barrier(threads + 1)

    def worker() -> None:
        connection = _Connection(bench.emulator.url)
        try:
            connection.post(body, headers)  # connected and warm, as in a warm container
            start.wait()
            while True:
                with lock:
                    if remaining[0] == 0:
                        return
                    remaining[0] -= 1
                connection.post(body, headers)
        except BenchError as exc:
            failures.append(str(exc))
        finally:
            connection.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - began
    if failures:
        raise BenchError(f"the emulator refused no-op calls: {failures[:3]}")
    return calls / elapsed


class _Connection:
    """One keep-alive connection to the emulator's batchoperate endpoint."""

    def __init__(self, url: str) -> None:
        self._connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=5)

    def post(self, body: bytes, headers: dict[str, str]) -> None:
        self._connection.request("POST", BATCH_PATH, body, headers)
        answer = self._connection.getresponse()
        answer.read()
        if answer.status != 200:
            raise BenchError(f"HTTP {answer.status}")

    def close(self) -> None:
        self._connection.close()
