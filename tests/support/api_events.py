"""API Gateway events for the API functions (from events/api/), and their answers."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import quote

from tests.support.lambda_runtime import FakeLambdaContext, load_function
from tests.support.paths import API_EVENTS_DIR

API_FUNCTIONS = ("bind", "unbind", "query", "jobs")


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
    event: dict[str, Any] = copy.deepcopy(json.loads((API_EVENTS_DIR / f"{name}.json").read_text()))
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


def api_event_body(name: str) -> Any:
    """The JSON body of a canonical event from events/api/."""
    return json.loads(api_event(name)["body"])


class Answer:
    """A function's API Gateway proxy answer: status, headers, and the body as text and JSON."""

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


class ApiFunctions:
    """``api(function, event) -> Answer``: the API functions invoked in-process."""

    def __call__(
        self, function: str, event: dict[str, Any], *, remaining_ms: int = 25_000
    ) -> Answer:
        module = load_function(function)
        return Answer(module.lambda_handler(event, FakeLambdaContext(remaining_ms)))

    def reset(self) -> None:
        """Forget what the functions cached (settings, clients), to read a changed environment."""
        for name in API_FUNCTIONS:
            load_function(name).api.reset()
