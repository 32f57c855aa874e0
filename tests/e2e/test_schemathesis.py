"""The OpenAPI spec equals what the API accepts: schemathesis against the running local stack.

Every operation through the examples, coverage and fuzzing phases (about two minutes here), with
the checks that hold the spec to the API: no 5xx, answers conform to the declared schemas,
status codes and content types, valid data accepted and invalid data refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.local_stack import RunningStack
from tests.support.paths import ROOT
from tpns_api.http.openapi import build_spec

CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "content_type_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
)
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "30"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261201")


# The three phases take about two minutes on two loaded cores: more than the suite's default.
@pytest.mark.timeout(600)
def test_every_operation_conforms_to_the_spec(stack: RunningStack, tmp_path: Path) -> None:
    # GIVEN the local stack serving its spec, and hooks that keep valid cases valid
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{stack.api}/v1/openapi.json",
        "--header",
        f"x-api-key: {stack.key}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        SEED,
        "--workers",
        "2",
        "--no-color",
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
    }
    # WHEN schemathesis runs every operation
    done = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=420
    )
    # THEN it finds no failure, no error and warns of nothing (e.g. "mostly rejected" data)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "No issues found" in report, report
    operations = sum(len(methods) for methods in build_spec()["paths"].values())
    assert f"Selected: {operations}/{operations}" in report, report
    assert "warning" not in report.lower(), report
