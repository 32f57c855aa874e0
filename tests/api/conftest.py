"""Invoke the API functions in-process with the events/ fixtures, against real loopback parts."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import boto3
import pytest

from tests.conftest import REGION
from tests.functions import ROOT, SECRET, FakeLambdaContext, configure_functions, load_function
from tpns_emulator import TpnsEmulator

EVENTS = ROOT / "events" / "api"


def api_event(
    name: str,
    body: Any = ...,
    *,
    raw_body: str | None = None,
    path: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A canonical event from events/api/, with the body or parameters replaced."""
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
    if body is not ...:
        event["body"] = json.dumps(body)
    if raw_body is not None:
        event["body"] = raw_body
    if path_parameters is not None:
        event["pathParameters"] = path_parameters
        concrete = event["resource"]
        for key, value in path_parameters.items():
            concrete = concrete.replace("{" + key + "}", quote(value, safe=""))
        event["path"] = concrete
    if path is not None:
        event["path"] = path
    if query is not None:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return event


class Answer:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.status: int = raw["statusCode"]
        self.headers: dict[str, str] = dict(raw.get("headers") or {})
        for name, values in (raw.get("multiValueHeaders") or {}).items():
            self.headers.setdefault(name, values[-1])
        text = raw.get("body") or ""
        self.text = text
        try:
            self.body: Any = json.loads(text)
        except ValueError:
            self.body = None

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.text[:300]})"


@pytest.fixture
def bulk_queue(moto_endpoint: str) -> dict[str, str]:
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
    name = f"bulk-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return {"url": url}


@pytest.fixture
def api(
    emulator: TpnsEmulator,
    make_secret: Any,
    moto_endpoint: str,
    bulk_queue: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    """invoke(function, event) -> Answer, with the functions configured like the template does."""
    configure_functions(monkeypatch, make_secret(SECRET), emulator.url, moto_endpoint)
    monkeypatch.setenv("BULK_QUEUE_URL", bulk_queue["url"])

    def reset() -> None:
        for name in ("bind", "unbind", "query", "jobs"):
            load_function(name).api.reset()

    reset()

    def invoke(function: str, event: dict[str, Any], *, remaining_ms: int = 25_000) -> Answer:
        module = load_function(function)
        return Answer(module.lambda_handler(event, FakeLambdaContext(remaining_ms)))

    invoke.reset = reset  # type: ignore[attr-defined]
    yield invoke
    reset()
