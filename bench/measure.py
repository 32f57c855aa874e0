"""The measurements: each spawns fresh processes against moto and the emulator and returns raw
samples; ``bench.report`` turns them into ratios against the baselines measured alongside."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
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
from urllib.parse import urlsplit

from bench.lambda_env import CpuShare, Layout, LayoutError, check_fresh, cpu_share_support
from bench.servers import (
    ACCESS_ID,
    FAKE_AWS,
    ROOT,
    SECRET,
    SECRET_ID,
    SECRET_KEY,
    Emulator,
    Moto,
)
from bench.stack import Stack
from bench.template import Template

CHILD = Path(__file__).with_name("child.py")
FLOOR = Path(__file__).with_name("floor_handler.py")
NAIVE = Path(__file__).with_name("naive_handler.py")
FUNCTIONS = ("bind", "unbind", "query", "jobs")
LOGICAL_IDS = {
    "bind": "BindFunction",
    "unbind": "UnbindFunction",
    "query": "QueryFunction",
    "jobs": "JobsFunction",
    "bulk": "BulkFunction",
    "verify": "VerifyFunction",
}
API_EVENTS = {
    "bind": "bind.json",
    "unbind": "unbind-token-list.json",
    "query": "query-account-list.json",
    "jobs": "jobs-bind.json",
}
BATCH_PATH = "/v3/device/account/batchoperate"
ITEMS_PER_CALL = 20
CHILD_TIMEOUT_S = 300
# What the Lambda runtime sets, so Powertools behaves as it does there (in particular, the naive
# baseline's Tracer is active and patches boto3 and requests, as with active tracing).
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "tpns-bench",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/tpns-bench",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/01/[$LATEST]0123456789abcdef0123456789abcdef",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    "_HANDLER": "app.lambda_handler",
    "TZ": ":UTC",
    "_X_AMZN_TRACE_ID": (
        "Root=1-65f00f22-9e1bd4b1f42f2a9ffc940ecd;Parent=53995c3f42cd8ad8;Sampled=1"
    ),
}
# Cold-start modes: how the process finds its code.
CACHED = "cached"  # the source tree, bytecode caches written by a discarded first run
SHIPPED = "shipped"  # the sam build artifact as Lambda has it (lambda_env.Layout)
NOPYC = "nopyc"  # the same without .pyc: what sam build shipped before lambda-build/Makefile
# "function" is LedgerMode=off; "ledger" the same artifact with the ledger on (the default).
COLD_CASES = (
    (SHIPPED, "function"),
    (SHIPPED, "floor"),
    (SHIPPED, "ledger"),
    (NOPYC, "function"),
    (NOPYC, "floor"),
    (CACHED, "function"),
    (CACHED, "floor"),
    (CACHED, "naive"),
)


class BenchError(RuntimeError):
    """A measured process failed: the numbers would be meaningless."""


@dataclass(frozen=True)
class Config:
    runs: int = 5
    bulk_runs: int = 3
    share_runs: int = 3
    functions: tuple[str, ...] = FUNCTIONS
    discard_first: bool = True
    # Memory sizes whose CPU share the cold start is measured at (as shipped), for these.
    share_sizes: tuple[int, ...] = (128, 256, 512, 1024)
    share_functions: tuple[str, ...] = ("bind",)
    import_runs: int = 3
    warm_warmup: int = 30
    warm_blocks: int = 5
    warm_block_size: int = 40
    bulk_messages: int = 10
    # 48 calls a message, 480 a batch: whole waves at 4, 8 and 16 in flight, so the batch's last
    # wave is full and the ideal rate is reachable by a client that adds nothing.
    bulk_items: int = 960
    latency_s: float = 0.05
    concurrencies: tuple[int, ...] = (4, 8, 16)
    unlimited_qps: float = 100_000.0
    qps_cap: float = 100.0
    qps_below: float = 80.0
    qps_above: float = 150.0
    throttle_concurrency: int = 16
    seq_calls: int = 40
    # Warm requests with the ledger on too (beside LedgerMode=off, same run).
    ledger_functions: tuple[str, ...] = ("bind",)
    # The verify function, after each ledger run: one message to warm up, then these many.
    verify_messages: int = 4
    # Messages per batch at the template's defaults (QPS-bound: 960 bindings take ~1 s), on a
    # full CPU and on a memory size's CPU share (where the ledger is CPU-bound: slow).
    defaults_messages: int = 5
    share_messages: int = 2
    # Memory sizes the default bulk path (LedgerMode on, a job's messages) runs at.
    bulk_share_sizes: tuple[int, ...] = (128, 512)
    bulk_shares: bool = True  # the template-defaults batches on the bulk memory's CPU share

    @classmethod
    def smoke(cls) -> Config:
        """Tiny sizes: proves the pipeline works in seconds; the figures mean nothing."""
        return cls(
            runs=1,
            bulk_runs=1,
            share_runs=1,
            functions=("bind", "jobs"),  # both kinds of bare call (TPNS, SQS)
            discard_first=False,
            share_sizes=(1024,),
            import_runs=1,
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
            ledger_functions=("bind",),
            verify_messages=1,
            defaults_messages=2,
            share_messages=1,
            bulk_shares=False,
        )


@dataclass
class ColdSample:
    seconds: float  # spawn -> first answer
    startup_s: float  # spawn -> the interpreter runs child.py
    import_s: float  # importing the handler module
    rss_kb: int
    compiled: int  # modules compiled from source during the run


@dataclass
class WarmSample:
    handler_s: list[float]
    bare_s: list[float]
    handler_cpu_s: float
    bare_cpu_s: float
    bare_kind: str
    rss_kb: int
    # "service:Operation" -> calls, items, wru, rru, billed, seconds (child.AwsCalls)
    aws: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class BulkSample:
    seconds: float
    cpu_s: float
    calls: int
    throttled: int
    failed_messages: int
    rss_kb: int
    first_answer_s: float
    steady_cps: float
    aws: dict[str, dict[str, float]] = field(default_factory=dict)
    bindings: int = 0  # in the batch (targets, for the verify function)


@dataclass
class BulkScenario:
    name: str
    concurrency: int
    client_qps: float
    emulator_cap: float | None
    memory_mb: int | None = None  # run on that size's CPU share
    ledger: bool = False  # LedgerMode on (the default) rather than off
    job: bool = False  # the messages are a job's, as /v1/jobs queues them
    messages: int = 0  # in the batch (0: Config.bulk_messages)
    samples: list[BulkSample] = field(default_factory=list)

    @property
    def unlimited(self) -> bool:
        """A concurrency run with no QPS limit, on a full CPU."""
        return self.emulator_cap is None and self.memory_mb is None and not self.at_defaults

    @property
    def at_defaults(self) -> bool:
        """One of the jobs/ledger comparison runs (at the template's QPS and concurrency)."""
        return self.name.startswith(DEFAULTS)


DEFAULTS = "defaults"


# mode (or memory size, for CPU-share runs) -> function -> variant -> samples
ColdRuns = dict[str, dict[str, list[ColdSample]]]


@dataclass
class Results:
    config: Config
    settings: dict[str, float] = field(default_factory=dict)  # the template's defaults
    cold: dict[str, ColdRuns] = field(default_factory=dict)
    shares: dict[int, ColdRuns] = field(default_factory=dict)
    share_note: str | None = None  # why CPU shares could not be measured
    readonly_note: str = ""
    # variant ("floor", "bind", "bind without .pyc", ...) -> module -> self µs per run
    imports: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    warm: dict[str, list[WarmSample]] = field(default_factory=dict)
    warm_ledger: dict[str, list[WarmSample]] = field(default_factory=dict)  # LedgerMode on
    # The verify function on the verification messages of the ledger-on bulk runs.
    verify: list[BulkSample] = field(default_factory=list)
    verify_targets: int = 0  # per verify sample
    api_items: dict[str, int] = field(default_factory=dict)  # items in each API event
    item_bytes: dict[str, int] = field(default_factory=dict)  # largest item of each table
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


def bulk_token_accounts(message: int, items: int, tag: str = "") -> list[dict[str, Any]]:
    return [
        {
            "token": f"bench{tag}-{message}-{i}",
            "account_list": [{"account": f"user-{message}-{i}", "account_type": 0}],
        }
        for i in range(items)
    ]


def sqs_event(
    messages: int, items: int, tag: str, job_id: str | None = None, prefix: str = ""
) -> dict[str, Any]:
    """An SQS batch like events/sqs/bulk-batch.json: ``messages`` bulk binds of ``items`` each,
    sent now (``SentTimestamp`` orders a plain message's ledger writes), each message id new
    (``tag``); with ``job_id``, the messages are that job's parts, as ``/v1/jobs`` writes them."""
    template = json.loads((ROOT / "events" / "sqs" / "bulk-batch.json").read_text())["Records"][0]
    now_ms = int(time.time() * 1000)
    records = []
    for m in range(messages):
        record = json.loads(json.dumps(template))
        record["messageId"] = f"bench-{tag}-{m}"
        record["attributes"]["SentTimestamp"] = str(now_ms)
        body: dict[str, Any] = {"operation": "bind"}
        if job_id is not None:
            body |= {"job_id": job_id, "issued_at": now_ms, "part": m, "offset": m * items}
        body["token_accounts"] = bulk_token_accounts(m, items, prefix)
        record["body"] = json.dumps(body)
        records.append(record)
    return {"Records": records}


def queue_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Messages received from a queue, as the event source mapping hands them to a function."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
            for m in messages
        ]
    }


