"""Lambda wiring shared by the API functions: one router shape, one error shape.

Each function module builds its router with ``create_app()``, registers its routes, and exports
``lambda_handler = handler(app)``. Everything a route does lives in ``BindingService``.

Logging and metrics are Powertools (``Logger``, ``Metrics``). Routing is a few lines here
rather than Powertools' ``APIGatewayRestResolver``: importing the event handler package costs
~30 ms of every cold start (it loads every resolver, asyncio and all event data classes), more
than the rest of the function. ``Router`` keeps that resolver's contract for what we use: the
same route patterns (``<name>`` segments, trailing slashes ignored), method matching, one
catch-all exception handler, a not-found handler, and the same REST proxy answer shape
(``statusCode``, ``body``, ``isBase64Encoded``, ``multiValueHeaders``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit

from tpns_account import RequestValidationError, Settings
from tpns_account.errors import FieldIssue
from tpns_api import contract
from tpns_api.answers import ApiResponse, error_response, not_found
from tpns_api.service import DEFAULT_TIME_BUDGET_S, BindingService

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "tpns-bindings"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "TpnsBindings"))
# The library logs through the standard logging module; give its loggers the same JSON format
# (and correlation id) as the functions' own lines, so CloudWatch queries see one shape.
copy_config_to_registered_loggers(source_logger=logger, include={"tpns_account", "tpns_api"})

# Leave the function this long to answer after TPNS calls give up.
RESPONSE_MARGIN_S = 2.0

# Path segments as Powertools matches them: RFC 3986 unreserved/sub-delims, the characters API
# Gateway decodes, and word characters; never "/", "?", "#", quotes or backticks.
_SEGMENT = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+"
_PARAMETER = re.compile(r"<(\w+)>")


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP answer; ``headers`` may override ``content_type`` (as in Powertools)."""

    status_code: int
    body: str
    content_type: str | None = "application/json"
    headers: Mapping[str, str | list[str]] | None = None

    def to_proxy(self) -> dict[str, Any]:
        """The API Gateway REST (v1) proxy answer, headers as ``multiValueHeaders``."""
        headers: dict[str, str | list[str]] = dict(self.headers or {})
        if self.content_type:
            headers.setdefault("Content-Type", self.content_type)
        multi: dict[str, list[str]] = {}
        for name, values in headers.items():
            if values is None:
                continue
            multi.setdefault(name, []).extend([values] if isinstance(values, str) else values)
        return {
            "statusCode": self.status_code,
            "body": self.body,
            "isBase64Encoded": False,
            "multiValueHeaders": multi,
        }


class ApiEvent:
    """The parts of an API Gateway REST proxy event the routes read."""

    __slots__ = ("raw",)

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    @property
    def http_method(self) -> str:
        return str(self.raw["httpMethod"])

    @property
    def path(self) -> str:
        return str(self.raw["path"])

    @property
    def body(self) -> str | None:
        body: str | None = self.raw.get("body")
        return body

    @property
    def is_base64_encoded(self) -> bool:
        return bool(self.raw.get("isBase64Encoded"))

    @property
    def query_string_parameters(self) -> dict[str, str]:
        params: dict[str, str] = self.raw.get("queryStringParameters") or {}
        return params

    @property
    def request_id(self) -> str:
        return str(self.raw["requestContext"]["requestId"])


RouteFunction = Callable[..., Response]


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    function: RouteFunction


