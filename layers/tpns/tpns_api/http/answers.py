"""Answers of the HTTP API: results in the contract's JSON shapes, and what they count."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tpns_account import BatchResult, QueryResult
from tpns_account.models import BIND_TYPES, OperatorType
from tpns_api.telemetry import Metric


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """One answer: status, JSON body, extra headers, and the metrics it accounts for."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Document:
    """A fixed, non-JSON answer (the spec, the docs page and its assets): 200, as text."""

    body: str
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)


def operation_name(operator: OperatorType) -> str:
    return "bind" if operator in BIND_TYPES else "unbind"


def batch_answer(result: BatchResult) -> ApiResponse:
    """Bind/unbind: one entry per input item, in input order (``accepted``, not ``done``)."""
    operation = result.operation
    accepted, failed = len(result.accepted), len(result.failed)
    body: dict[str, Any] = {
        "operation": operation_name(operation.operator_type),
        "operator_type": operation.wire_operator_type,
        "accepted": accepted,
        "failed": failed,
        "results": [item.to_dict() for item in result.items],
        "warnings": result.warnings,
    }
    return ApiResponse(
        200, body, counts={Metric.ITEMS_ACCEPTED: accepted, Metric.ITEMS_FAILED: failed}
    )


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


def error_body(code: str, message: str, request_id: str | None, **extra: Any) -> dict[str, Any]:
    """The one error shape: ``{"error": {"code", "message", ...}, "request_id"}``."""
    return {"error": {"code": code, "message": message, **extra}, "request_id": request_id}


def not_found(path: str, request_id: str | None) -> ApiResponse:
    return ApiResponse(404, error_body("not_found", f"no route {path}", request_id))
