"""Function instances: each one a Python process that imports the declared handler, like Lambda.

One instance serves one invocation at a time, with the function's own environment (from the
template), its code directory and layers first on ``sys.path``, and ``Handler`` resolved the way
Lambda resolves it (``app.lambda_handler`` → module ``app``, attribute ``lambda_handler``). A
``FunctionPool`` starts instances on demand up to a limit, as Lambda scales out, and replaces one
that timed out or crashed. What a function prints (its JSON log lines) goes to its own log file.
"""

from __future__ import annotations

import importlib
import json
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from local_stack.esm import LocalContext
from local_stack.template import FunctionSpec

logger = logging.getLogger(__name__)

# What an instance keeps of the parent's environment; everything else comes from the template,
# so a developer's real AWS profile or credentials can never reach a function.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")
_SPAWN = multiprocessing.get_context("spawn")


class FunctionError(Exception):
    """The handler raised, timed out, or its instance died; ``payload`` is Lambda's error shape."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = payload


@dataclass(frozen=True)
class Invocation:
    result: Any
    duration_ms: float
    init_ms: float | None  # set on the invocation that paid a cold start


def instance_environment(spec: FunctionSpec, aws: Mapping[str, str]) -> dict[str, str]:
    """The process environment of an instance: a clean base, Lambda's own variables, AWS, then
    the function's variables from the template."""
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env |= {
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env |= aws
    env |= spec.environment
    return env


def _serve(
    connection: Connection,
    spec: FunctionSpec,
    environment: dict[str, str],
    log_path: str,
) -> None:
    """The instance's main loop (runs in the child process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as we do
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    os.environ.clear()
    os.environ.update(environment)
    sys.path[:0] = [str(spec.code_dir), *(str(d) for d in spec.layer_dirs)]
    started = time.monotonic()
    try:
        module_name, _, attribute = spec.handler.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
    except Exception as exc:
        traceback.print_exc()
        connection.send(("init_error", _error_payload(exc)))
        return
    connection.send(("ready", (time.monotonic() - started) * 1000))
    while True:
        try:
            event = json.loads(connection.recv())
        except (EOFError, OSError):
            return
        context = LocalContext(spec.logical_id, spec.timeout_s, spec.memory_mb)
        try:
            answer = json.dumps(handler(event, context))
        except Exception as exc:
            traceback.print_exc()
            connection.send(("error", _error_payload(exc)))
            continue
        connection.send(("ok", answer))


def _exit_with_parent(parent: int) -> None:
    """Die with the local stack, even if it was killed mid-invocation (no orphans left)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _error_payload(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


class FunctionInstance:
    """One execution environment: a process with the handler imported, serving one call at once."""

    def __init__(self, spec: FunctionSpec, environment: dict[str, str], log_path: Path) -> None:
        self.spec = spec
        self._connection, child = _SPAWN.Pipe()
        self._process = _SPAWN.Process(
            target=_serve,
            args=(child, spec, environment, str(log_path)),
            name=f"local-{spec.logical_id}",
            daemon=True,
        )
        started = time.monotonic()
        self._process.start()
        child.close()
        kind, value = self._receive(timeout_s=max(30.0, spec.timeout_s))
        if kind != "ready":
            self.stop()
            raise FunctionError(value)
        self.init_ms: float = (time.monotonic() - started) * 1000

    def invoke(self, event: Any) -> Any:
        self._connection.send(json.dumps(event))
        kind, value = self._receive(timeout_s=self.spec.timeout_s)
        if kind == "ok":
            return json.loads(value)
        raise FunctionError(value)

    def _receive(self, timeout_s: float) -> tuple[str, Any]:
        if not self._connection.poll(timeout_s):
            self.stop()
            return "error", {
                "errorMessage": f"Task timed out after {timeout_s:.2f} seconds",
                "errorType": "TimeoutError",
            }
        try:
            kind, value = self._connection.recv()
        except (EOFError, OSError):
            self.stop()
            return "error", {
                "errorMessage": f"instance exited (code {self._process.exitcode})",
                "errorType": "Runtime.ExitError",
            }
        return str(kind), value

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def stop(self) -> None:
        self._connection.close()
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout=5)


class FunctionPool:
    """A function's instances: reused while warm, added on demand up to ``max_instances``."""

    def __init__(
        self,
        spec: FunctionSpec,
        environment: dict[str, str],
        log_path: Path,
        max_instances: int = 4,
    ) -> None:
        self.spec = spec
        self.environment = environment
        self.log_path = log_path
        self.max_instances = max_instances
        self._idle: queue.LifoQueue[FunctionInstance] = queue.LifoQueue()
        self._count = 0
        self._lock = threading.Lock()
        self._all: list[FunctionInstance] = []
        self._closed = False

    def warm(self) -> float:
        """Start one instance now (surfaces import errors at start-up); its init time in ms."""
        if not self._reserve():
            raise FunctionError({"errorMessage": "no instance slot left", "errorType": "Busy"})
        instance = self._start()
        self._idle.put(instance)
        return instance.init_ms

    def invoke(self, event: Any) -> Invocation:
        instance, cold = self._acquire()
        started = time.monotonic()
        try:
            result = instance.invoke(event)
        finally:
            self._release(instance)
        elapsed_ms = (time.monotonic() - started) * 1000
        return Invocation(result, elapsed_ms, instance.init_ms if cold else None)

    def _acquire(self) -> tuple[FunctionInstance, bool]:
        while True:
            if self._closed:
                raise FunctionError(
                    {"errorMessage": "local stack stopping", "errorType": "Stopped"}
                )
            try:
                instance = self._idle.get_nowait()
            except queue.Empty:
                if self._reserve():
                    return self._start(), True
                try:
                    instance = self._idle.get(timeout=1.0)
                except queue.Empty:
                    continue
            if instance.alive:
                return instance, False
            self._forget(instance)

    def _reserve(self) -> bool:
        with self._lock:
            if self._closed or self._count >= self.max_instances:
                return False
            self._count += 1
            return True

    def _start(self) -> FunctionInstance:
        """A new instance in a slot ``_reserve`` granted (given back if it cannot start)."""
        try:
            instance = FunctionInstance(self.spec, self.environment, self.log_path)
        except BaseException:
            with self._lock:
                self._count -= 1
            raise
        with self._lock:
            self._all.append(instance)
        return instance

    def _release(self, instance: FunctionInstance) -> None:
        if instance.alive and not self._closed:
            self._idle.put(instance)
        else:
            self._forget(instance)

    def _forget(self, instance: FunctionInstance) -> None:
        instance.stop()
        with self._lock:
            self._count -= 1
            if instance in self._all:
                self._all.remove(instance)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            instances = list(self._all)
        for instance in instances:
            instance.stop()
