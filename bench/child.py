"""The measured process: run as a script (``python bench/child.py MODE SPEC``), never imported.

It imports only the standard library before loading the handler under test, so a cold start
pays for the handler's imports and nothing of the benchmark's. The parent passes a JSON spec
(handler file, event file, sizes) and reads one JSON result file back.

Modes:
  cold  import the handler, serve one request, record the monotonic time it answered and which
        modules were compiled from source on the way (none, when the shipped bytecode is used).
  warm  serve the same request many times; in the same process, post the same body with a bare
        ``requests.Session`` (for jobs, its AWS calls replayed with boto3) as the baseline,
        interleaved in blocks.
  bulk  a small warm-up batch, then the big SQS batch; duration, CPU seconds, the answer.
        Any queue consumer (the verify function too) runs this way.

Every API event gets a fresh ``requestId`` and ``requestTimeEpoch``, as API Gateway stamps each
request: the ledger orders writes by them, so a replayed event would be superseded. The warm,
and bulk modes also count the AWS calls the handler makes (``AwsCalls``).
"""

from __future__ import annotations

import time

STARTED = time.monotonic()  # the interpreter is up: what came before is its startup

import importlib.machinery  # noqa: E402 - after the clock
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

if TYPE_CHECKING:
    from bench.aws_calls import AwsCalls

OK_STATUSES = (200, 202)
AWS_CALLS = Path(__file__).with_name("aws_calls.py")


class Context:
    """The LambdaContext attributes Powertools and the handlers read."""

    function_name = "tpns-bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tpns-bench"

    def __init__(self, remaining_ms: int) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self._deadline = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def count_compiles() -> list[str]:
    """Record every module the import system compiles from source (no usable .pyc)."""
    compiled: list[str] = []
    loader: Any = importlib.machinery.SourceFileLoader
    original = loader.source_to_code

    def source_to_code(self: Any, data: Any, path: Any, *, _optimize: int = -1) -> Any:
        compiled.append(str(path))
        return original(self, data, path, _optimize=_optimize)

    loader.source_to_code = source_to_code
    return compiled


def load_handler(path: str) -> Any:
    """Import ``path`` as module ``app``, the way the Lambda runtime imports ``app.py``."""
    spec = importlib.util.spec_from_file_location("app", path)
    assert spec is not None
    assert spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    return module.lambda_handler


def aws_calls() -> AwsCalls:
    """The AWS call counter, loaded from its file beside this one rather than as
    ``bench.aws_calls``: the handler's ``sys.path`` has no ``bench`` and must not get one."""
    spec = importlib.util.spec_from_file_location("bench_aws_calls", AWS_CALLS)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {AWS_CALLS}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    counter: AwsCalls = module.AwsCalls()
    return counter


def peak_rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return float(usage.ru_utime + usage.ru_stime)


def check(answer: Any) -> int:
    status = answer.get("statusCode") if isinstance(answer, dict) else None
    if status not in OK_STATUSES:
        raise SystemExit(f"handler answered {str(answer)[:500]}")
    return int(status)


def fresh(event: dict[str, Any]) -> dict[str, Any]:
    """The event as API Gateway would send it now: a new request id and receive time."""
    context = event.get("requestContext")
    if isinstance(context, dict):
        context["requestId"] = str(uuid.uuid4())
        context["requestTimeEpoch"] = int(time.time() * 1000)
    return event


def cold(spec: dict[str, Any]) -> dict[str, Any]:
    compiled = count_compiles()
    event = json.loads(Path(spec["event"]).read_text())
    handler = load_handler(spec["handler"])
    imported = time.monotonic()
    status = check(handler(fresh(event), Context(25_000)))
    done = time.monotonic()
    return {
        "started": STARTED,
        "imported": imported,
        "done": done,
        "status": status,
        "rss_kb": peak_rss_kb(),
        "compiled": compiled,
    }


def warm(spec: dict[str, Any]) -> dict[str, Any]:
    event = json.loads(Path(spec["event"]).read_text())
    calls = aws_calls()
    handler = load_handler(spec["handler"])
    capture = _Capture()
    capture.install()
    try:
        for _ in range(spec["warmup"]):
            capture.next_request()
            check(handler(fresh(event), Context(25_000)))
    finally:
        capture.uninstall()
    bare = capture.bare_call()
    for _ in range(spec["warmup"]):
        bare()
    handler_times: list[float] = []
    bare_times: list[float] = []
    handler_cpu = bare_cpu = 0.0
    clock = time.perf_counter
    for _ in range(spec["blocks"]):
        cpu = cpu_seconds()
        calls.active = True
        for _ in range(spec["block_size"]):
            context = Context(25_000)
            request = fresh(event)
            started = clock()
            check(handler(request, context))
            handler_times.append(clock() - started)
        calls.active = False
        handler_cpu += cpu_seconds() - cpu
        cpu = cpu_seconds()
        for _ in range(spec["block_size"]):
            started = clock()
            bare()
            bare_times.append(clock() - started)
        bare_cpu += cpu_seconds() - cpu
    return {
        "handler_s": handler_times,
        "bare_s": bare_times,
        "handler_cpu_s": handler_cpu / len(handler_times),
        "bare_cpu_s": bare_cpu / len(bare_times),
        "bare_kind": capture.kind,
        "rss_kb": peak_rss_kb(),
        "aws": calls.summary(),
    }


