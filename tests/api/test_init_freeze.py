"""A function's module, once imported in a Lambda execution environment, is out of the cyclic
collector's sight (``gc.freeze``), so the first request's full collection does not walk it, and
the bulk function hands the GIL on sooner; anywhere else, importing a handler leaves the
interpreter alone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.paths import LAYER_DIR, ROOT

IMPORT_AND_REPORT = """
import gc, importlib.util, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(gc.get_freeze_count(), sys.getswitchinterval())
"""


def _after_import(function: str, environment: dict[str, str]) -> tuple[int, float]:
    """How many objects were frozen, and the GIL's switch interval, once the module ran."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(LAYER_DIR),
        "AWS_DEFAULT_REGION": "us-east-1",
        **environment,
    }
    handler = ROOT / "functions" / function / "app.py"
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_AND_REPORT, str(handler)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    frozen, interval = done.stdout.split()
    return int(frozen), float(interval)


@pytest.mark.parametrize("function", ["bind", "unbind", "query", "jobs"])
def test_an_api_function_imported_in_lambda_freezes_what_it_built(function: str) -> None:
    # GIVEN a Lambda execution environment (the runtime sets AWS_LAMBDA_FUNCTION_NAME)
    environment = {"AWS_LAMBDA_FUNCTION_NAME": f"tpns-{function}"}
    # WHEN the runtime imports the function's module
    frozen, _ = _after_import(function, environment)
    # THEN everything built at import is in the permanent generation
    assert frozen > 10_000


def test_importing_a_handler_elsewhere_leaves_the_collector_alone() -> None:
    # GIVEN a plain process (a test, a program that imports a handler)
    # WHEN it imports a function's module
    frozen, _ = _after_import("bind", {})
    # THEN nothing was frozen
    assert frozen == 0


def test_the_bulk_function_in_lambda_hands_the_gil_on_within_a_millisecond() -> None:
    # GIVEN a Lambda execution environment
    environment = {"AWS_LAMBDA_FUNCTION_NAME": "tpns-bulk"}
    # WHEN the runtime imports the bulk function's module
    _, interval = _after_import("bulk", environment)
    # THEN a thread holding the GIL gives it up after 1 ms, not CPython's 5
    assert interval == pytest.approx(0.001)


def test_importing_the_bulk_function_elsewhere_keeps_the_switch_interval() -> None:
    # GIVEN a plain process
    # WHEN it imports the bulk function's module
    _, interval = _after_import("bulk", {})
    # THEN the interpreter's switch interval is CPython's default
    assert interval == pytest.approx(0.005)
