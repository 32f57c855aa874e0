"""``tpns-bindings`` run in-process with captured rich consoles, and a fake jobs API.

``run_cli`` is what a user sees, as text: ``console`` and ``err`` are rich consoles writing to
strings (plain, or as a terminal with ``terminal=True`` to see the live display's frames), and
``out`` is the data stream (CSV).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from rich.console import Console

from tests.support.local_stack import RunningStack
from tpns_cli.cli import main
from tpns_cli.errors import ApiError

WIDTH = 160
#: A row of the submitted-jobs table: part, list field, items, job id.
JOB_ROW = re.compile(
    r"^ +\d+ +(?:token_accounts|token_list|account_list) +\d+ +([0-9a-f]{32}) ", re.M
)


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str
    out: str


def captured_console(*, terminal: bool = False, width: int = WIDTH) -> Console:
    """A rich console writing to a string (``console.file.getvalue()``), without colours."""
    return Console(
        file=io.StringIO(), force_terminal=terminal, width=width, color_system=None, soft_wrap=False
    )


def run_cli(*argv: str, terminal: bool = False, width: int = WIDTH) -> CliRun:
    """``tpns-bindings ARGV...`` in-process; its exit code and everything it printed."""
    console = captured_console(terminal=terminal, width=width)
    err = captured_console(width=width)
    out = io.StringIO()
    code = main(list(argv), console=console, err=err, out=out)
    return CliRun(code, _text(console), _text(err), out.getvalue())


def _text(console: Console) -> str:
    stream = console.file
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def job_ids(stdout: str) -> list[str]:
    """The job ids of a submit's jobs table, in part order."""
    return JOB_ROW.findall(stdout)


def numbers_rows(stdout: str) -> list[list[int]]:
    """The rows of a printed table that hold only numbers (counts), in order."""
    rows = [line.split() for line in stdout.splitlines()]
    return [[int(cell) for cell in row] for row in rows if row and all(c.isdigit() for c in row)]


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def emulator(stack: RunningStack, method: str, name: str, body: Any = None) -> Any:
    """The stack's TPNS emulator's admin API (``/_emulator/<name>``)."""
    answer = requests.request(
        method, f"{stack.endpoints['tpns']}/_emulator/{name}", json=body, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def batchoperate_calls(stack: RunningStack) -> int:
    """How many batchoperate calls the stack's emulator has answered."""
    by_path: dict[str, int] = emulator(stack, "GET", "stats")["by_path"]
    return sum(count for path, count in by_path.items() if path.endswith("batchoperate"))


@dataclass
class FakeJobsApi:
    """``POST /v1/jobs`` with the Idempotency-Key semantics of the design, in memory.

    The same key with the same body answers the first job with ``"replayed": true`` and queues
    nothing; ``fail_at`` makes the N-th submission (from 1) answer 503, as an API that went away.
    """

    fail_at: int | None = None
    submissions: int = 0
    queued: list[bytes] = field(default_factory=list)
    keys: dict[str, tuple[bytes, dict[str, Any]]] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def submit_job(self, body: bytes, key: str) -> dict[str, Any]:
        self.submissions += 1
        if self.submissions == self.fail_at:
            raise ApiError("POST /v1/jobs: 503 queue_unavailable: try again", 503)
        if key in self.keys:
            first_body, answer = self.keys[key]
            if first_body != body:
                raise ApiError(
                    "POST /v1/jobs: 422",
                    422,
                    {"error": {"code": "idempotency_key_reused", "message": "another body"}},
                )
            return {**answer, "replayed": True}
        job_id = f"job-{len(self.keys) + 1}"
        items = next(v for k, v in json.loads(body).items() if k != "operation")
        answer = {"job_id": job_id, "state": "queued", "items": len(items)}
        self.keys[key] = (body, answer)
        self.queued.append(body)
        return answer

    def job(self, job_id: str) -> dict[str, Any]:
        return self.jobs[job_id]
