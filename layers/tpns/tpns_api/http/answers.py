"""Answers of the HTTP API: results in the contract's JSON shapes, and what they count."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tpns_account import QueryResult
from tpns_account.models import BIND_TYPES, OperatorType
from tpns_account.results import item_fields
from tpns_account.values import Value, field
from tpns_api.telemetry import Metric

if TYPE_CHECKING:
    from tpns_api.sending import Sent  # a query's answer never loads the sending path


class ApiResponse(Value):
    """One answer: status, JSON body, extra headers, and the metrics it accounts for."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)


class Document(Value):
    """A fixed, non-JSON answer (the spec, the docs page and its assets): 200, as text."""

    body: str
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)


def operation_name(operator: OperatorType) -> str:
    return "bind" if operator in BIND_TYPES else "unbind"


def batch_answer(sent: Sent) -> ApiResponse:
    """Bind/unbind: one entry per input item, in input order (``accepted``, not ``done``).

    ``superseded``: the ledger holds a later operation for the item, so nothing was sent.
    """
    operation = sent.operation
    results = []
    for outcome in sent.outcomes:
        entry: dict[str, Any] = {
            "index": outcome.index,
            **item_fields(operation.items[outcome.index]),
        }
        if outcome.result is None:
            entry.update(status=outcome.status, code=None)
        else:
            entry.update(status=outcome.status, code=outcome.result.code)
            if outcome.result.reason:
                entry["reason"] = outcome.result.reason
        results.append(entry)
    counts = {
        "accepted": len(sent.with_status("accepted")),
        "failed": len(sent.with_status("failed")),
        "superseded": len(sent.with_status("superseded")),
    }
    body: dict[str, Any] = {
        "operation": operation_name(operation.operator_type),
        "operator_type": operation.wire_operator_type,
        **counts,
        "results": results,
        "warnings": sent.warnings,
    }
    metrics: dict[str, int] = {
        Metric.ITEMS_ACCEPTED: counts["accepted"],
        Metric.ITEMS_FAILED: counts["failed"],
        Metric.ITEMS_SUPERSEDED: counts["superseded"],
    }
    return ApiResponse(200, body, counts=metrics)


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
