"""DynamoDB out of reach for the functions, while SQS, Secrets Manager and TPNS still work."""

from __future__ import annotations

import pytest

from tests.support.processes import free_port


def dynamodb_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the functions' DynamoDB client (only it: ``AWS_ENDPOINT_URL_DYNAMODB``) at a
    loopback port nothing listens on; the caller makes the functions read the environment
    again (their clients are built once per process)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")


def dynamodb_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