class _Capture:
    """Records the upstream requests of the handler's last request, to replay them bare: its
    TPNS call if it made one, else its AWS calls (for jobs: the job's PutItem and the
    messages' SendMessageBatch), in order."""

    def __init__(self) -> None:
        self.kind = ""
        self.request: Any = None
        self.aws_calls: list[tuple[str, str, dict[str, Any]]] = []
        self._undo: list[Any] = []

    def next_request(self) -> None:
        self.aws_calls = []

    def install(self) -> None:
        import http.client

        connection_class: Any = http.client.HTTPConnection
        original_request = connection_class.request

        def request(connection: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if url.startswith("/v3/"):  # a TPNS call (the layer's transport is http.client)
                body = kwargs.get("body", args[0] if args else None)
                headers = kwargs.get("headers", args[1] if len(args) > 1 else None)
                scheme = "https" if isinstance(connection, http.client.HTTPSConnection) else "http"
                full = f"{scheme}://{connection.host}:{connection.port}{url}"
                self.request = (full, body, dict(headers or {}))
            return original_request(connection, method, url, *args, **kwargs)

        connection_class.request = request
        self._undo.append(lambda: setattr(connection_class, "request", original_request))
        import botocore.client

        client_class: Any = botocore.client.BaseClient
        original_api_call = client_class._make_api_call

        def api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            if service != "secretsmanager":
                self.aws_calls.append((service, operation, dict(params)))
            return original_api_call(client, operation, params)

        client_class._make_api_call = api_call
        self._undo.append(lambda: setattr(client_class, "_make_api_call", original_api_call))

    def uninstall(self) -> None:
        for undo in self._undo:
            undo()

    def bare_call(self) -> Any:
        if self.request is not None:
            import requests

            session = requests.Session()
            url, body, headers = self.request
            self.kind = "requests.Session.post to the emulator"

            def post() -> None:
                session.post(url, data=body, headers=headers, timeout=5).raise_for_status()

            return post
        if self.aws_calls:
            return self._replay_aws()
        raise SystemExit("the handler made no upstream call to replay")

    def _replay_aws(self) -> Any:
        import boto3
        from botocore import xform_name

        clients = {service: boto3.client(service) for service, _, _ in self.aws_calls}  # type: ignore[call-overload]
        calls = [
            (getattr(clients[service], xform_name(operation)), params)
            for service, operation, params in self.aws_calls
        ]
        self.kind = "boto3 " + " + ".join(f"{s} {o}" for s, o, _ in self.aws_calls) + " to moto"

        def replay() -> None:
            for call, params in calls:
                call(**_fresh_key(params))

        return replay


def _fresh_key(params: dict[str, Any]) -> dict[str, Any]:
    """A put's item under a new partition key (a job's record is put on condition it is new)."""
    item = params.get("Item")
    if not isinstance(item, dict) or "pk" not in item:
        return params
    return {**params, "Item": {**item, "pk": {"S": f"BENCH#{uuid.uuid4().hex}"}}}


def bulk(spec: dict[str, Any]) -> dict[str, Any]:
    calls = aws_calls()
    handler = load_handler(spec["handler"])
    warmup = json.loads(Path(spec["warmup_event"]).read_text())
    event = json.loads(Path(spec["event"]).read_text())
    answer = handler(warmup, Context(spec["timeout_ms"]))
    if answer.get("batchItemFailures"):
        raise SystemExit(f"warm-up batch failed: {answer}")
    before = _emulator_stats(spec["emulator"])
    cpu_before = cpu_seconds()
    wall_started = time.time()  # the emulator stamps its calls with the wall clock
    started = time.monotonic()
    calls.active = True
    answer = handler(event, Context(spec["timeout_ms"]))
    calls.active = False
    elapsed = time.monotonic() - started
    cpu = cpu_seconds() - cpu_before
    after = _emulator_stats(spec["emulator"])
    answered = sorted(c["at"] for c in after["calls"] if c["at"] >= wall_started)
    return {
        "seconds": elapsed,
        "cpu_s": cpu,
        "failed_messages": len(answer.get("batchItemFailures", [])),
        "calls": after["requests"] - before["requests"],
        "throttled": after["throttled"] - before["throttled"],
        "rss_kb": peak_rss_kb(),
        # When the first call was answered, and the rate between the first and last answers.
        "first_answer_s": answered[0] - wall_started if answered else elapsed,
        "steady_cps": (len(answered) - 1) / (answered[-1] - answered[0])
        if len(answered) > 1
        else 0.0,
        "aws": calls.summary(),
    }


def _emulator_stats(url: str) -> dict[str, Any]:
    from urllib.request import urlopen

    with urlopen(url + "/_emulator/stats", timeout=10) as answer:  # noqa: S310 - loopback
        stats: dict[str, Any] = json.loads(answer.read())
    return stats


def main() -> None:
    mode, spec_file = sys.argv[1], sys.argv[2]
    spec = json.loads(Path(spec_file).read_text())
    result = {"cold": cold, "warm": warm, "bulk": bulk}[mode](spec)
    Path(spec["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
