"""A function's module, once imported in a Lambda execution environment, is out of the cyclic
collector's sight (``gc.freeze``), so the first request's full collection does not walk it;
anywhere else, importing a handler leaves the collector alone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.paths import LAYER_DIR, ROOT

IMPORT_AND_COUNT = """
import gc, importlib.util, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(gc.get_freeze_count())
"""


def _frozen_after_import(function: str, environment: dict[str, str]) -> int:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(LAYER_DIR),
        "AWS_DEFAULT_REGION": "us-east-1",
        **environment,
    }
    handler = ROOT / "functions" / function / "app.py"
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_AND_COUNT, str(handler)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(done.stdout.strip())


@pytest.mark.parametrize("function", ["bind", "unbind", "query", "jobs"])
def test_an_api_function_imported_in_lambda_freezes_what_it_built(function: str) -> None:
    # GIVEN a Lambda execution environment (the runtime sets AWS_LAMBDA_FUNCTION_NAME)
    environment = {"AWS_LAMBDA_FUNCTION_NAME": f"tpns-{function}"}
    # WHEN the runtime imports the function's module
    frozen = _frozen_after_import(function, environment)
    # THEN everything built at import is in the permanent generation
    assert frozen > 10_000


def test_importing_a_handler_elsewhere_leaves_the_collector_alone() -> None:
    # GIVEN a plain process (a test, a program that imports a handler)
    # WHEN it imports a function's module
    frozen = _frozen_after_import("bind", {})
    # THEN nothing was frozen
    assert frozen == 0
