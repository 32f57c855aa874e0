"""The live view while waiting, the summary after it, as rich renders them to a terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.cli import captured_console
from tpns_cli import render
from tpns_cli.jobs import JobStatus, Watched, watch


def answer(job_id: str, state: str, total: int, **counts: int) -> dict[str, Any]:
    """A GET /v1/jobs/{id} answer with these counts (the others 0, pending the rest)."""
    items = {name: 0 for name in ("accepted", "failed", "dead_lettered", "superseded")}
    items |= {"verified": 0, "unverified": 0, **counts, "total": total}
    settled = sum(items[n] for n in ("accepted", "failed", "dead_lettered", "superseded"))
    items["pending"] = total - settled
    return {"job_id": job_id, "state": state, "operation": "bind", "items": items}


@dataclass
class ScriptedJobs:
    """Each job answers its next scripted status at each poll, then keeps the last one."""

    scripts: dict[str, list[dict[str, Any]]]
    polls: dict[str, int] = field(default_factory=dict)

    def job(self, job_id: str) -> dict[str, Any]:
        self.polls[job_id] = self.polls.get(job_id, 0) + 1
        script = self.scripts[job_id]
        return script[min(self.polls[job_id], len(script)) - 1]

    def submit_job(self, body: bytes, key: str) -> dict[str, Any]:
        raise AssertionError("not submitting here")


def text_of(console: Any) -> str:
    return str(console.file.getvalue())


def test_the_live_view_shows_a_bar_and_the_items_of_each_state_per_job() -> None:
    # GIVEN one job half settled: some accepted, one failed, one dead-lettered
    rows = [("1", JobStatus.of(answer("j1", "running", 10, accepted=3, failed=1, dead_lettered=1)))]
    console = captured_console(terminal=True, width=120)

    # WHEN the live view is rendered to a terminal
    console.print(render.progress(rows))

    # THEN it shows the job's state, a rich progress bar, settled of total and every state's count
    text = text_of(console)
    assert "running" in text and "5/10" in text and "━" in text
    for shown in ("accepted 3", "failed 1", "dead-lettered 1", "superseded 0", "pending 5"):
        assert shown in text
    assert "verified" not in text  # no verification seen: the ledger's counts are not shown


def test_verification_counts_appear_once_the_ledger_verifies() -> None:
    # GIVEN a job whose items are all settled and partly verified (the ledger is on)
    status = JobStatus.of(answer("j1", "running", 4, accepted=4, verified=2))

    # WHEN the live view is rendered
    console = captured_console(width=120)
    console.print(render.progress([("1", status)]))

    # THEN verified and unverified are shown beside the other states
    assert "verified 2" in text_of(console) and "unverified 0" in text_of(console)


def test_watching_polls_until_every_job_is_final_and_redraws_each_time() -> None:
    # GIVEN two jobs: one queued, then running, then succeeded; one already failed
    api = ScriptedJobs(
        {
            "j1": [
                answer("j1", "queued", 4),
                answer("j1", "running", 4, accepted=2),
                answer("j1", "succeeded", 4, accepted=4),
            ],
            "j2": [answer("j2", "failed", 1, dead_lettered=1)],
        }
    )
    console = captured_console(terminal=True, width=120)

    # WHEN they are watched
    rows = watch(
        api,
        [Watched("1", "j1"), Watched("2", "j2")],
        console,
        render.progress,
        interval_s=0,
        sleep=lambda _: None,
    )

    # THEN each poll was drawn (queued, running, succeeded), a final job is polled once only,
    # and the watch returns the final statuses
    text = text_of(console)
    assert "queued" in text and "2/4" in text and "succeeded" in text
    assert api.polls == {"j1": 3, "j2": 1}
    assert [(label, s.state) for label, s in rows] == [("1", "succeeded"), ("2", "failed")]


def test_the_summary_lists_each_job_and_totals_them() -> None:
    # GIVEN two final jobs
    rows = [
        ("1", JobStatus.of(answer("j1", "succeeded", 10000, accepted=10000))),
        ("2", JobStatus.of(answer("j2", "completed_with_failures", 9997, accepted=9990, failed=7))),
    ]

    # WHEN the summary is rendered
    console = captured_console(width=120)
    console.print(render.summary(rows))

    # THEN each job has its row and the footer adds them up
    lines = text_of(console).splitlines()
    assert any(line.split()[:4] == ["1", "succeeded", "10000", "10000"] for line in lines)
    assert any("completed with failures" in line and "9997" in line for line in lines)
    assert any(line.split()[:4] == ["all", "19997", "19990", "7"] for line in lines)
