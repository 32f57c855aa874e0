"""The HTTP API v1 contract: route bodies in, layer models out.

Bodies reuse TPNS's field names; the operator type comes from the route and the list field, and
may be given for compatibility as long as it agrees. Everything here is plain Python (no Lambda),
so the same parsing serves API Gateway, the local gateway and any other HTTP front.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote

from tpns_account import BatchOperation, OperatorType, Query, QueryType, RequestValidationError
from tpns_account.errors import FieldIssue
from tpns_account.models import LIST_FIELDS, Duplicates

Operation = Literal["bind", "unbind"]
APP_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
ACCOUNT_TYPE_PARAM = re.compile(r"[0-9]{1,5}")
MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit

BIND_TYPES = {OperatorType.APPEND, OperatorType.OVERRIDE}
UNBIND_TYPE_BY_FIELD = {
    "token_accounts": OperatorType.UNBIND_ACCOUNTS,
    "token_list": OperatorType.UNBIND_ALL_ACCOUNTS,
    "account_list": OperatorType.UNBIND_ALL_TOKENS,
}
QUERY_TYPE_BY_FIELD = {
    "account_list": QueryType.TOKENS_BY_ACCOUNT,
    "token_list": QueryType.ACCOUNTS_BY_TOKEN,
}
COMMON_FIELDS = frozenset({"app", "operator_type", "platform"})


class PayloadTooLargeError(ValueError):
    """More items (or bytes) than a synchronous request may carry."""


@dataclass(frozen=True, slots=True)
class BatchRequest:
    operation: BatchOperation
    app: str | None

    @property
    def item_count(self) -> int:
        return len(self.operation.items)


@dataclass(frozen=True, slots=True)
class QueryRequest:
    query: Query
    app: str | None


@dataclass(frozen=True, slots=True)
class JobRequest:
    operation: Operation
    batch: BatchOperation
    app: str | None
    job_id: str | None


def parse_json(body: str | bytes | None) -> Any:
    """Decode a request body, or name the problem (never a stack trace)."""
    if body is None or (isinstance(body, str | bytes) and not body.strip()):
        _fail("body", "is required: send a JSON object")
    if not isinstance(body, str | bytes):
        _fail("body", "must be JSON text")
    assert isinstance(body, str | bytes)
    size = len(body) if isinstance(body, bytes) else len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"body: is larger than {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        _fail("body", "is not valid UTF-8")
    except RecursionError:
        _fail("body", "is nested too deeply")
    except ValueError as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        position = (
            f" at line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        _fail("body", f"is not valid JSON ({detail}{position})")
    raise AssertionError("unreachable")


def parse_bind(data: Any, *, max_items: int | None = None) -> BatchRequest:
    body = _object(data)
    _known_fields(body, {"token_accounts"}, "/v1/bind")
    return _bind_or_unbind(body, "bind", "reject", max_items)


def parse_unbind(data: Any, *, max_items: int | None = None) -> BatchRequest:
    body = _object(data)
    _known_fields(body, set(UNBIND_TYPE_BY_FIELD), "/v1/unbind")
    return _bind_or_unbind(body, "unbind", "reject", max_items)


def parse_query(data: Any, *, max_items: int | None = None) -> QueryRequest:
    body = _object(data)
    _known_fields(body, set(QUERY_TYPE_BY_FIELD), "/v1/query")
    list_field = _one_list_field(body, tuple(QUERY_TYPE_BY_FIELD))
    operator = int(QUERY_TYPE_BY_FIELD[list_field])
    declared = _declared_operator(body)
    if declared is not None and declared != operator:
        _fail(
            "operator_type", f"{declared} disagrees with {list_field}, which means query {operator}"
        )
    _check_size(body, list_field, max_items)
    fields = {"operator_type": operator, list_field: body[list_field]}
    if "platform" in body:
        fields["platform"] = body["platform"]
    return QueryRequest(Query.from_dict(fields), _app(body))


def parse_job(data: Any, *, duplicates: Duplicates = "merge") -> JobRequest:
    """A bulk job: any size; repeats are merged (the answer says how many)."""
    body = _object(data)
    operation = body.get("operation")
    if operation not in ("bind", "unbind"):
        _fail("operation", "must be 'bind' or 'unbind'")
    job_id = parse_job_id(body.get("job_id"))
    rest = {k: v for k, v in body.items() if k not in ("operation", "job_id")}
    if operation == "bind":
        _known_fields(rest, {"token_accounts"}, "a bind job")
        request = _bind_or_unbind(rest, "bind", duplicates)
    else:
        _known_fields(rest, set(UNBIND_TYPE_BY_FIELD), "an unbind job")
        request = _bind_or_unbind(rest, "unbind", duplicates)
    return JobRequest(
        "bind" if operation == "bind" else "unbind", request.operation, request.app, job_id
    )


def parse_account_type(value: str | None) -> int:
    if value is None or value == "":
        return 0
    if not ACCOUNT_TYPE_PARAM.fullmatch(value):
        _fail("account_type", f"must be a TPNS account type number, got {value[:20]!r}")
    return int(value)


def parse_path_parameter(name: str, raw: str) -> str:
    """Decode a URL path segment strictly: invalid UTF-8 is refused, not replaced."""
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        _fail(name, "is not valid UTF-8 once URL-decoded")
    raise AssertionError("unreachable")


def parse_job_id(value: object) -> str | None:
    if value is not None and (not isinstance(value, str) or not APP_PATTERN.fullmatch(value)):
        _fail("job_id", "must be 1-64 letters, digits, '_', '.' or '-' when given")
    return value if isinstance(value, str) else None


def parse_app(value: object) -> str | None:
    return _app({"app": value} if value is not None else {})


def check_sync_size(list_field: str, count: int, limit: int) -> None:
    if count > limit:
        raise PayloadTooLargeError(
            f"{list_field}: {count} items is more than a synchronous request takes ({limit}); "
            "send it to POST /v1/jobs, which has no size limit"
        )


def _bind_or_unbind(
    body: dict[str, Any],
    operation: Operation,
    duplicates: Duplicates,
    max_items: int | None = None,
) -> BatchRequest:
    if operation == "bind":
        declared = _declared_operator(body)
        operator = int(OperatorType.OVERRIDE) if declared is None else declared
        if operator not in {int(t) for t in BIND_TYPES}:
            _fail("operator_type", f"{operator} disagrees with bind, which is 2 (or 1, its alias)")
        _check_size(body, "token_accounts", max_items)
        return BatchRequest(_batch(body, operator, "token_accounts", duplicates), _app(body))
    list_field = _one_list_field(body, tuple(UNBIND_TYPE_BY_FIELD))
    _check_size(body, list_field, max_items)
    operator = int(UNBIND_TYPE_BY_FIELD[list_field])
    declared = _declared_operator(body)
    if declared is not None and declared != operator:
        _fail("operator_type", f"{declared} disagrees with {list_field}, which means {operator}")
    return BatchRequest(_batch(body, operator, list_field, duplicates), _app(body))


def _batch(
    body: Mapping[str, Any], operator: int, list_field: str, duplicates: Duplicates = "reject"
) -> BatchOperation:
    if list_field not in body:
        _fail(list_field, "is required")
    fields: dict[str, Any] = {"operator_type": operator, list_field: body[list_field]}
    if "platform" in body:
        fields["platform"] = body["platform"]
    return BatchOperation.from_dict(fields, duplicates=duplicates)


def _check_size(body: Mapping[str, Any], list_field: str, max_items: int | None) -> None:
    """Refuse an oversized synchronous list before validating (and answering for) each item."""
    items = body.get(list_field)
    if max_items is not None and isinstance(items, list):
        check_sync_size(list_field, len(items), max_items)


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        kind = "array" if isinstance(data, list) else type(data).__name__
        _fail("body", f"must be a JSON object, got {'null' if data is None else kind}")
    assert isinstance(data, dict)
    return data


def _known_fields(body: Mapping[str, Any], list_fields: set[str], route: str) -> None:
    issues = []
    for name in body:
        if name in COMMON_FIELDS or name in list_fields:
            continue
        if name in LIST_FIELDS:
            accepted = " or ".join(sorted(list_fields))
            issues.append(FieldIssue(name, f"is not accepted by {route}; send {accepted}"))
        else:
            issues.append(FieldIssue(str(name), "is not a known field"))
    if issues:
        raise RequestValidationError(issues)


def _one_list_field(body: Mapping[str, Any], accepted: tuple[str, ...]) -> str:
    present = [name for name in accepted if name in body]
    if len(present) == 1:
        return present[0]
    if not present:
        _fail(accepted[0], f"one of {', '.join(accepted)} is required")
    _fail(present[1], f"send exactly one of {', '.join(accepted)}, not {' and '.join(present)}")
    raise AssertionError("unreachable")


def _declared_operator(body: Mapping[str, Any]) -> int | None:
    value = body.get("operator_type")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        _fail("operator_type", "must be an integer when given (it is derived from the route)")
    return int(value)


def _app(body: Mapping[str, Any]) -> str | None:
    value = body.get("app")
    if value is None:
        return None
    if not isinstance(value, str) or not APP_PATTERN.fullmatch(value):
        _fail("app", "must be an app name from the secret: 1-64 letters, digits, '_', '.' or '-'")
    return str(value)


def _fail(field: str, message: str) -> None:
    raise RequestValidationError([FieldIssue(field, message)])
