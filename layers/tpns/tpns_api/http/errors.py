"""Every exception's HTTP answer, as one table: status, error code, message, details, headers.

The first row whose class matches wins, so more specific classes come first. Anything not in
the table is a bug: it answers 500 with the request id (never a stack trace) and is logged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from tpns_account import (
    AppStateError,
    AuthError,
    BadRequestError,
    ConfigurationError,
    CredentialsError,
    CredentialsUnavailableError,
    RequestValidationError,
    SettingsError,
    ThrottledError,
    UnexpectedResponseError,
    UnknownAppError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from tpns_account.values import Value, field
from tpns_api.errors import LedgerOffError, PayloadTooLargeError, QueueUnavailableError
from tpns_api.http.answers import ApiResponse, error_body
from tpns_api.jobs.idempotency import IdempotencyKeyInProgressError, IdempotencyKeyReusedError
from tpns_api.jobs.store import BadCursorError, JobNotFoundError
from tpns_api.jobs.submit import JobExistsError
from tpns_api.store.dynamo import StoreUnavailableError

logger = logging.getLogger(__name__)

Details = list[dict[str, Any]]


def _message(exc: BaseException) -> str:
    return str(exc)


def _no_details(exc: BaseException) -> Details:
    return []


def _no_headers(exc: BaseException) -> dict[str, str]:
    return {}


class Refusal(Value):
    """How one class of exception is answered."""

    status: int
    code: str
    message: Callable[[BaseException], str] = _message
    details: Callable[[BaseException], Details] = _no_details
    headers: Callable[[BaseException], dict[str, str]] = field(default=_no_headers)


def _issues(exc: BaseException) -> Details:
    if not isinstance(exc, RequestValidationError):
        return []
    return [{"field": issue.field, "message": issue.message} for issue in exc.issues]


def _app_message(exc: BaseException) -> str:
    return f"app: {exc}"


def _app_details(exc: BaseException) -> Details:
    return [{"field": "app", "message": str(exc)}]


def _upstream(exc: BaseException) -> Details:
    if not isinstance(exc, UpstreamError):
        return []
    detail: dict[str, Any] = {
        "tpns_code": exc.code,
        "meaning": exc.meaning,
        "attempts": exc.attempts,
    }
    if exc.http_status is not None:
        detail["http_status"] = exc.http_status
    return [detail]


def _upstream_message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, UpstreamError) else str(exc)


def _retry_hint(exc: BaseException) -> str:
    attempts = exc.attempts if isinstance(exc, UpstreamError) else 1
    return (
        f"{_upstream_message(exc)} after {attempts} attempt(s); bind and unbind are idempotent, "
        "so the whole request can be retried"
    )


def _retry_after_s(exc: BaseException) -> str:
    retry_after = exc.retry_after if isinstance(exc, ThrottledError) else None
    return str(max(1, math.ceil(retry_after or 1)))


def _throttled_message(exc: BaseException) -> str:
    return (
        f"TPNS is throttling this app; retry after {_retry_after_s(exc)} s "
        f"({_upstream_message(exc)})"
    )


def _retry_after(exc: BaseException) -> dict[str, str]:
    return {"Retry-After": _retry_after_s(exc)}


def _store_hint(exc: BaseException) -> str:
    return f"{exc}; nothing was sent to TPNS, so the request can be retried as it is"


def _cursor_details(exc: BaseException) -> Details:
    return [{"field": "cursor", "message": str(exc)}]


def _upstream_refusal(code: str) -> Refusal:
    return Refusal(502, code, _upstream_message, _upstream)


TABLE: tuple[tuple[type[BaseException], Refusal], ...] = (
    (RequestValidationError, Refusal(400, "validation_error", details=_issues)),
    (UnknownAppError, Refusal(400, "unknown_app", _app_message, _app_details)),
    (PayloadTooLargeError, Refusal(413, "payload_too_large")),
    (ThrottledError, Refusal(429, "throttled", _throttled_message, _upstream, _retry_after)),
    (UpstreamTimeoutError, Refusal(504, "upstream_timeout", _retry_hint, _upstream)),
    (UpstreamUnavailableError, Refusal(503, "upstream_unavailable", _retry_hint, _upstream)),
    (AuthError, _upstream_refusal("upstream_auth_failed")),
    (ConfigurationError, _upstream_refusal("upstream_configuration_error")),
    (AppStateError, _upstream_refusal("upstream_app_state")),
    (BadRequestError, _upstream_refusal("upstream_rejected_request")),
    (UnexpectedResponseError, _upstream_refusal("upstream_bad_response")),
    (UpstreamError, _upstream_refusal("upstream_error")),
    (CredentialsUnavailableError, Refusal(503, "credentials_unavailable")),
    (CredentialsError, Refusal(502, "service_misconfigured")),
    (SettingsError, Refusal(502, "service_misconfigured")),
    (QueueUnavailableError, Refusal(503, "queue_unavailable")),
    (StoreUnavailableError, Refusal(503, "store_unavailable", _store_hint)),
    (BadCursorError, Refusal(400, "validation_error", details=_cursor_details)),
    (JobNotFoundError, Refusal(404, "job_not_found")),
    (LedgerOffError, Refusal(404, "ledger_off")),
    (JobExistsError, Refusal(409, "job_exists")),
    (IdempotencyKeyInProgressError, Refusal(409, "idempotency_key_in_progress")),
    (IdempotencyKeyReusedError, Refusal(422, "idempotency_key_reused")),
)
INTERNAL = Refusal(
    500, "internal_error", lambda exc: "unexpected error; quote the request_id when reporting it"
)


def refusal_for(exc: BaseException) -> Refusal:
    """The table's row for ``exc`` (``INTERNAL`` for anything unexpected)."""
    for error_class, refusal in TABLE:
        if isinstance(exc, error_class):
            return refusal
    return INTERNAL


def error_response(exc: BaseException, request_id: str | None) -> ApiResponse:
    """Map any exception to the contract's status and error body."""
    refusal = refusal_for(exc)
    if refusal is INTERNAL:
        logger.error("unexpected error serving the request", exc_info=exc)
    else:
        logger.info("request refused: %s %s", refusal.status, refusal.code)
    extra: dict[str, Any] = {}
    details = refusal.details(exc)
    if details:
        extra["details"] = details
    body = error_body(refusal.code, refusal.message(exc), request_id, **extra)
    return ApiResponse(refusal.status, body, refusal.headers(exc))
