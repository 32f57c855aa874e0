"""End to end through the local stack (ledger on): failures listed, the DLQ redriven, applied."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import emulator, job_ids, numbers_rows, run_cli, write_lines
from tests.support.local_stack import RunningStack
from tests.support.polling import eventually
from tpns_account import codes
from tpns_cli import dlq
from tpns_cli.target import Target

DEMO_APP = "1500001048"


@pytest.fixture
def clean_emulator(stack: RunningStack) -> Iterator[None]:
    """The stack's emulator without faults or invalid tokens after the test."""
    yield
    emulator(stack, "POST", "faults", {"clear": True})
    emulator(stack, "POST", "config", {"invalid_tokens": []})


def on(stack: RunningStack, *argv: str) -> list[str]:
    return [*argv, "--local", str(stack.state_dir)]


def bound_accounts(stack: RunningStack, token: str) -> list[dict[str, object]]:
    state = emulator(stack, "GET", f"state?access_id={DEMO_APP}")
    accounts: list[dict[str, object]] = state.get(token, [])
    return accounts


def test_a_dead_lettered_bind_is_redriven_after_the_fix_and_then_applied(
    stack: RunningStack, tmp_path: Path, clean_emulator: None
) -> None:
    # GIVEN a bind TPNS refused for good at call level, so its message is in the DLQ
    emulator(
        stack,
        "POST",
        "faults",
        {"kind": "error", "code": codes.INVALID_PARAMETER, "path": "batchoperate", "times": 1},
    )
    line = {"token": "cli-dlq-token", "account": "cli-dlq@example.com", "account_type": 0}
    path = write_lines(tmp_path / "one.jsonl", [json.dumps(line)])
    submitted = run_cli(
        *on(stack, "submit", str(path), "--operation", "bind", "--wait", "--poll-interval", "0.5")
    )
    assert submitted.code == 1, submitted.stdout + submitted.stderr  # an item did not make it
    assert "dead-lettered 1" in submitted.stdout
    queues = Target(local=stack.state_dir).queues()
    [dead] = dlq.peek(queues, limit=10)

    # WHEN the list and a dry run show it, the cause is gone, and it is redriven
    listed = run_cli(*on(stack, "dlq", "list"))
    dry = run_cli(*on(stack, "dlq", "redrive", "--dry-run"))
    assert dlq.depth(queues) == 1  # the dry run moved nothing
    emulator(stack, "POST", "faults", {"clear": True})
    moved = run_cli(*on(stack, "dlq", "redrive"))

    # THEN the listing named its job and reason, the dry run what would move, the redrive moved
    # it (the DLQ is empty), and TPNS then holds the binding
    assert json.loads(dead.body)["job_id"] in listed.stdout and "1008007" in listed.stdout
    assert "dry run: 1 message(s) would be moved; none was" in dry.stdout
    assert moved.code == 0 and numbers_rows(moved.stdout) == [[1, 0, 0, 0]]
    assert dlq.depth(queues) == 0
    assert eventually(lambda: bound_accounts(stack, "cli-dlq-token"), timeout_s=20) == [
        {"account": "cli-dlq@example.com", "account_type": 0}
    ]


def test_a_jobs_refused_items_are_listed_and_written_back_as_csv(
    stack: RunningStack, tmp_path: Path, clean_emulator: None
) -> None:
    # GIVEN a bind job in which TPNS refuses 2 of 3 tokens as invalid
    emulator(stack, "POST", "config", {"invalid_tokens": ["cli-bad-1", "cli-bad-2"]})
    path = write_lines(
        tmp_path / "binds.csv",
        [
            "token,account,account_type",
            "cli-bad-1,bad1@example.com,0",
            "cli-good,good@example.com,0",
            "cli-bad-2,bad2@example.com,0",
            "cli-bad-1,bad1-work@example.com,1",
        ],
    )
    submitted = run_cli(
        *on(stack, "submit", str(path), "--operation", "bind", "--wait", "--poll-interval", "0.5")
    )
    [job_id] = job_ids(submitted.stdout)

    # WHEN its status, its failures and their CSV (with the submitted file) are asked for
    status = run_cli(*on(stack, "job", job_id))
    failures = run_cli(*on(stack, "failures", job_id, "--csv", "--from", str(path)))

    # THEN the job ended with failures (exit 1), its status lists both tokens with TPNS's code,
    # and the CSV gives back their rows, accounts included, for a new submit
    assert submitted.code == 1 and "verified 1" in submitted.stdout
    assert "completed with failures" in status.stdout
    assert status.stdout.count(str(codes.INVALID_TOKEN)) == 2
    assert failures.out.splitlines() == [
        "token,account,account_type,index,outcome,code,reason",
        "cli-bad-1,bad1@example.com,0,0,failed,1008006,invalid token",
        "cli-bad-1,bad1-work@example.com,1,0,failed,1008006,invalid token",
        "cli-bad-2,bad2@example.com,0,2,failed,1008006,invalid token",
    ]
