"""Powertools wiring shared by the API functions: one resolver shape, one error shape.

Each function module builds its resolver with ``create_app()``, registers its routes, and
exports ``lambda_handler = handler(app)``. Everything a route does lives in ``BindingService``.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tpns_account import RequestValidationError, Settings
from tpns_account.errors import FieldIssue
from tpns_api import contract
from tpns_api.answers import ApiResponse, error_response, not_found
from tpns_api.service import DEFAULT_TIME_BUDGET_S, BindingService

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "tpns-bindings"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "TpnsBindings"))
# The library logs through the standard logging module; give its loggers the same JSON format
# (and correlation id) as the functions' own lines, so CloudWatch queries see one shape.
copy_config_to_registered_loggers(source_logger=logger, include={"tpns_account", "tpns_api"})

# Leave the function this long to answer after TPNS calls give up.
RESPONSE_MARGIN_S = 2.0


@cache
def service() -> BindingService:
    """One client (session, pool, secret cache) per process, built on first use."""
    settings = Settings.from_env()
    return BindingService(settings.client(), sync_max_items=settings.sync_max_items)


def create_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    @app.exception_handler(Exception)
    def _any_error(exc: Exception) -> Response[str]:
        answer = error_response(exc, request_id(app))
        metrics.add_metric(name=f"Error{answer.status}", unit=MetricUnit.Count, value=1)
        return to_response(answer)

    @app.not_found
    def _no_route(exc: Exception) -> Response[str]:
        return to_response(not_found(app.current_event.path, request_id(app)))

    return app


def handler(
    app: APIGatewayRestResolver,
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        return app.resolve(event, context)

    return lambda_handler


def json_body(app: APIGatewayRestResolver) -> Any:
    event = app.current_event
    raw: str | bytes | None = event.body
    if raw is not None and event.is_base64_encoded:
        try:
            raw = base64.b64decode(raw, validate=True)
        except ValueError:
            raise RequestValidationError([FieldIssue("body", "is not valid base64")]) from None
    return contract.parse_json(raw)


def request_id(app: APIGatewayRestResolver) -> str | None:
    try:
        return str(app.current_event.request_context.request_id)
    except (AttributeError, KeyError, TypeError):
        return None


def time_budget(app: APIGatewayRestResolver) -> float:
    return remaining_budget(app.lambda_context)


def remaining_budget(context: LambdaContext | None) -> float:
    """Time TPNS calls may take: what the invocation has left, less a margin to answer."""
    remaining = context.get_remaining_time_in_millis() / 1000 if context else DEFAULT_TIME_BUDGET_S
    return max(0.5, min(DEFAULT_TIME_BUDGET_S, remaining - RESPONSE_MARGIN_S))


def to_response(answer: ApiResponse) -> Response[str]:
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
