"""End to end through the local stack: a 20,000-line file submitted, watched, submitted again."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import CliRun, batchoperate_calls, emulator, job_ids, run_cli, write_lines
from tests.support.local_stack import RunningStack
from tests.support.polling import eventually
from tpns_cli.jobs import JobStatus
from tpns_cli.target import Target

ROWS = 20_000
BAD = {1234: "not a token!", 9000: "", 17777: "77777"}  # row index -> what makes it bad
DEMO_APP = "1500001048"


@dataclass(frozen=True)
class FirstRun:
    path: Path
    run: CliRun
    tokens: set[str]


def bind_rows() -> tuple[list[str], set[str]]:
    """A header and 20,000 bind rows, 3 of them bad; the tokens of the good ones."""
    rows, good = ["token,account,account_type"], set()
    for i in range(ROWS):
        token, account, account_type = f"cli-{i:05d}", f"cli-user-{i:05d}@example.com", "0"
        if i == 1234:
            token = BAD[i]
        elif i == 9000:
            account = BAD[i]
        elif i == 17777:
            account_type = BAD[i]
        else:
            good.add(token)
        rows.append(f"{token},{account},{account_type}")
    return rows, good


def submit(stack: RunningStack, path: Path) -> CliRun:
    """``tpns-bindings submit FILE --operation bind --local STATE --wait``, on a terminal."""
    return run_cli(
        "submit", str(path), "--operation", "bind", "--local", str(stack.state_dir),
        "--wait", "--poll-interval", "0.5", "--timeout", "120",
        terminal=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def first_run(
    stack_without_ledger: RunningStack, tmp_path_factory: pytest.TempPathFactory
) -> FirstRun:
    rows, good = bind_rows()
    path = write_lines(tmp_path_factory.mktemp("files") / "binds.csv", rows)
    return FirstRun(path, submit(stack_without_ledger, path), good)


def test_a_20000_line_csv_with_3_bad_lines_reports_them_and_ends_with_exact_counts(
    stack_without_ledger: RunningStack, first_run: FirstRun
) -> None:
    # GIVEN a 20,000-row bind CSV with 3 bad rows, submitted with --wait (fixture first_run)
    run = first_run.run

    # THEN the 3 bad lines are reported with their numbers (header = line 1) and reasons
    out = run.stdout
    assert "3 bad line(s)" in out
    for index in BAD:
        assert f" {index + 2} " in out
    assert "token: must contain only" in out and "account_type: 77777 is not" in out
    assert "a bind line needs a token and an account" in out

    # AND the 19,997 good items went in two jobs, watched live (bars, counts per state) to the end
    assert "19997 item(s)" in out and "in 2 job(s)" in out
    assert "waiting for the jobs" in out and "━" in out
    assert "10000/10000" in out and "9997/9997" in out and "accepted 10000" in out
    summary = out[out.rindex("summary") :]
    assert summary.split("all", 1)[1].split()[:5] == ["19997", "19997", "0", "0", "0"]
    assert run.code == 1  # the bad lines were not submitted: not everything was done

    # AND the API counts every item exactly once, and TPNS applies exactly the good bindings
    api = Target(local=stack_without_ledger.state_dir).api()
    for job_id in job_ids(out):
        status = JobStatus.of(api.job(job_id))
        assert status.state == "succeeded" and status.count("accepted") == status.total

    def bound() -> set[str]:
        return set(emulator(stack_without_ledger, "GET", f"state?access_id={DEMO_APP}"))

    assert eventually(lambda: bound() == first_run.tokens, timeout_s=20)


def test_the_same_command_again_queues_nothing_new(
    stack_without_ledger: RunningStack, first_run: FirstRun
) -> None:
    # GIVEN the finished first run, and what TPNS has been sent so far
    calls = batchoperate_calls(stack_without_ledger)

    # WHEN the same command runs again
    again = submit(stack_without_ledger, first_run.path)

    # THEN both parts are replayed onto the same jobs, nothing is on the bulk queue, and TPNS
    # gets no call after the time the first run's messages took to start arriving
    assert again.stdout.count("no: replayed") == 2
    assert job_ids(again.stdout) == job_ids(first_run.run.stdout)
    queue = stack_without_ledger.sqs().get_queue_attributes(
        QueueUrl=stack_without_ledger.outputs["BulkQueueUrl"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert queue == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }
    time.sleep(3)
    assert batchoperate_calls(stack_without_ledger) == calls
    assert "19997" in again.stdout[again.stdout.rindex("summary") :]
