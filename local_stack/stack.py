"""The local stack: moto, the TPNS emulator, the functions, the gateway, the poller and schedules.

Everything is created from ``template.yaml``: the queues (with their redrive policy), buckets,
functions (code, handler, layers, environment, timeout), API routes, SQS event sources and
schedules. The only local additions are the endpoints (loopback ports), the demo secret and app,
and an API key, since neither IAM signing nor API Gateway's key store exists here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from local_stack import resources
from local_stack.aws import serve
from local_stack.esm import SqsEventSourceMapping
from local_stack.gateway import Gateway
from local_stack.schedule import ScheduleError, ScheduleExpression
from local_stack.template import (
    Physical,
    Schedule,
    SqsSource,
    Template,
    Wiring,
    wire,
)
from local_stack.workers import FunctionError, FunctionPool, instance_environment

logger = logging.getLogger(__name__)

REGION = "us-east-1"
DEMO_ACCESS_ID = "1500001048"
AWS_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


class StartError(Exception):
    """The stack cannot start (port taken, bad template, bad secret file); says what to do."""


@dataclass
class Config:
    template: Path = Path("template.yaml")
    state_dir: Path = Path(".local-stack")
    port: int = 3000
    aws_port: int = 5000
    tpns_port: int = 8080
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    apply_delay_s: float = 1.5
    redelivery_delay_s: int = 10
    verify_delay_s: int | None = None  # the template's VerifyDelaySeconds unless shortened
    max_instances: int = 4
    tpns_endpoint: str | None = None  # a real TPNS region or URL instead of the emulator
    secret_file: Path | None = None  # that app's credentials (the secret's JSON shape)
    stack_name: str = "tpns-local"


def _invoke_batch(pool: FunctionPool, event: Any, _context: Any) -> Any:
    return pool.invoke(event).result


def check_port_free(port: int, what: str, option: str) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise StartError(
                f"port {port} ({what}) is already in use on 127.0.0.1 - is a local stack already "
                f"running? Stop it, or choose another port with {option}"
            ) from None


class LocalStack:
    def __init__(self, config: Config, say: Callable[[str], None] = print) -> None:
        self.config = config
        self.say = say
        self.stopping = threading.Event()
        self._stops: list[Callable[[], None]] = []
        self._threads: list[threading.Thread] = []
        self._print_lock = threading.Lock()
        self.pools: dict[str, FunctionPool] = {}
        self.schedules: dict[str, tuple[Schedule, ScheduleExpression | None]] = {}
        self.endpoints: dict[str, Any] = {}

    # -------------------------------------------------------------- start and stop

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        config = self.config
        real_tpns = config.tpns_endpoint is not None
        if real_tpns and config.secret_file is None:
            raise StartError(
                "TPNS_ENDPOINT is set, so the stack talks to real TPNS: set TPNS_SECRET_FILE to a "
                'JSON file holding that app\'s credentials ({"access_id": ..., "secret_key": ...})'
            )
        check_port_free(config.port, "API gateway", "--port")
        check_port_free(config.aws_port, "moto", "--aws-port")
        if not real_tpns:
            check_port_free(config.tpns_port, "TPNS emulator", "--tpns-port")
        config.state_dir.mkdir(parents=True, exist_ok=True)
        (config.state_dir / "endpoints.json").unlink(missing_ok=True)  # left by a killed stack
        (config.state_dir / "logs").mkdir(exist_ok=True)
        api_key = self._api_key()

        aws_url = self._start_moto()
        if real_tpns:
            tpns_url = str(config.tpns_endpoint)
            secret_value = self._secret_file()
        else:
            tpns_url, secret_value = self._start_emulator()
        template = Template(
            config.template,
            config.parameter_overrides,
            local_overrides=self._local_parameters(tpns_url),
            stack_name=config.stack_name,
            region=REGION,
        )
        physical = resources.create(
            template, partial(self._client, aws_url=aws_url), secret_value, config.stack_name
        )
        wiring = wire(template, physical)
        self._start_functions(wiring, aws_url)
        self._start_pollers(wiring, physical, aws_url)
        self._start_schedules(wiring)
        stage = template.parameters.get("StageName", "prod")
        gateway = Gateway(
            config.port,
            wiring.routes,
            self.invoke,
            self._admin,
            api_key=api_key,
            stage=stage,
            log=self.log,
        )
        self._run_thread("gateway", gateway.serve_forever)
        self._stops.append(gateway.server_close)
        self._stops.append(gateway.shutdown)
        self.endpoints = {
            "api": gateway.url,
            "aws": aws_url,
            "tpns": tpns_url,
            "real_tpns": real_tpns,
            "api_key_file": str((config.state_dir / "api-key").resolve()),
            "secret_id": template.parameters["TpnsSecretId"],
            "region": REGION,
            "pid": os.getpid(),
            "logs": str((config.state_dir / "logs").resolve()),
            "outputs": self._outputs(template, physical, gateway.url),
            "routes": [f"{r.method} {r.path} {r.function}" for r in wiring.routes],
            "schedules": sorted(self.schedules),
            "functions": sorted(self.pools),
        }
        # Written last: its presence tells scripts (and the tests) the stack is ready.
        (config.state_dir / "endpoints.json").write_text(json.dumps(self.endpoints, indent=2))

    def stop(self) -> None:
        """Stop everything started, newest first; safe to call twice."""
        self.stopping.set()
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:
                logger.exception("while stopping")
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        (self.config.state_dir / "endpoints.json").unlink(missing_ok=True)

    def _local_parameters(self, tpns_url: str) -> dict[str, str]:
        """Parameters the local stack sets itself: its endpoints, and shortened delays."""
        local = {"TpnsEndpoint": tpns_url}
        if self.config.verify_delay_s is not None:
            local["VerifyDelaySeconds"] = str(self.config.verify_delay_s)
        return local

    def _run_thread(self, name: str, target: Callable[[], object]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -------------------------------------------------------------- parts

    def _api_key(self) -> str:
        path = self.config.state_dir / "api-key"
        if not path.exists():
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as key_file:
                key_file.write(secrets.token_urlsafe(24) + "\n")
        return path.read_text().strip()

    def _start_moto(self) -> str:
        """moto in server mode, answering local AWS clients only (``local_stack.aws``)."""
        server, url = serve(self.config.aws_port)
        self._run_thread("moto", server.serve_forever)
        self._stops.append(server.server_close)
        self._stops.append(server.shutdown)
        return url

    def _start_emulator(self) -> tuple[str, str]:
        from tpns_emulator import TpnsEmulator

        secret_key = secrets.token_hex(16)
        emulator = TpnsEmulator(
            {DEMO_ACCESS_ID: secret_key},
            port=self.config.tpns_port,
            apply_delay=self.config.apply_delay_s,
        ).start()
        self._stops.append(emulator.stop)
        return emulator.url, json.dumps({"access_id": DEMO_ACCESS_ID, "secret_key": secret_key})

    def _secret_file(self) -> str:
        path = self.config.secret_file
        assert path is not None
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StartError(f"TPNS_SECRET_FILE {path}: cannot read JSON ({exc})") from None
        if not isinstance(value, dict) or not (
            {"access_id", "secret_key"} <= value.keys() or "apps" in value
        ):
            raise StartError(
                f'TPNS_SECRET_FILE {path}: expected {{"access_id", "secret_key"}} or '
                '{"default_app", "apps": {...}}'
            )
        return json.dumps(value)

    def _client(self, service: str, *, aws_url: str) -> Any:
        import boto3

        session = boto3.session.Session(
            aws_access_key_id=AWS_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=AWS_CREDENTIALS["aws_secret_access_key"],
            region_name=REGION,
        )
        return session.client(
            service,  # type: ignore[call-overload]
            endpoint_url=aws_url,
        )

    def _start_functions(self, wiring: Wiring, aws_url: str) -> None:
        aws = {
            "AWS_ENDPOINT_URL": aws_url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": AWS_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": AWS_CREDENTIALS["aws_secret_access_key"],
            # Nothing from ~/.aws (profiles, per-service endpoints) may redirect a function.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        logs = self.config.state_dir / "logs"
        for logical_id, spec in wiring.functions.items():
            pool = FunctionPool(
                spec,
                instance_environment(spec, aws),
                logs / f"{logical_id}.log",
                self.config.max_instances,
            )
            self.pools[logical_id] = pool
            self._stops.append(pool.close)
        # One warm instance each, started side by side: import errors show up now, not later.
        errors: dict[str, str] = {}

        def warm(name: str, pool: FunctionPool) -> None:
            try:
                pool.warm()
            except FunctionError as exc:
                errors[name] = str(exc)

        threads = [
            threading.Thread(target=warm, args=(n, p), daemon=True) for n, p in self.pools.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            details = "; ".join(f"{name}: {error}" for name, error in sorted(errors.items()))
            raise StartError(f"functions failed to start ({details}); see {logs}/")

    def _start_pollers(self, wiring: Wiring, physical: Physical, aws_url: str) -> None:
        for source in wiring.sqs_sources:
            function = wiring.functions[source.function]
            pool = self.pools[source.function]
            # Lambda runs up to MaximumConcurrency pollers' batches at once (5 when unset).
            for slot in range(min(self.config.max_instances, source.max_concurrency or 5)):
                mapping = SqsEventSourceMapping(
                    self._client("sqs", aws_url=aws_url),
                    physical.refs[source.queue],
                    partial(_invoke_batch, pool),
                    batch_size=source.batch_size,
                    batching_window_s=source.batching_window_s,
                    function_name=function.logical_id,
                    timeout_s=function.timeout_s,
                    retry_visibility_s=self.config.redelivery_delay_s,
                    region=REGION,
                    report_batch_item_failures=source.report_batch_item_failures,
                )
                self._run_thread(
                    f"poller-{source.queue}-{slot}", partial(self._poll, mapping, source)
                )

    def _poll(self, mapping: SqsEventSourceMapping, source: SqsSource) -> None:
        while not self.stopping.is_set():
            before = (mapping.stats.deleted, mapping.stats.failed)
            started = time.monotonic()
            try:
                delivered = mapping.poll_once(wait_time_s=1)
            except Exception as exc:
                if not self.stopping.is_set():
                    logger.warning("polling %s failed: %s", source.queue, exc)
                    self.stopping.wait(1)
                continue
            if delivered:
                deleted = mapping.stats.deleted - before[0]
                retried = mapping.stats.failed - before[1]
                elapsed = (time.monotonic() - started) * 1000
                self.log(
                    f"SQS {source.queue} → {source.function}: {delivered} message(s), "
                    f"{deleted} done, {retried} left for redelivery {elapsed:.0f} ms"
                )

    def _start_schedules(self, wiring: Wiring) -> None:
        for schedule in wiring.schedules:
            name = f"{schedule.function}{schedule.event}"  # SAM's name for the schedule
            try:
                expression: ScheduleExpression | None = ScheduleExpression.parse(
                    schedule.expression, schedule.timezone
                )
            except ScheduleError as exc:
                self.say(f"schedule {name}: {exc}; not run on a timer, trigger it by hand")
                expression = None
            self.schedules[name] = (schedule, expression)
            if expression is not None:
                self._run_thread(f"schedule-{name}", partial(self._tick, name, expression))

    def _tick(self, name: str, expression: ScheduleExpression) -> None:
        while not self.stopping.is_set():
            due = expression.next_after(datetime.now(UTC))
            if due is None:
                return
            while not self.stopping.is_set():
                left = (due - datetime.now(UTC)).total_seconds()
                if left <= 0:
                    break
                self.stopping.wait(min(left, 30))
            # A failed run is logged by trigger(); the schedule keeps running, as Scheduler's does.
            if not self.stopping.is_set():
                with contextlib.suppress(FunctionError):
                    self.trigger(name)

    # -------------------------------------------------------------- invoking

    def invoke(self, function: str, event: Any) -> tuple[Any, float, float | None]:
        invocation = self.pools[function].invoke(event)
        return invocation.result, invocation.duration_ms, invocation.init_ms

    def trigger(self, name: str) -> Any:
        """Run a schedule now, with the input the template gives it; returns the result."""
        schedule, _ = self.schedules[name]
        started = time.monotonic()
        try:
            result, _, _ = self.invoke(schedule.function, json.loads(schedule.input))
        except FunctionError as exc:
            self.log(f"schedule {name} → {schedule.function} failed: {exc}")
            raise
        summary = json.dumps(result, separators=(",", ":"))
        elapsed = (time.monotonic() - started) * 1000
        self.log(f"schedule {name} → {schedule.function} {elapsed:.0f} ms: {summary[:200]}")
        return result

    def _admin(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[1:]  # drop "_local"
        try:
            if method == "GET" and parts == ["endpoints"]:
                return 200, self.endpoints
            if method == "POST" and len(parts) == 3 and parts[0] == "schedules":
                if parts[1] not in self.schedules or parts[2] != "trigger":
                    return 404, {
                        "message": f"no schedule {parts[1]}; have {sorted(self.schedules)}"
                    }
                return 200, self.trigger(parts[1])
            if method == "POST" and len(parts) == 3 and parts[0] == "functions":
                if parts[1] not in self.pools or parts[2] != "invoke":
                    return 404, {"message": f"no function {parts[1]}; have {sorted(self.pools)}"}
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    return 400, {"message": "the invocation payload must be JSON"}
                result, _, _ = self.invoke(parts[1], payload)
                return 200, result
        except FunctionError as exc:
            return 502, exc.payload
        return 404, {"message": f"no local endpoint {method} {path}"}

    def log(self, line: str) -> None:
        with self._print_lock:
            self.say(f"{datetime.now().strftime('%H:%M:%S')}  {line}")

    # -------------------------------------------------------------- outputs

    def _outputs(self, template: Template, physical: Physical, api_url: str) -> dict[str, str]:
        """The template's Outputs as ``sam deploy`` would show them, with the local API URL."""
        apis = {k for k, r in template.resources.items() if r.get("Type") == "AWS::Serverless::Api"}
        outputs: dict[str, str] = {}
        for name, output in template.document.get("Outputs", {}).items():
            if "Condition" in output and not template.conditions.get(output["Condition"], False):
                continue
            raw = json.dumps(output.get("Value"))
            if any(f'"{api}"' in raw or "${" + api + "}" in raw for api in apis):
                outputs[name] = api_url
                continue
            outputs[name] = str(template.resolve(output.get("Value"), physical))
        return outputs