class Router:
    """Routes API Gateway REST proxy events to the registered functions."""

    def __init__(self) -> None:
        self._static: list[_Route] = []
        self._dynamic: list[_Route] = []
        self._error_handler: Callable[[Exception], Response] | None = None
        self._not_found: Callable[[], Response] | None = None
        self._local = threading.local()

    # -- registration -------------------------------------------------------------------------

    def route(self, method: str, rule: str) -> Callable[[RouteFunction], RouteFunction]:
        def register(function: RouteFunction) -> RouteFunction:
            regex = _PARAMETER.sub(lambda m: f"(?P<{m.group(1)}>{_SEGMENT})", rule)
            route = _Route(method.upper(), re.compile(f"^{regex}/*$"), function)
            (self._dynamic if _PARAMETER.search(rule) else self._static).append(route)
            return function

        return register

    def get(self, rule: str) -> Callable[[RouteFunction], RouteFunction]:
        return self.route("GET", rule)

    def post(self, rule: str) -> Callable[[RouteFunction], RouteFunction]:
        return self.route("POST", rule)

    def exception_handler(
        self, function: Callable[[Exception], Response]
    ) -> Callable[[Exception], Response]:
        """The handler of any exception a route (or the not-found handler) raises."""
        self._error_handler = function
        return function

    def not_found(self, function: Callable[[], Response]) -> Callable[[], Response]:
        self._not_found = function
        return function

    # -- one request ----------------------------------------------------------------------------

    @property
    def current_event(self) -> ApiEvent:
        event: ApiEvent = self._local.event
        return event

    @property
    def lambda_context(self) -> LambdaContext | None:
        context: LambdaContext | None = self._local.context
        return context

    def resolve(self, event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
        current = ApiEvent(event)
        self._local.event = current
        self._local.context = context
        try:
            method = current.http_method.upper()
            path = current.path
            for route in (*self._static, *self._dynamic):
                if route.method != method:
                    continue
                match = route.pattern.match(path)
                if match:
                    return self._call(route.function, match.groupdict())
            return self._call(self._answer_not_found, {})
        finally:
            self._local.event = None
            self._local.context = None

    def _answer_not_found(self) -> Response:
        if self._not_found is None:
            return Response(404, json.dumps({"statusCode": 404, "message": "Not found"}))
        return self._not_found()

    def _call(self, function: Callable[..., Response], arguments: dict[str, str]) -> dict[str, Any]:
        try:
            return function(**arguments).to_proxy()
        except Exception as exc:
            if self._error_handler is None:
                raise
            return self._error_handler(exc).to_proxy()


@cache
def service() -> BindingService:
    """One client (session, pool, secret cache) per process, built on first use."""
    settings = Settings.from_env()
    return BindingService(settings.client(), sync_max_items=settings.sync_max_items)


def create_app() -> Router:
    app = Router()

    @app.exception_handler
    def _any_error(exc: Exception) -> Response:
        answer = error_response(exc, request_id(app))
        metrics.add_metric(name=f"Error{answer.status}", unit=MetricUnit.Count, value=1)
        return to_response(answer)

    @app.not_found
    def _no_route() -> Response:
        return to_response(not_found(app.current_event.path, request_id(app)))

    return app


def handler(app: Router) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        return app.resolve(event, context)

    return lambda_handler


def json_body(app: Router) -> Any:
    event = app.current_event
    raw: str | bytes | None = event.body
    if raw is not None and event.is_base64_encoded:
        try:
            raw = base64.b64decode(raw, validate=True)
        except ValueError:
            raise RequestValidationError([FieldIssue("body", "is not valid base64")]) from None
    return contract.parse_json(raw)


def request_id(app: Router) -> str | None:
    try:
        return app.current_event.request_id
    except (AttributeError, KeyError, TypeError):
        return None


def time_budget(app: Router) -> float:
    return remaining_budget(app.lambda_context)


def remaining_budget(context: LambdaContext | None) -> float:
    """Time TPNS calls may take: what the invocation has left, less a margin to answer."""
    remaining = context.get_remaining_time_in_millis() / 1000 if context else DEFAULT_TIME_BUDGET_S
    return max(0.5, min(DEFAULT_TIME_BUDGET_S, remaining - RESPONSE_MARGIN_S))


def to_response(answer: ApiResponse) -> Response:
    return Response(
        status_code=answer.status,
        content_type="application/json",
        body=json.dumps(answer.body, ensure_ascii=False),
        headers=answer.headers or None,
    )


def count_items(answer: ApiResponse) -> ApiResponse:
    """Metrics for a bind/unbind answer: items accepted and failed."""
    for key, name in (("accepted", "ItemsAccepted"), ("failed", "ItemsFailed")):
        if key in answer.body:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=answer.body[key])
    return answer
