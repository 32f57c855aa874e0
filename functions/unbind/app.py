"""POST /v1/unbind (operator_type 3, 4 or 5), and direct invocations with an unbind body."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tpns_api.answers import error_response
from tpns_api.lambda_adapter import (
    Response,
    count_items,
    create_app,
    handler,
    json_body,
    logger,
    remaining_budget,
    service,
    time_budget,
    to_response,
)

app = create_app()


@app.post("/v1/unbind")
def unbind() -> Response:
    answer = service().unbind(json_body(app), time_budget=time_budget(app))
    return to_response(count_items(answer))


_api_handler = handler(app)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway events go to the API; anything else is an unbind body (EventBridge, invoke)."""
    if isinstance(event, dict) and "httpMethod" in event and "requestContext" in event:
        return _api_handler(event, context)
    return _direct(event, context)


@logger.inject_lambda_context
def _direct(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Answers like the API; raises when TPNS failed, so the caller's retry policy applies."""
    payload = (
        event.get("detail", event) if isinstance(event, dict) and "detail-type" in event else event
    )
    try:
        answer = service().unbind(payload, time_budget=remaining_budget(context))
    except Exception as exc:
        answer = error_response(exc, getattr(context, "aws_request_id", None))
        if answer.status >= 500 or answer.status == 429:
            raise
    logger.info("direct unbind answered", extra={"status": answer.status})
    return {"statusCode": answer.status, **answer.body}
