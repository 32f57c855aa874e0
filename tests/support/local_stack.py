"""The local stack as a user runs it: ``python -m local_stack`` in a subprocess, used over HTTP.

Nothing here imports the stack: requests go to its gateway, AWS calls to its moto server, and
the stack is stopped with SIGINT (Ctrl-C), as a user stops it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from mypy_boto3_s3 import S3Client
from mypy_boto3_secretsmanager import SecretsManagerClient
from mypy_boto3_sqs import SQSClient

from tests.support.aws import s3_client, secretsmanager_client, sqs_client
from tests.support.paths import ROOT
from tests.support.processes import free_port

START_TIMEOUT_S = 60


@dataclass
class RunningStack:
    """A started stack: its process, state directory, endpoints (endpoints.json) and output."""

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

    @property
    def outputs(self) -> dict[str, str]:
        """The template's outputs, as the stack resolved them (queue URLs, bucket name...)."""
        outputs: dict[str, str] = self.endpoints["outputs"]
        return outputs

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        """An HTTP request to the gateway, with the stack's API key unless headers replace it."""
        headers = {"x-api-key": self.key, **kwargs.pop("headers", {})}
        return requests.request(
            method, self.api + path, json=body, headers=headers, timeout=30, **kwargs
        )

    def sqs(self) -> SQSClient:
        return sqs_client(self.endpoints["aws"])

    def s3(self) -> S3Client:
        return s3_client(self.endpoints["aws"])

    def secretsmanager(self) -> SecretsManagerClient:
        return secretsmanager_client(self.endpoints["aws"])

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
    """Start ``python -m local_stack`` on free ports, state in ``tmp``; return once it serves."""
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


def stack_for_module(tmp: Path, *extra: str) -> Iterator[RunningStack]:
    """A module fixture's stack: started with ``extra`` options, stopped (Ctrl-C) after."""
    running = start_stack(tmp, *extra)
    yield running
    if running.process.poll() is None:
        running.stop()
