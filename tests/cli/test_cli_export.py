"""A job's failures as CSV that submit reads back."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.support.cli import write_lines
from tpns_cli.errors import InputError
from tpns_cli.export import write_failures
from tpns_cli.manifest import parse_manifest

UNBIND_JOB = {"job_id": "j1", "operation": "unbind", "operator_type": 4}
BIND_JOB = {"job_id": "j2", "operation": "bind", "operator_type": 2}


def test_unbind_failures_become_a_csv_that_submit_reads_back() -> None:
    # GIVEN the failures of an unbind job: a token refused by TPNS, an account dead-lettered
    failures = [
        {
            "index": 3,
            "token": "t3",
            "outcome": "failed",
            "code": 1008006,
            "reason": "invalid token",
        },
        {
            "index": 7,
            "account": "a@x.com",
            "account_type": 1005,
            "outcome": "dead_lettered",
            "code": None,
            "reason": "a reason\non two lines",
        },
    ]
    out = io.StringIO()

    # WHEN they are written as CSV
    rows = write_failures(out, failures, UNBIND_JOB)

    # THEN every failure is a row, on one line each, and submit reads them as the same unbinds
    assert rows == 2
    assert out.getvalue().splitlines() == [
        "token,account,account_type,index,outcome,code,reason",
        "t3,,,3,failed,1008006,invalid token",
        ",a@x.com,1005,7,dead_lettered,,a reason on two lines",
    ]
    again = parse_manifest(out.getvalue().encode(), "unbind")
    assert again.bad == [] and again.items("token_list") == ["t3"]
    assert again.items("account_list") == [{"account": "a@x.com", "account_type": 1005}]


def test_bind_failures_are_not_written_without_the_submitted_file() -> None:
    # GIVEN a bind job's failures (they name tokens only)
    failures = [{"index": 0, "token": "t1", "outcome": "failed", "code": 1008006}]

    # WHEN they are written without the file that was submitted
    # THEN it is refused: a token-only row would unbind every account of the token
    with pytest.raises(InputError, match="--from FILE"):
        write_failures(io.StringIO(), failures, BIND_JOB)


def test_bind_failures_with_the_submitted_file_get_a_row_per_account(tmp_path: Path) -> None:
    # GIVEN a bind file and its job's failure of token t1, bound there to two accounts
    source = write_lines(
        tmp_path / "binds.csv",
        ["token,account,account_type", "t1,a@x.com,0", "t2,b@x.com,0", "t1,c@x.com,1"],
    )
    failures = [{"index": 0, "token": "t1", "outcome": "failed", "code": 1008006}]
    out = io.StringIO()

    # WHEN the failures are written with the submitted file
    write_failures(out, failures, BIND_JOB, source)

    # THEN t1's two accounts come back, as bind rows submit reads
    again = parse_manifest(out.getvalue().encode(), "bind")
    assert again.items("token_accounts") == [
        {
            "token": "t1",
            "account_list": [
                {"account": "a@x.com", "account_type": 0},
                {"account": "c@x.com", "account_type": 1},
            ],
        }
    ]
