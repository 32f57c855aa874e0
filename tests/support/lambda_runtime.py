"""The functions, imported and invoked in-process, configured the way the template does."""

from __future__ import annotations

import importlib.util
import uuid
from types import ModuleType

import pytest

from tests.support.paths import ROOT

_modules: dict[str, ModuleType] = {}


class FakeLambdaContext:
    """The few LambdaContext attributes Powertools reads (Lambda itself cannot run here)."""

    function_name = "tpns-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tpns-test"

    def __init__(self, remaining_ms: int = 25_000) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py under a unique module name (they are all called app)."""
    if name not in _modules:
        path = ROOT / "functions" / name / "app.py"
        spec = importlib.util.spec_from_file_location(f"function_{name}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]


def configure_functions(
    monkeypatch: pytest.MonkeyPatch, secret_id: str, tpns_url: str, aws_url: str
) -> None:
    """The environment the template gives the functions, pointed at loopback parts."""
    monkeypatch.setenv("TPNS_SECRET_ID", secret_id)
    monkeypatch.setenv("TPNS_ENDPOINT", tpns_url)
    monkeypatch.setenv("TPNS_TIMEOUT_S", "0.5")
    monkeypatch.setenv("TPNS_MAX_QPS", "5000")  # the emulator's pace, not a real app's quota
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_url)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "TpnsBindings")
