"""The measurements: each spawns fresh processes against moto and the emulator and returns raw
samples; ``bench.report`` turns them into ratios against the baselines measured alongside."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.servers import ACCESS_ID, FAKE_AWS, ROOT, SECRET_ID, SECRET_KEY, Emulator, Moto

CHILD = Path(__file__).with_name("child.py")
FLOOR = Path(__file__).with_name("floor_handler.py")
NAIVE = Path(__file__).with_name("naive_handler.py")
FUNCTIONS = ("bind", "unbind", "query", "jobs")
API_EVENTS = {
    "bind": "bind.json",
    "unbind": "unbind-token-list.json",
    "query": "query-account-list.json",
    "jobs": "jobs-bind.json",
}
BATCH_PATH = "/v3/device/account/batchoperate"
ITEMS_PER_CALL = 20
BULK_TIMEOUT_MS = 90_000  # the template's BulkFunctionTimeout default
CHILD_TIMEOUT_S = 300
# What the Lambda runtime sets, so Powertools behaves as it does there (in particular, the naive
# baseline's Tracer is active and patches boto3 and requests, as with active tracing).
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "tpns-bench",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/tpns-bench",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    "_X_AMZN_TRACE_ID": (
        "Root=1-65f00f22-9e1bd4b1f42f2a9ffc940ecd;Parent=53995c3f42cd8ad8;Sampled=1"
    ),
}


class BenchError(RuntimeError):
    """A measured process failed: the numbers would be meaningless."""


@dataclass(frozen=True)
class Config:
    runs: int = 5
    bulk_runs: int = 3
    functions: tuple[str, ...] = FUNCTIONS
    discard_first: bool = True
    warm_warmup: int = 30
    warm_blocks: int = 5
    warm_block_size: int = 40
    bulk_messages: int = 10
    bulk_items: int = 1000
    latency_s: float = 0.05
    concurrencies: tuple[int, ...] = (8, 16)
    unlimited_qps: float = 100_000.0
    qps_cap: float = 100.0
    qps_below: float = 80.0
    qps_above: float = 150.0
    throttle_concurrency: int = 16
    seq_calls: int = 40
    noop_seconds: float = 2.0
    api_max_qps: float = 50.0  # the template's TpnsMaxQps default
    api_concurrency: int = 8  # the template's TpnsMaxConcurrency default

    @classmethod
    def smoke(cls) -> Config:
        """Tiny sizes: proves the pipeline works in seconds; the figures mean nothing."""
        return cls(
            runs=1,
            bulk_runs=1,
            discard_first=False,
            warm_warmup=2,
            warm_blocks=1,
            warm_block_size=3,
            bulk_messages=2,
            bulk_items=40,
            latency_s=0.005,
            qps_cap=400.0,
            qps_below=300.0,
            qps_above=800.0,
            seq_calls=2,
            concurrencies=(2, 4),
            throttle_concurrency=4,
            noop_seconds=0.2,
        )


@dataclass
class ColdSample:
    seconds: float
    rss_kb: int


@dataclass
class WarmSample:
    handler_s: list[float]
    bare_s: list[float]
    handler_cpu_s: float
    bare_cpu_s: float
    bare_kind: str
    rss_kb: int


@dataclass
class BulkSample:
    seconds: float
    cpu_s: float
    calls: int
    throttled: int
    failed_messages: int
    rss_kb: int


@dataclass
class BulkScenario:
    name: str
    concurrency: int
    client_qps: float
    emulator_cap: float | None
    samples: list[BulkSample] = field(default_factory=list)


@dataclass
class Results:
    config: Config
    cold: dict[str, dict[str, list[ColdSample]]] = field(default_factory=dict)
    warm: dict[str, list[WarmSample]] = field(default_factory=dict)
    bulk: list[BulkScenario] = field(default_factory=list)
    sequential_bps: list[float] = field(default_factory=list)
    noop_cps: dict[int, list[float]] = field(default_factory=dict)  # threads -> calls/s
    noop_zero_cps: list[float] = field(default_factory=list)
    bindings_per_batch: int = 0
    seconds: float = 0.0


def sign_headers(body: bytes, now: float | None = None) -> dict[str, str]:
    """TPNS signature headers for the bench app (the scheme in tpns_account.signing)."""
    stamp = str(int(time.time() if now is None else now))
    digest = hmac.new(SECRET_KEY.encode(), (stamp + ACCESS_ID).encode() + body, hashlib.sha256)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "AccessId": ACCESS_ID,
        "TimeStamp": stamp,
        "Sign": base64.b64encode(digest.hexdigest().encode()).decode(),
    }


def bulk_token_accounts(message: int, items: int) -> list[dict[str, Any]]:
    return [
        {
            "token": f"bench-{message}-{i}",
            "account_list": [{"account": f"user-{message}-{i}", "account_type": 0}],
        }
        for i in range(items)
    ]


def sqs_event(messages: int, items: int) -> dict[str, Any]:
    """An SQS batch like events/sqs/bulk-batch.json: ``messages`` bulk binds of ``items`` each."""
    template = json.loads((ROOT / "events" / "sqs" / "bulk-batch.json").read_text())["Records"][0]
    records = []
    for m in range(messages):
        record = json.loads(json.dumps(template))
        record["messageId"] = f"bench-message-{m}"
        record["body"] = json.dumps(
            {"operation": "bind", "token_accounts": bulk_token_accounts(m, items)}
        )
        records.append(record)
    return {"Records": records}


class Bench:
    """One benchmark run: the servers, the scratch directory, the environment of the children."""

    def __init__(self, config: Config, moto: Moto, emulator: Emulator, scratch: Path) -> None:
        self.config = config
        self.moto = moto
        self.emulator = emulator
        self.scratch = scratch
        self._count = 0
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(ROOT / "layers" / "tpns"),
            **FAKE_AWS,
            "AWS_ENDPOINT_URL": moto.url,
            "TPNS_SECRET_ID": SECRET_ID,
            "TPNS_ENDPOINT": emulator.url,
            "TPNS_TIMEOUT_S": "5",
            "TPNS_MAX_CONCURRENCY": str(config.api_concurrency),
            "TPNS_MAX_QPS": str(config.api_max_qps),
            "BULK_QUEUE_URL": moto.bulk_queue_url,
            "DEAD_LETTER_QUEUE_URL": moto.dead_letter_queue_url,
            "JOBS_TABLE": moto.jobs_table,
            "POWERTOOLS_SERVICE_NAME": "tpns-bindings",
            "POWERTOOLS_METRICS_NAMESPACE": "TpnsBindings",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **LAMBDA_ENV,
            "LAMBDA_TASK_ROOT": str(scratch),
        }

    # -- children -----------------------------------------------------------------------------

    def _child(
        self, mode: str, spec: dict[str, Any], env: dict[str, str] | None = None
    ) -> tuple[float, dict[str, Any]]:
        """Run child.py; returns (monotonic time just before spawning, its result)."""
        self._count += 1
        result_file = self.scratch / f"result-{self._count}.json"
        spec_file = self.scratch / f"spec-{self._count}.json"
        spec_file.write_text(json.dumps({**spec, "result": str(result_file)}))
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, str(CHILD), mode, str(spec_file)],
            env=env or self.env,
            cwd=self.scratch,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0 or not result_file.exists():
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            raise BenchError(f"{mode} {spec.get('handler')} failed ({done.returncode}):\n{tail}")
        result: dict[str, Any] = json.loads(result_file.read_text())
        return started, result

    @staticmethod
    def handler_file(function: str) -> Path:
        return ROOT / "functions" / function / "app.py"

    # -- cold start ---------------------------------------------------------------------------

    def cold_start(self, results: Results, progress: Any) -> None:
        """Per run, per function: floor, naive and the function, in a rotating order."""
        variants = {"floor": FLOOR, "naive": NAIVE}
        total = self.config.runs + (1 if self.config.discard_first else 0)
        for run in range(total):
            for function in self.config.functions:
                event = ROOT / "events" / "api" / API_EVENTS[function]
                order = [("function", self.handler_file(function)), *variants.items()]
                shift = run % len(order)
                for variant, path in order[shift:] + order[:shift]:
                    started, result = self._child(
                        "cold", {"handler": str(path), "event": str(event)}
                    )
                    if self.config.discard_first and run == 0:
                        continue  # the first spawn also writes bytecode caches
                    sample = ColdSample(result["done"] - started, result["rss_kb"])
                    results.cold.setdefault(function, {}).setdefault(variant, []).append(sample)
            progress(f"cold start run {run + 1}/{total}")

    # -- warm overhead ------------------------------------------------------------------------

    def warm(self, results: Results, progress: Any) -> None:
        config = self.config
        for run in range(config.runs):
            for function in config.functions:
                event = ROOT / "events" / "api" / API_EVENTS[function]
                _, result = self._child(
                    "warm",
                    {
                        "handler": str(self.handler_file(function)),
                        "event": str(event),
                        "warmup": config.warm_warmup,
                        "blocks": config.warm_blocks,
                        "block_size": config.warm_block_size,
                    },
                    # The QPS pacer would space back-to-back requests 1/QPS apart: a quota,
                    # not overhead, so it is lifted here (requests spaced as they are in use
                    # never wait for it). Jobs get an empty queue each run.
                    {
                        **self.env,
                        "TPNS_MAX_QPS": f"{config.unlimited_qps:g}",
                        "BULK_QUEUE_URL": self.moto.new_queue(f"bench-warm-{function}-{run}"),
                    },
                )
                results.warm.setdefault(function, []).append(WarmSample(**result))
            progress(f"warm run {run + 1}/{config.runs}")

    # -- bulk ---------------------------------------------------------------------------------

    def bulk(self, results: Results, progress: Any) -> None:
        config = self.config
        event_file = self.scratch / "bulk-event.json"
        event_file.write_text(json.dumps(sqs_event(config.bulk_messages, config.bulk_items)))
        warmup_file = self.scratch / "bulk-warmup.json"
        warmup_file.write_text(json.dumps(sqs_event(1, 1)))
        results.bindings_per_batch = config.bulk_messages * config.bulk_items
        scenarios = [
            BulkScenario("QPS unlimited", c, config.unlimited_qps, None)
            for c in config.concurrencies
        ]
        scenarios += [
            BulkScenario(
                f"QPS {config.qps_below:g} < emulator cap {config.qps_cap:g}",
                config.throttle_concurrency,
                config.qps_below,
                config.qps_cap,
            ),
            BulkScenario(
                f"QPS {config.qps_above:g} > emulator cap {config.qps_cap:g}",
                config.throttle_concurrency,
                config.qps_above,
                config.qps_cap,
            ),
        ]
        results.bulk = scenarios
        for run in range(config.bulk_runs):
            self.emulator.configure(latency_s=config.latency_s)
            results.sequential_bps.append(self.sequential(config.seq_calls))
            for scenario in scenarios:
                self.emulator.configure(latency_s=config.latency_s, qps_cap=scenario.emulator_cap)
                env = {
                    **self.env,
                    "TPNS_MAX_CONCURRENCY": str(scenario.concurrency),
                    "TPNS_MAX_QPS": f"{scenario.client_qps:g}",
                }
                _, result = self._child(
                    "bulk",
                    {
                        "handler": str(self.handler_file("bulk")),
                        "event": str(event_file),
                        "warmup_event": str(warmup_file),
                        "timeout_ms": BULK_TIMEOUT_MS,
                        "emulator": self.emulator.url,
                    },
                    env,
                )
                scenario.samples.append(BulkSample(**result))
            progress(f"bulk run {run + 1}/{config.bulk_runs}")
        self.emulator.configure()

    def sequential(self, calls: int) -> float:
        """Bindings/s of one bare session posting 20-binding calls one after another."""
        import requests

        items = bulk_token_accounts(0, calls * ITEMS_PER_CALL)
        bodies = [
            json.dumps(
                {
                    "operator_type": 2,
                    "token_accounts": items[i : i + ITEMS_PER_CALL],
                },
                separators=(",", ":"),
            ).encode()
            for i in range(0, len(items), ITEMS_PER_CALL)
        ]
        url = self.emulator.url + BATCH_PATH
        with requests.Session() as session:
            session.post(url, data=bodies[0], headers=sign_headers(bodies[0]), timeout=5)
            started = time.monotonic()
            for body in bodies:
                answer = session.post(url, data=body, headers=sign_headers(body), timeout=5)
                answer.raise_for_status()
            elapsed = time.monotonic() - started
        return len(items) / elapsed

    # -- the emulator alone -------------------------------------------------------------------

    def emulator_alone(self, results: Results, progress: Any) -> None:
        config = self.config
        top = max(config.concurrencies)
        for run in range(config.bulk_runs):
            self.emulator.configure(latency_s=config.latency_s)
            for threads in (top, 2 * top):
                results.noop_cps.setdefault(threads, []).append(
                    self.noop(threads, config.noop_seconds)
                )
            self.emulator.configure()
            results.noop_zero_cps.append(self.noop(4, config.noop_seconds))
            progress(f"emulator run {run + 1}/{config.bulk_runs}")

    def noop(self, threads: int, seconds: float) -> float:
        """Calls/s the emulator serves to clients that only post pre-built, pre-signed calls."""
        import requests

        body = json.dumps(
            {"operator_type": 2, "token_accounts": bulk_token_accounts(0, ITEMS_PER_CALL)},
            separators=(",", ":"),
        ).encode()
        headers = sign_headers(body)
        url = self.emulator.url + BATCH_PATH
        counts = [0] * threads
        failures: list[str] = []
        start = threading.Barrier(threads + 1)
        stop_at = [0.0]

        def worker(index: int) -> None:
            with requests.Session() as session:
                session.post(url, data=body, headers=headers, timeout=5)
                start.wait()
                while time.monotonic() < stop_at[0]:
                    answer = session.post(url, data=body, headers=headers, timeout=5)
                    if answer.status_code != 200:
                        failures.append(str(answer.status_code))
                        return
                    counts[index] += 1

        workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for thread in workers:
            thread.start()
        stop_at[0] = time.monotonic() + seconds
        began = time.monotonic()
        start.wait()
        for thread in workers:
            thread.join()
        elapsed = time.monotonic() - began
        if failures:
            raise BenchError(f"the emulator refused no-op calls: {failures[:3]}")
        return sum(counts) / elapsed


@contextmanager
def servers(lifetime_s: float) -> Iterator[tuple[Moto, Emulator, Path]]:
    """moto and the emulator in their own processes, plus a scratch directory; all cleaned up."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        **FAKE_AWS,
    }
    with tempfile.TemporaryDirectory(prefix="tpns-bench-") as scratch:
        moto = Moto(env, lifetime_s)
        try:
            emulator = Emulator(env, lifetime_s)
            try:
                yield moto, emulator, Path(scratch)
            finally:
                emulator.stop()
        finally:
            moto.stop()
