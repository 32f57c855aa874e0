"""A function's cold start runs without the cyclic collector in a Lambda execution environment:
importing it pauses the collector, and its first invocation, answered or failed, freezes what
the cold start built and resumes it (an API function's once it has answered, a queue
function's as it begins); anywhere else, importing a handler leaves it alone."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest

from tests.support.paths import LAYER_DIR, ROOT
from tpns_api.adapter import coldstart

API_FUNCTIONS = ("bind", "unbind", "query", "jobs")
QUEUE_FUNCTIONS = ("bulk", "verify", "cleanup")
# An API function answers it (404) without its service; a queue function, unconfigured, raises.
FIRST_EVENTS = {
    **{name: {"httpMethod": "GET", "path": "/nowhere", "headers": {}} for name in API_FUNCTIONS},
    **{name: {"Records": []} for name in QUEUE_FUNCTIONS},
}

IMPORT_AND_INVOKE = """
import gc, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
imported = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}

class Context:
    function_name = "tpns-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tpns-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self):
        return 10_000

try:
    module.lambda_handler(json.loads(sys.argv[2]), Context())
    raised = None
except Exception as exc:
    raised = type(exc).__name__
invoked = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count(), "raised": raised}
print(json.dumps({"imported": imported, "invoked": invoked}))
"""


@cache
def _import_and_invoke(function: str, in_lambda: bool) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(LAYER_DIR),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "TpnsBindings",
    }
    if in_lambda:
        env["AWS_LAMBDA_FUNCTION_NAME"] = f"tpns-{function}"  # as the Lambda runtime sets it
    handler = ROOT / "functions" / function / "app.py"
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_AND_INVOKE, str(handler), json.dumps(FIRST_EVENTS[function])],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    state: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return state


@pytest.mark.parametrize("function", API_FUNCTIONS + QUEUE_FUNCTIONS)
def test_a_function_imported_in_lambda_imports_with_the_collector_paused(function: str) -> None:
    # GIVEN a Lambda execution environment
    # WHEN the runtime imports the function's module
    imported = _import_and_invoke(function, in_lambda=True)["imported"]
    # THEN the collector is paused, and nothing is frozen yet
    assert imported == {"enabled": False, "frozen": 0}


@pytest.mark.parametrize("function", API_FUNCTIONS + QUEUE_FUNCTIONS)
def test_the_first_invocation_freezes_the_cold_start_and_resumes_the_collector(
    function: str,
) -> None:
    # GIVEN a function imported in a Lambda execution environment
    # WHEN its first invocation ends
    invoked = _import_and_invoke(function, in_lambda=True)["invoked"]
    # THEN what the cold start built is in the permanent generation, and the collector runs
    assert invoked["enabled"] is True
    assert invoked["frozen"] > 10_000


@pytest.mark.parametrize("function", QUEUE_FUNCTIONS)
def test_a_queue_function_whose_first_invocation_raises_leaves_the_collector_running(
    function: str,
) -> None:
    # GIVEN a queue function without its configuration, so its first invocation raises
    # WHEN that invocation ends
    invoked = _import_and_invoke(function, in_lambda=True)["invoked"]
    # THEN it raised, and the collector runs all the same
    assert invoked["raised"] is not None
    assert invoked["enabled"] is True


def test_an_api_functions_first_invocation_answers_with_the_collector_resumed() -> None:
    # GIVEN an API function imported in a Lambda execution environment
    # WHEN its first request (a path it does not serve) is answered
    invoked = _import_and_invoke("bind", in_lambda=True)["invoked"]
    # THEN it answered without raising, and the collector runs again
    assert invoked["raised"] is None
    assert invoked["enabled"] is True


def test_importing_a_handler_elsewhere_leaves_the_collector_alone() -> None:
    # GIVEN a plain process (a test, a program that imports a handler)
    # WHEN it imports a function's module and invokes it
    state = _import_and_invoke("bind", in_lambda=False)
    # THEN the collector ran throughout, and nothing was frozen
    assert state["imported"] == {"enabled": True, "frozen": 0}
    assert state["invoked"]["enabled"] is True
    assert state["invoked"]["frozen"] == 0


@pytest.fixture
def paused_collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process as a Lambda execution environment at import: the collector paused."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "tpns-test")
    coldstart.pause_collector()
    try:
        yield
    finally:
        coldstart.resume_collector()
        gc.unfreeze()  # the test process's objects back in the collector's sight
        gc.enable()


def _collecting_inside(
    decorator: Callable[[Callable[[], bool]], Callable[[], bool]],
) -> tuple[bool, bool]:
    handler = decorator(gc.isenabled)
    return handler(), gc.isenabled()


@pytest.mark.usefixtures("paused_collector")
def test_an_api_handler_serves_its_first_request_with_the_collector_paused() -> None:
    # GIVEN the collector paused by the import
    # WHEN a handler resuming it after its first call is invoked
    inside, after = _collecting_inside(coldstart.resume_after_first_call)
    # THEN the request ran paused, and the collector runs once it is answered
    assert (inside, after) == (False, True)


@pytest.mark.usefixtures("paused_collector")
def test_a_queue_handler_works_its_first_batch_with_the_collector_running() -> None:
    # GIVEN the collector paused by the import
    # WHEN a handler resuming it before its first call is invoked
    inside, after = _collecting_inside(coldstart.resume_before_first_call)
    # THEN the batch already ran with the collector, as every later one does
    assert (inside, after) == (True, True)


@pytest.mark.usefixtures("paused_collector")
def test_an_api_handler_whose_first_request_raises_still_resumes_the_collector() -> None:
    # GIVEN the collector paused by the import, and a handler whose first call raises
    def failing() -> None:
        raise RuntimeError("the first request failed")

    handler = coldstart.resume_after_first_call(failing)
    # WHEN it is invoked
    with pytest.raises(RuntimeError):
        handler()
    # THEN the collector runs again all the same
    assert gc.isenabled()
