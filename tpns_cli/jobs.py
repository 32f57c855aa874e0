"""Jobs as ``GET /v1/jobs/{id}`` answers them, and watching them until each is final.

A job's counts are exact (every item in exactly one of accepted / failed / dead_lettered /
superseded / pending), and a final state never changes, so the watcher stops polling a job as
soon as it is final and is done when all are.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from rich.console import Console
from rich.live import Live

from tpns_api.jobs.model import FINAL_STATES
from tpns_cli.errors import CliError

if TYPE_CHECKING:
    from tpns_cli.submit import JobsApi

#: The counts shown per job: settled outcomes, what is left, and the ledger's verification.
SETTLED: Final = ("accepted", "failed", "dead_lettered", "superseded")
VERIFICATION: Final = ("verified", "unverified")
#: Counts of items that did not make it: any makes the command's exit code 1.
FAILED: Final = ("failed", "dead_lettered", "unverified")
POLL_INTERVAL_S: Final = 2.0


@dataclass(frozen=True, slots=True)
class JobStatus:
    """One answer of ``GET /v1/jobs/{id}``, with what the CLI asks of it."""

    job_id: str
    state: str
    operation: str
    items: Mapping[str, int | None]
    messages: Mapping[str, int | None]
    answer: Mapping[str, Any]

    @classmethod
    def of(cls, answer: Mapping[str, Any]) -> JobStatus:
        return cls(
            str(answer.get("job_id")),
            str(answer.get("state")),
            str(answer.get("operation")),
            dict(answer.get("items") or {}),
            dict(answer.get("messages") or {}),
            answer,
        )

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    def count(self, name: str) -> int:
        return int(self.items.get(name) or 0)

    @property
    def total(self) -> int | None:
        total = self.items.get("total")
        return None if total is None else int(total)

    @property
    def settled(self) -> int:
        return sum(self.count(name) for name in SETTLED)

    @property
    def failures(self) -> int:
        return sum(self.count(name) for name in FAILED)

    @property
    def verifying(self) -> bool:
        """The ledger is checking this job's items (or has): its verification counts matter."""
        if any(self.count(name) for name in VERIFICATION):
            return True
        return not self.final and self.total is not None and self.settled >= self.total > 0


@dataclass(frozen=True, slots=True)
class Watched:
    """A job being watched, with the label it is shown under (its part of the file)."""

    label: str
    job_id: str


Render = Callable[[Sequence[tuple[str, JobStatus]]], Any]


def watch(
    api: JobsApi,
    jobs: Sequence[Watched],
    console: Console,
    render: Render,
    *,
    interval_s: float = POLL_INTERVAL_S,
    timeout_s: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[tuple[str, JobStatus]]:
    """Poll every job until all are final, showing ``render(statuses)`` live; the last ones."""
    statuses = {job.job_id: JobStatus.of(api.job(job.job_id)) for job in jobs}

    def rows() -> list[tuple[str, JobStatus]]:
        return [(job.label, statuses[job.job_id]) for job in jobs]

    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    with Live(render(rows()), console=console, auto_refresh=False) as live:
        while not all(status.final for status in statuses.values()):
            if deadline is not None and time.monotonic() > deadline:
                live.update(render(rows()), refresh=True)
                raise WaitTimeoutError(
                    f"gave up waiting after {timeout_s:g} s; the jobs go on: "
                    "tpns-bindings job ID shows where each is"
                )
            sleep(interval_s)
            for job_id, status in statuses.items():
                if not status.final:
                    statuses[job_id] = JobStatus.of(api.job(job_id))
            live.update(render(rows()), refresh=True)
    if not console.is_terminal:
        console.line()  # Live ends its last render with a newline on terminals only
    return rows()


class WaitTimeoutError(CliError):
    """``--timeout`` passed before every job was final (they carry on without us)."""
