"""The command line itself: the installed console script, arguments, exit codes, messages."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import run_cli, write_lines
from tests.support.paths import README_PATH
from tpns_cli.cli import parser


def test_the_project_installs_the_tpns_bindings_console_script() -> None:
    # GIVEN the development install (make venv: the project, editable)
    script = Path(sys.executable).parent / "tpns-bindings"
    assert script.exists() or shutil.which("tpns-bindings"), "tpns-bindings is not installed"

    # WHEN it is run for its help
    done = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )

    # THEN it answers with its commands
    assert done.returncode == 0, done.stderr
    for command in ("submit", "job", "failures", "dlq"):
        assert command in done.stdout


def test_a_dry_run_validates_and_plans_but_submits_nothing(tmp_path: Path) -> None:
    # GIVEN a bind file with one bad line, and no target at all
    path = write_lines(
        tmp_path / "binds.csv",
        [
            "token,account,account_type",
            *(f"t{i},user{i}@example.com,0" for i in range(25)),
            "bad token,u@example.com,0",
        ],
    )

    # WHEN it is submitted as a dry run, in jobs of 10
    run = run_cli("submit", str(path), "--operation", "bind", "--job-size", "10", "--dry-run")

    # THEN the bad line is reported with its number, the plan is shown, nothing is sent, and
    # the exit code says some lines were bad
    assert run.code == 1, run.stderr
    assert "1 bad line(s)" in run.stdout and "27" in run.stdout
    assert "25 item(s)" in run.stdout and "in 3 job(s)" in run.stdout
    assert "dry run: nothing submitted" in run.stdout


def test_a_submit_without_a_target_says_how_to_name_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a good file and no --local, --api or --stack (nor their environment variables)
    monkeypatch.delenv("TPNS_BINDINGS_API_URL", raising=False)
    path = write_lines(tmp_path / "tokens.jsonl", ['{"token": "t1"}'])

    # WHEN it is submitted
    run = run_cli("submit", str(path), "--operation", "unbind")

    # THEN the command fails with exit code 2, saying what to pass, and no trace
    assert run.code == 2
    assert "error:" in run.stderr and "--local STATE_DIR" in run.stderr
    assert "Traceback" not in run.stderr


def test_an_unreadable_file_is_an_error_not_a_trace(tmp_path: Path) -> None:
    run = run_cli("submit", str(tmp_path / "missing.csv"), "--operation", "bind", "--dry-run")
    assert run.code == 2 and "cannot read it" in run.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["submit", "f.csv", "--operation", "bind", "--app", "no spaces please"],
        ["submit", "f.csv", "--operation", "bind", "--job-size", "0"],
        ["submit", "f.csv", "--operation", "replace"],
        ["job", "not/a/job"],
        ["job", "j1", "--limit", "5000"],
        ["dlq", "redrive", "--max", "-1"],
    ],
    ids=["app name", "job size", "operation", "job id", "page limit", "max"],
)
def test_invalid_arguments_are_refused_before_anything_is_read(argv: list[str]) -> None:
    # GIVEN arguments the API would refuse (or that mean nothing)
    # WHEN the command is parsed
    # THEN argparse refuses it (exit code 2) before reading a file or calling anything
    with pytest.raises(SystemExit) as exited:
        run_cli(*argv)
    assert exited.value.code == 2


def test_the_readme_documents_every_command_and_option() -> None:
    # GIVEN the README's command-line section and the parser's commands and options
    readme = README_PATH.read_text()
    section = readme[readme.index("## Command-line tool") :]
    section = section[: section.index("\n## ", 1)]
    options: set[str] = set()
    commands: set[str] = set()

    def walk(node: argparse.ArgumentParser, path: str) -> None:
        for action in node._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    commands.add(f"{path} {name}".strip())
                    walk(child, f"{path} {name}")
            options.update(o for o in action.option_strings if o.startswith("--") and o != "--help")

    walk(parser(), "")

    # THEN each command and each option is named there
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", section))
    missing = [c for c in commands if c.split()[-1] not in section] + sorted(options - named)
    assert not missing, f"README's Command-line tool section does not mention {missing}"


def test_the_local_stack_and_a_deployed_target_cannot_be_named_together(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "tokens.jsonl", ['{"token": "t1"}'])
    run = run_cli(
        "submit", str(path), "--operation", "unbind", "--local", ".", "--api", "https://x"
    )
    assert run.code == 2 and "--local names the local stack" in run.stderr