class Bench:
    """One benchmark run: the servers, the scratch directory, the environment of the children."""

    def __init__(self, config: Config, moto: Moto, emulator: Emulator, scratch: Path) -> None:
        self.config = config
        self.moto = moto
        self.emulator = emulator
        self.scratch = scratch
        self.template = Template.load()
        self._count = 0
        self._layout: Layout | None = None
        self.stack = Stack(moto.client, SECRET_ID, SECRET, emulator.url)
        api_memory = self.template.memory_mb(LOGICAL_IDS["bind"])
        self.settings = {
            "qps": self.template.default("TpnsMaxQps"),
            "concurrency": self.template.default("TpnsMaxConcurrency"),
            "api_memory_mb": float(api_memory),
            "bulk_memory_mb": float(self.template.memory_mb(LOGICAL_IDS["bulk"])),
            "verify_memory_mb": float(self.template.memory_mb(LOGICAL_IDS["verify"])),
        }
        # What every process gets, whatever its function: a Lambda's environment, on loopback.
        self.base_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(ROOT / "layers" / "tpns"),
            **FAKE_AWS,
            "AWS_ENDPOINT_URL": moto.url,
            # Nothing from ~/.aws (profiles, per-service endpoints) may redirect a function.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            **LAMBDA_ENV,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(api_memory),
            "LAMBDA_TASK_ROOT": str(scratch),
        }
        self.env = self.function_env("bind")

    def function_env(self, function: str, *, ledger: bool = False) -> dict[str, str]:
        """``function``'s environment: the template's (``LedgerMode`` on or off), a Lambda's."""
        logical_id = LOGICAL_IDS[function]
        return {
            **self.base_env,
            **self.stack.environment(logical_id, ledger=ledger),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.template.memory_mb(logical_id)),
        }

    def close(self) -> None:
        if self._layout is not None:
            self._layout.close()

    # -- children -----------------------------------------------------------------------------

    def _child(
        self,
        mode: str,
        spec: dict[str, Any],
        env: dict[str, str] | None = None,
        *,
        argv: list[str] | None = None,
        cwd: Path | None = None,
    ) -> tuple[float, dict[str, Any], str]:
        """Run child.py (``argv`` runs it some other way); (time just before spawning, its
        result, its stderr)."""
        self._count += 1
        result_file = self.scratch / f"result-{self._count}.json"
        spec_file = self.scratch / f"spec-{self._count}.json"
        spec_file.write_text(json.dumps({**spec, "result": str(result_file)}))
        command = argv or [sys.executable, str(CHILD)]
        started = time.monotonic()
        done = subprocess.run(
            [*command, mode, str(spec_file)],
            env=env or self.env,
            cwd=cwd or self.scratch,
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
        return started, result, done.stderr

    @staticmethod
    def handler_file(function: str) -> Path:
        return ROOT / "functions" / function / "app.py"

    def layout(self) -> Layout:
        """The sam build artifact deployed as Lambda has it (built once per run)."""
        if self._layout is None:
            try:
                check_fresh(self.template)
                self._layout = Layout(
                    self.scratch / "lambda",
                    self.template,
                    {f: LOGICAL_IDS[f] for f in self.config.functions},
                )
            except LayoutError as exc:
                raise BenchError(str(exc)) from exc
        return self._layout

    def _deployed(
        self,
        variant: str,
        name: str,
        memory_mb: int,
        prefix: list[str] | None = None,
        flags: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> tuple[dict[str, str], list[str], Path, Path]:
        """(env, argv, cwd, handler) that run ``name`` from the artifact, as Lambda would, with
        ``env`` (default: the floor's) as its environment."""
        layout = self.layout()
        deployment = layout.deployment(variant, name)
        readonly, _ = layout.readonly_prefix()
        env = {
            **(env or self.env),
            "PYTHONPATH": deployment.python_path(),
            "PYTHONDONTWRITEBYTECODE": "1",
            "LAMBDA_TASK_ROOT": str(deployment.task),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        }
        argv = [*(prefix or []), *readonly, str(layout.python), *flags, "-P", str(CHILD)]
        return env, argv, deployment.task, deployment.handler

    # -- cold start ---------------------------------------------------------------------------

    def _cold(
        self, mode: str, variant: str, function: str, prefix: list[str] | None = None, mb: int = 0
    ) -> ColdSample:
        event = ROOT / "events" / "api" / API_EVENTS[function]
        function_env = self.function_env(function, ledger=variant == "ledger")
        if mode == CACHED:
            path = {"floor": FLOOR, "naive": NAIVE}.get(variant, self.handler_file(function))
            spec = {"handler": str(path), "event": str(event)}
            started, result, _ = self._child("cold", spec, function_env)
        else:
            name = "floor" if variant == "floor" else function
            memory = mb or int(self.settings["api_memory_mb"])
            env, argv, cwd, handler = self._deployed(mode, name, memory, prefix, env=function_env)
            started, result, _ = self._child(
                "cold", {"handler": str(handler), "event": str(event)}, env, argv=argv, cwd=cwd
            )
        return ColdSample(
            seconds=result["done"] - started,
            startup_s=result["started"] - started,
            import_s=result["imported"] - result["started"],
            rss_kb=result["rss_kb"],
            compiled=len(result["compiled"]),
        )

    def cold_start(self, results: Results, progress: Any) -> None:
        """Per run, per function, every (mode, variant) in a rotating order; then CPU shares."""
        layout = self.layout()
        results.readonly_note = layout.readonly_prefix()[1]
        total = self.config.runs + (1 if self.config.discard_first else 0)
        for run in range(total):
            for function in self.config.functions:
                shift = run % len(COLD_CASES)
                for mode, variant in COLD_CASES[shift:] + COLD_CASES[:shift]:
                    sample = self._cold(mode, variant, function)
                    if self.config.discard_first and run == 0:
                        continue  # the first spawn also writes bytecode caches, warms copies
                    runs = results.cold.setdefault(mode, {}).setdefault(function, {})
                    runs.setdefault(variant, []).append(sample)
            self._keep_queues_small()
            progress(f"cold start run {run + 1}/{total}")
        results.share_note = cpu_share_support()
        if results.share_note is None:
            for mb in self.config.share_sizes:
                share = CpuShare(mb, f"tpns-bench-{os.getpid()}-{mb}")
                try:
                    for run in range(self.config.share_runs):
                        for function in self.config.share_functions:
                            variants = (
                                ("function", "floor") if run % 2 == 0 else ("floor", "function")
                            )
                            for variant in variants:
                                sample = self._cold(SHIPPED, variant, function, share.prefix(), mb)
                                runs = results.shares.setdefault(mb, {}).setdefault(function, {})
                                runs.setdefault(variant, []).append(sample)
                finally:
                    share.close()
                progress(f"cold start at {mb} MB's CPU share")
        layout.check_untouched()

    # -- where the cold start goes --------------------------------------------------------------

    def imports(self, results: Results, progress: Any) -> None:
        """``python -X importtime`` of each cold start as shipped (and bind's without .pyc)."""
        cases = [("floor", SHIPPED, "floor", "bind", False)]
        cases += [(f, SHIPPED, f, f, False) for f in self.config.functions]
        if "bind" in self.config.functions:
            cases.append(("bind, ledger on", SHIPPED, "bind", "bind", True))
            cases.append(("bind without .pyc", NOPYC, "bind", "bind", False))
        for _ in range(self.config.import_runs):
            for label, variant, name, event_of, ledger in cases:
                memory = int(self.settings["api_memory_mb"])
                env, argv, cwd, handler = self._deployed(
                    variant,
                    name,
                    memory,
                    flags=("-X", "importtime"),
                    env=self.function_env(event_of, ledger=ledger),
                )
                event = ROOT / "events" / "api" / API_EVENTS[event_of]
                _, _, stderr = self._child(
                    "cold", {"handler": str(handler), "event": str(event)}, env, argv=argv, cwd=cwd
                )
                modules = results.imports.setdefault(label, {})
                for module, self_us in parse_importtime(stderr).items():
                    modules.setdefault(module, []).append(self_us)
        progress("import times")

    # -- warm overhead ------------------------------------------------------------------------

    def _keep_queues_small(self) -> None:
        """What the API functions queued (jobs' messages, verifications), thrown away: moto's
        SQS slows down as a queue fills."""
        self.stack.purge("BulkQueue", "VerifyQueue")

    def warm(self, results: Results, progress: Any) -> None:
        """At the template's settings, LedgerMode off, and on for ``ledger_functions``; the
        QPS pacing applies as deployed (per call, for the API functions)."""
        config = self.config
        cases = [(f, False) for f in config.functions]
        cases += [(f, True) for f in config.ledger_functions if f in config.functions]
        for run in range(config.runs):
            for function, ledger in cases if run % 2 == 0 else cases[::-1]:
                event = ROOT / "events" / "api" / API_EVENTS[function]
                results.api_items[function] = _items_of(event)
                _, result, _ = self._child(
                    "warm",
                    {
                        "handler": str(self.handler_file(function)),
                        "event": str(event),
                        "warmup": config.warm_warmup,
                        "blocks": config.warm_blocks,
                        "block_size": config.warm_block_size,
                    },
                    self.function_env(function, ledger=ledger),
                )
                runs = results.warm_ledger if ledger else results.warm
                runs.setdefault(function, []).append(WarmSample(**result))
                self._keep_queues_small()
            progress(f"warm run {run + 1}/{config.runs}")

    # -- bulk ---------------------------------------------------------------------------------

    def _bulk_scenarios(self) -> list[BulkScenario]:
        config = self.config
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
        concurrency, qps = int(self.settings["concurrency"]), self.settings["qps"]
        for ledger, job, what in (
            (False, False, "LedgerMode off, plain messages"),
            (False, True, "LedgerMode off, a job's messages"),
            (True, True, "LedgerMode on, a job's messages"),
        ):
            scenarios.append(
                BulkScenario(
                    f"{DEFAULTS}: {what}",
                    concurrency,
                    qps,
                    None,
                    ledger=ledger,
                    job=job,
                    messages=config.defaults_messages,
                )
            )
        if config.bulk_shares and cpu_share_support() is None:
            scenarios.append(
                BulkScenario(
                    "template defaults, LedgerMode off",
                    concurrency,
                    qps,
                    None,
                    int(self.settings["bulk_memory_mb"]),
                    messages=config.share_messages,
                )
            )
            scenarios += [
                BulkScenario(
                    "template defaults",
                    concurrency,
                    qps,
                    None,
                    mb,
                    ledger=True,
                    job=True,
                    messages=config.share_messages,
                )
                for mb in config.bulk_share_sizes
            ]
        return scenarios

    def bulk(self, results: Results, progress: Any) -> None:
        config = self.config
        results.bindings_per_batch = config.bulk_messages * config.bulk_items
        results.bulk = self._bulk_scenarios()
        for run in range(config.bulk_runs):
            self.emulator.configure(latency_s=config.latency_s)
            results.sequential_bps.append(self.sequential(config.seq_calls))
            for number, scenario in enumerate(results.bulk):
                self.emulator.configure(latency_s=config.latency_s, qps_cap=scenario.emulator_cap)
                scenario.samples.append(self._bulk_batch(scenario, f"{run}-{number}"))
                if scenario.ledger and scenario.memory_mb is None:
                    # The verification of what it just sent, while the emulator still holds it.
                    results.verify.append(self._verify(results, f"{run}-{number}"))
                self.stack.purge("VerifyQueue", "BulkDeadLetterQueue")
                progress(f"bulk run {run + 1}/{config.bulk_runs}: {bulk_label(scenario)}")
        self.emulator.configure()
        results.item_bytes = self.stack.largest_items("JobsTable", "LedgerTable")

    def _bulk_batch(self, scenario: BulkScenario, tag: str) -> BulkSample:
        """One batch through the bulk function, in a fresh process (after a warm-up batch)."""
        config = self.config
        messages = scenario.messages or config.bulk_messages
        job_id = self._new_job(scenario, tag, messages) if scenario.job else None
        prefix = "-ledger" if scenario.ledger else ""
        event = sqs_event(messages, config.bulk_items, tag, job_id, prefix)
        event_file = self.scratch / f"bulk-event-{tag}.json"
        event_file.write_text(json.dumps(event))
        warmup_file = self.scratch / f"bulk-warmup-{tag}.json"
        warmup_file.write_text(json.dumps(sqs_event(1, 1, f"warmup-{tag}", prefix="-warmup")))
        env = {
            **self.function_env("bulk", ledger=scenario.ledger),
            "TPNS_MAX_CONCURRENCY": str(scenario.concurrency),
            "TPNS_MAX_QPS": f"{scenario.client_qps:g}",
        }
        spec = {
            "handler": str(self.handler_file("bulk")),
            "event": str(event_file),
            "warmup_event": str(warmup_file),
            "timeout_ms": int(self.template.default("BulkFunctionTimeout") * 1000),
            "emulator": self.emulator.url,
        }
        if scenario.memory_mb is None:
            _, result, _ = self._child("bulk", spec, env)
        else:
            share = CpuShare(scenario.memory_mb, f"tpns-bench-{os.getpid()}-bulk")
            try:
                argv = [*share.prefix(), sys.executable, str(CHILD)]
                _, result, _ = self._child("bulk", spec, env, argv=argv)
            finally:
                share.close()
        return BulkSample(**result, bindings=messages * config.bulk_items)

    def _new_job(self, scenario: BulkScenario, tag: str, messages: int) -> str:
        """The job record ``/v1/jobs`` writes before queueing its messages."""
        from tpns_api.jobs.store import JobStore, NewJob
        from tpns_api.store.dynamo import Table

        config = self.config
        job_id = f"bench-job-{tag}"
        table = Table(self.moto.client("dynamodb"), self.stack.ref("JobsTable"))
        retention = int(self.stack.parameter("JobRetentionDays"))
        items = messages * config.bulk_items
        job = NewJob(job_id, "bind", 2, None, "api", items, messages, scenario.ledger)
        if not JobStore(table, retention).create(job):
            raise BenchError(f"job {job_id} exists already")
        return job_id

    def _verify(self, results: Results, tag: str) -> BulkSample:
        """The verify function on the verification messages the batch left: the first warms
        it up, the next ``verify_messages`` are measured; at the template's settings."""
        wanted = 1 + self.config.verify_messages
        messages = self.stack.drain("VerifyQueue", wanted)
        if len(messages) < wanted:
            raise BenchError(f"expected {wanted} verification messages, found {len(messages)}")
        measured = messages[1:]
        results.verify_targets = sum(
            len(json.loads(m["Body"])["verify"]["targets"]) for m in measured
        )
        files = []
        for name, batch in (("warmup", messages[:1]), ("event", measured)):
            path = self.scratch / f"verify-{name}-{tag}.json"
            path.write_text(json.dumps(queue_event(batch)))
            files.append(path)
        spec = {
            "handler": str(self.handler_file("verify")),
            "warmup_event": str(files[0]),
            "event": str(files[1]),
            "timeout_ms": int(self.template.default("VerifyFunctionTimeout") * 1000),
            "emulator": self.emulator.url,
        }
        _, result, _ = self._child("bulk", spec, self.function_env("verify", ledger=True))
        return BulkSample(**result, bindings=results.verify_targets)

    def _signed_call(self, items: list[dict[str, Any]]) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {"operator_type": 2, "token_accounts": items}, separators=(",", ":")
        ).encode()
        return body, sign_headers(body)

    def sequential(self, calls: int) -> float:
        """Bindings/s of one bare connection posting 20-binding calls one after another."""
        items = bulk_token_accounts(0, calls * ITEMS_PER_CALL)
        requests = [
            self._signed_call(items[i : i + ITEMS_PER_CALL])
            for i in range(0, len(items), ITEMS_PER_CALL)
        ]
        connection = _Connection(self.emulator.url)
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

    def emulator_alone(self, results: Results, progress: Any) -> None:
        """No-op clients making a bulk batch's worth of calls, at each bulk concurrency."""
        config = self.config
        top = max(config.concurrencies)
        calls = config.bulk_messages * config.bulk_items // ITEMS_PER_CALL
        for run in range(config.bulk_runs):
            self.emulator.configure(latency_s=config.latency_s)
            for threads in (*config.concurrencies, 2 * top):
                results.noop_cps.setdefault(threads, []).append(self.noop(threads, calls))
            self.emulator.configure()
            results.noop_zero_cps.append(self.noop(4, 10 * calls))
            progress(f"emulator run {run + 1}/{config.bulk_runs}")

    def noop(self, threads: int, calls: int) -> float:
        """Calls/s of ``threads`` clients that only post a pre-built, pre-signed call, ``calls``
        in all, each on a keep-alive ``http.client`` connection (the least a client can do),
        timed like the bulk batch: from the first call out to the last answer."""
        body, headers = self._signed_call(bulk_token_accounts(0, ITEMS_PER_CALL))
        remaining = [calls]
        lock = threading.Lock()
        failures: list[str] = []
        start = threading.Barrier(threads + 1)

        def worker() -> None:
            connection = _Connection(self.emulator.url)
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


def _items_of(event_file: Path) -> int:
    """How many tokens or accounts an API event's body carries (its one list field)."""
    body = json.loads(json.loads(event_file.read_text()).get("body") or "{}")
    lists = [v for k, v in body.items() if k in ("token_accounts", "token_list", "account_list")]
    return len(lists[0]) if lists else 0


def bulk_label(scenario: BulkScenario) -> str:
    size = f", {scenario.memory_mb} MB's CPU share" if scenario.memory_mb else ""
    return (
        f"{scenario.name} (concurrency {scenario.concurrency}, TPNS_MAX_QPS "
        f"{scenario.client_qps:g}{size})"
    )


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


def parse_importtime(stderr: str) -> dict[str, float]:
    """``-X importtime`` lines -> module -> self time (µs); a module imported twice adds up."""
    modules: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        module = fields[2].strip()
        modules[module] = modules.get(module, 0.0) + float(fields[0])
    return modules


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
