"""The local stack as a user runs it: ``python -m local_stack`` in a subprocess, used over HTTP.

Nothing here imports the stack: requests go to its gateway, AWS calls to its moto server, and
the stack is stopped with SIGINT (Ctrl-C) and checked to leave no process behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.functions import ROOT

START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children_of(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc), so a stop can be checked for leftovers."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    state_dir: Path
    endpoints: dict[str, Any]
    output: Path
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = Path(self.endpoints["api_key_file"]).read_text().strip()

    @property
    def api(self) -> str:
        return str(self.endpoints["api"])

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        headers = {"x-api-key": self.key, **kwargs.pop("headers", {})}
        return requests.request(
            method, self.api + path, json=body, headers=headers, timeout=30, **kwargs
        )

    def aws(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoints["aws"], region_name="us-east-1")

    def output_text(self) -> str:
        return self.output.read_text()

    def stop(self) -> int:
        """Ctrl-C, as a user stops it; returns the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def start_stack(
    tmp: Path, *extra: str, template: Path | None = None, env: dict[str, str] | None = None
) -> RunningStack:
    state_dir = tmp / "state"
    output = tmp / "stack.out"
    command = [
        sys.executable, "-m", "local_stack",
        "--state-dir", str(state_dir),
        "--port", str(free_port()),
        "--aws-port", str(free_port()),
        "--tpns-port", str(free_port()),
        "--apply-delay", "1",
        "--redelivery-delay", "1",
        "--verify-delay", "2",
        "--exit-after", "900",  # never outlives a broken test run
        *(["--template", str(template)] if template else []),
        *extra,
    ]  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TPNS_"))}
    with output.open("w") as sink:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=clean | (env or {}),
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    endpoints_file = state_dir / "endpoints.json"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not endpoints_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"local stack did not start:\n{output.read_text()}")
        time.sleep(0.1)
    return RunningStack(process, state_dir, json.loads(endpoints_file.read_text()), output)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    if running.process.poll() is None:
        running.stop()


def eventually(check: Callable[[], Any], timeout_s: float = 30, every_s: float = 0.3) -> Any:
    """Poll ``check`` until it returns something truthy (TPNS and the queue are asynchronous)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every_s)


def trigger_cleanup(stack: RunningStack) -> Any:
    """``python -m local_stack trigger``, the command behind ``make cleanup-now``."""
    done = subprocess.run(
        [sys.executable, "-m", "local_stack", "--state-dir", str(stack.state_dir), "trigger"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
