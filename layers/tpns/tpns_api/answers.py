"""Answers of the HTTP API: results and errors in one JSON shape, never a stack trace."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from tpns_account import (
    AppStateError,
    AuthError,
    BadRequestError,
    BatchResult,
    ConfigurationError,
    CredentialsError,
    QueryResult,
    RequestValidationError,
    SettingsError,
    ThrottledError,
    UnexpectedResponseError,
    UnknownAppError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from tpns_account.models import OperatorType
from tpns_api.contract import PayloadTooLargeError

logger = logging.getLogger(__name__)

OPERATION_NAMES = {
    OperatorType.APPEND: "bind",
    OperatorType.OVERRIDE: "bind",
    OperatorType.UNBIND_ACCOUNTS: "unbind",
    OperatorType.UNBIND_ALL_ACCOUNTS: "unbind",
    OperatorType.UNBIND_ALL_TOKENS: "unbind",
}


@dataclass(frozen=True, slots=True)
class ApiResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def batch_answer(result: BatchResult) -> ApiResponse:
    operation = result.operation
    body: dict[str, Any] = {
        "operation": OPERATION_NAMES[operation.operator_type],
        "operator_type": operation.wire_operator_type,
        "accepted": len(result.accepted),
        "failed": len(result.failed),
        "results": [item.to_dict() for item in result.items],
        "warnings": result.warnings,
    }
    return ApiResponse(200, body)


def query_answer(result: QueryResult) -> ApiResponse:
    query = result.query
    body: dict[str, Any] = {"operation": "query", "operator_type": int(query.operator_type)}
    if query.list_field == "account_list":
        body["account_tokens"] = result.account_tokens
    else:
        body["token_accounts"] = result.token_accounts
    body["found"] = sum(1 for item in result.items if item.status == "found")
    body["not_found"] = sum(1 for item in result.items if item.status == "not_found")
    body["results"] = [item.to_dict() for item in result.items]
    return ApiResponse(200, body)


def error_response(exc: BaseException, request_id: str | None) -> ApiResponse:
    """Map any exception to the contract's status and error body."""
    status, code, message, details, headers = _classify(exc)
    if status >= 500 and not isinstance(exc, UpstreamError | CredentialsError | SettingsError):
        logger.exception("unexpected error serving the request")
    else:
        logger.info("request refused: %s %s", status, code)
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return ApiResponse(status, {"error": error, "request_id": request_id}, headers)


def not_found(path: str, request_id: str | None) -> ApiResponse:
    return ApiResponse(
        404,
        {"error": {"code": "not_found", "message": f"no route {path}"}, "request_id": request_id},
    )


Classified = tuple[int, str, str, list[dict[str, Any]], dict[str, str]]


def _classify(exc: BaseException) -> Classified:
    if isinstance(exc, RequestValidationError):
        details = [{"field": i.field, "message": i.message} for i in exc.issues]
        return 400, "validation_error", str(exc), details, {}
    if isinstance(exc, UnknownAppError):
        return 400, "unknown_app", f"app: {exc}", [{"field": "app", "message": str(exc)}], {}
    if isinstance(exc, PayloadTooLargeError):
        return 413, "payload_too_large", str(exc), [], {}
    if isinstance(exc, ThrottledError):
        retry_after = str(max(1, math.ceil(exc.retry_after or 1)))
        message = f"TPNS is throttling this app; retry after {retry_after} s ({exc.message})"
        return 429, "throttled", message, _upstream_details(exc), {"Retry-After": retry_after}
    if isinstance(exc, UpstreamTimeoutError):
        return 504, "upstream_timeout", _retry_hint(exc), _upstream_details(exc), {}
    if isinstance(exc, UpstreamUnavailableError):
        return 503, "upstream_unavailable", _retry_hint(exc), _upstream_details(exc), {}
    upstream_codes: dict[type[Exception], str] = {
        AuthError: "upstream_auth_failed",
        ConfigurationError: "upstream_configuration_error",
        AppStateError: "upstream_app_state",
        BadRequestError: "upstream_rejected_request",
        UnexpectedResponseError: "upstream_bad_response",
    }
    for error_class, code in upstream_codes.items():
        if isinstance(exc, error_class):
            assert isinstance(exc, UpstreamError)
            return 502, code, exc.message, _upstream_details(exc), {}
    if isinstance(exc, CredentialsError) and exc.retryable:
        return 503, "credentials_unavailable", str(exc), [], {}
    if isinstance(exc, CredentialsError | SettingsError):
        return 502, "service_misconfigured", str(exc), [], {}
    if isinstance(exc, UpstreamError):
        return 502, "upstream_error", exc.message, _upstream_details(exc), {}
    return 500, "internal_error", "unexpected error; quote the request_id when reporting it", [], {}


def _upstream_details(exc: UpstreamError) -> list[dict[str, Any]]:
    detail: dict[str, Any] = {
        "tpns_code": exc.code,
        "meaning": exc.meaning,
        "attempts": exc.attempts,
    }
    if exc.http_status is not None:
        detail["http_status"] = exc.http_status
    return [detail]


def _retry_hint(exc: UpstreamError) -> str:
    return (
        f"{exc.message} after {exc.attempts} attempt(s); bind and unbind are idempotent, "
        "so the whole request can be retried"
    )
