"""The HTTP API v1 contract: requests in, the library's models out, parsed once.

Bodies reuse TPNS's field names; the operator type comes from the route and the list field, and
may be given for compatibility as long as it agrees. A top-level ``account_type`` types every
account element that has none. Everything here is plain Python (no Lambda), so the same parsing
serves API Gateway, the local gateway and any other HTTP front.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any, Final, Literal, Protocol, get_args
from urllib.parse import unquote

from tpns_account import (
    BatchOperation,
    OperatorType,
    Query,
    QueryType,
    RequestValidationError,
    limits,
)
from tpns_account.errors import FieldIssue
from tpns_account.models import BIND_TYPES, LIST_FIELDS, Account, Duplicates, ListField
from tpns_account.validation import MISSING, Validator, invalid, kind
from tpns_account.values import Value, field
from tpns_api.errors import PayloadTooLargeError
from tpns_api.http.request import HttpRequest

Operation = Literal["bind", "unbind", "backfill", "export"]
OPERATIONS: Final[tuple[Operation, ...]] = get_args(Operation)
#: App names, job ids: what the secret's keys and our identifiers may look like.
NAME_REGEX: Final = rf"[A-Za-z0-9][A-Za-z0-9_.-]{{0,63}}{limits.END}"
NAME_PATTERN: Final = re.compile(NAME_REGEX)
NAME_RULE: Final = "1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"
#: A path or query ``account_type``: digits (the value is then checked against the table).
ACCOUNT_TYPE_PARAM: Final = re.compile(rf"[0-9]{{1,5}}{limits.END}")
MAX_BODY_BYTES: Final = 6 * 1024 * 1024  # Lambda's synchronous payload limit
IDEMPOTENCY_KEY: Final = "Idempotency-Key"
IDEMPOTENCY_KEY_REGEX: Final = rf"[\x20-\x7e]{{1,255}}{limits.END}"
IDEMPOTENCY_KEY_PATTERN: Final = re.compile(IDEMPOTENCY_KEY_REGEX)

UNBIND_TYPE_BY_FIELD: Final[dict[ListField, OperatorType]] = {
    "token_accounts": OperatorType.UNBIND_ACCOUNTS,
    "token_list": OperatorType.UNBIND_ALL_ACCOUNTS,
    "account_list": OperatorType.UNBIND_ALL_TOKENS,
}
#: A backfill asks TPNS about tokens or accounts (the query's list fields).
BACKFILL_FIELDS: Final[tuple[ListField, ...]] = ("token_list", "account_list")
QUERY_TYPE_BY_FIELD: Final[dict[ListField, QueryType]] = {
    "account_list": QueryType.TOKENS_BY_ACCOUNT,
    "token_list": QueryType.ACCOUNTS_BY_TOKEN,
}
COMMON_FIELDS: Final = frozenset({"app", "operator_type", "platform", "account_type"})


class SyncLimit(Protocol):
    """What bounds a synchronous request (the service's ``SYNC_MAX_ITEMS``)."""

    @property
    def sync_max_items(self) -> int: ...


def now_ms() -> int:
    return int(time.time() * 1000)


class BatchRequest(Value):
    """A bind or unbind; ``issued_at_ms`` is when the API received it (its ledger order)."""

    operation: BatchOperation
    app: str | None
    issued_at_ms: int = field(default_factory=now_ms)
    request_id: str = field(default_factory=lambda: f"request-{uuid.uuid4().hex}")


class QueryRequest(Value):
    query: Query
    app: str | None


class JobRequest(Value):
    operation: Operation
    batch: BatchOperation | None  # None: an export (it has no items)
    app: str | None
    job_id: str | None
    issued_at_ms: int = field(default_factory=now_ms)
    idempotency_key: str | None = None
    caller: str = "anonymous"
    body_hash: str = ""
    base_path: str = ""


# -- requests ---------------------------------------------------------------------------------


def bind_request(request: HttpRequest, limit: SyncLimit) -> BatchRequest:
    """``POST /v1/bind``."""
    return _issued(parse_bind(json_body(request), max_items=limit.sync_max_items), request)


def unbind_request(request: HttpRequest, limit: SyncLimit) -> BatchRequest:
    """``POST /v1/unbind``."""
    return _issued(parse_unbind(json_body(request), max_items=limit.sync_max_items), request)


def unbind_payload(payload: object, limit: SyncLimit) -> BatchRequest:
    """A direct invocation's unbind body (EventBridge, ``aws lambda invoke``), issued now."""
    return parse_unbind(payload, max_items=limit.sync_max_items)


def _issued(parsed: BatchRequest, request: HttpRequest) -> BatchRequest:
    """The parsed body, issued when (and as) the API received the request."""
    return BatchRequest(
        parsed.operation,
        parsed.app,
        request.received_at_ms or now_ms(),
        request.request_id or parsed.request_id,
    )


def query_request(request: HttpRequest, limit: SyncLimit) -> QueryRequest:
    """``POST /v1/query``."""
    return parse_query(json_body(request), max_items=limit.sync_max_items)


def tokens_of_account_request(request: HttpRequest, limit: object = None) -> QueryRequest:
    """``GET /v1/accounts/{account}/tokens?account_type=&app=``."""
    account = path_account(request)
    query = Query(QueryType.TOKENS_BY_ACCOUNT, (account,))
    return QueryRequest(query, parse_app(request.query.get("app", MISSING)))


def path_account(request: HttpRequest) -> Account:
    """The path's account, typed by the query string's ``account_type`` when it has one."""
    element: dict[str, object] = {"account": path_parameter(request, "account")}
    account_type = parse_account_type(request.query.get("account_type"))
    if account_type is not None:
        element["account_type"] = account_type
    v = Validator()
    parsed = v.account(element, "account", None)
    if parsed is None:
        raise v.error()
    return Account(*parsed)


def accounts_of_token_request(request: HttpRequest, limit: object = None) -> QueryRequest:
    """``GET /v1/tokens/{token}/accounts?app=``."""
    v = Validator()
    token = v.token(path_parameter(request, "token"), "token")
    if token is None:
        raise v.error()
    query = Query(QueryType.ACCOUNTS_BY_TOKEN, (token,))
    return QueryRequest(query, parse_app(request.query.get("app", MISSING)))


def job_request(request: HttpRequest, service: object = None) -> JobRequest:
    """``POST /v1/jobs``: any size; repeats are merged (the answer says how many)."""
    data = json_body(request)
    job = parse_job(data)
    return JobRequest(
        job.operation,
        job.batch,
        job.app,
        job.job_id,
        request.received_at_ms or now_ms(),
        idempotency_key(request.header(IDEMPOTENCY_KEY)),
        request.caller or "anonymous",
        body_hash(data),
        request.base_path,
    )


def body_hash(data: object) -> str:
    """A body's identity for ``Idempotency-Key``: the same JSON value, however spaced or ordered."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def idempotency_key(value: str | None) -> str | None:
    """The ``Idempotency-Key`` header: 1-255 printable ASCII characters, when given."""
    if value is None:
        return None
    if not IDEMPOTENCY_KEY_PATTERN.match(value):
        raise invalid(IDEMPOTENCY_KEY, "must be 1-255 printable ASCII characters when given")
    return value


# -- bodies -----------------------------------------------------------------------------------


def json_body(request: HttpRequest) -> Any:
    """Decode a request body, or name the problem (never a stack trace)."""
    body = request.body
    if body is None or not body.strip():
        raise invalid("body", "is required: send a JSON object")
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"body: is larger than {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise invalid("body", "is not valid UTF-8") from None
    except RecursionError:
        raise invalid("body", "is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise invalid(
            "body", f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except ValueError as exc:
        raise invalid("body", f"is not valid JSON ({exc})") from None


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
    operator = QUERY_TYPE_BY_FIELD[list_field]
    _agrees(_declared_operator(body), operator, f"{list_field}, which means query")
    _check_size(body, list_field, max_items)
    app, v, platform, default_type = _common_fields(body)
    return QueryRequest(Query.from_fields(operator, body, v, platform, default_type), app)


def _agrees(declared: int | None, operator: int, meaning: str) -> None:
    """A given ``operator_type`` must be the one the route and list field mean."""
    if declared is not None and declared != operator:
        raise invalid("operator_type", f"{declared} disagrees with {meaning} {int(operator)}")


def _common_fields(body: Mapping[str, Any]) -> tuple[str | None, Validator, str | None, int | None]:
    """``app``, ``platform`` and the top-level ``account_type``, with the validator that read
    them (the list field is read next, reporting into the same validator)."""
    app = _app(body)
    v = Validator()
    platform = v.platform(body)
    default_type = v.default_account_type(body)
    v.raise_if_any()
    return app, v, platform, default_type


def parse_job(data: Any, *, duplicates: Duplicates = "merge") -> JobRequest:
    """A bulk job body: ``operation`` plus a bind or unbind body, of any size; or a backfill:
    the tokens or accounts whose bindings in TPNS the ledger should learn."""
    body = _object(data)
    operation = body.get("operation")
    if operation not in OPERATIONS:
        raise invalid("operation", "must be 'bind', 'unbind', 'backfill' or 'export'")
    job_id = parse_name("job_id", body.get("job_id", MISSING))
    rest = {k: v for k, v in body.items() if k not in ("operation", "job_id")}
    if operation == "bind":
        _known_fields(rest, {"token_accounts"}, "a bind job")
        request = _bind_or_unbind(rest, "bind", duplicates)
        return JobRequest("bind", request.operation, request.app, job_id)
    if operation == "export":
        for name in rest:
            if name != "app":
                raise invalid(str(name), "is not accepted by an export job (it takes app only)")
        return JobRequest("export", None, _app(rest), job_id)
    if operation == "backfill":
        if "operator_type" in rest:
            raise invalid("operator_type", "a backfill takes none: it only asks TPNS")
        _known_fields(rest, set(BACKFILL_FIELDS), "a backfill job")
        _one_list_field(rest, BACKFILL_FIELDS)
        request = _bind_or_unbind(rest, "unbind", duplicates)
        return JobRequest("backfill", request.operation, request.app, job_id)
    _known_fields(rest, set(UNBIND_TYPE_BY_FIELD), "an unbind job")
    request = _bind_or_unbind(rest, "unbind", duplicates)
    return JobRequest("unbind", request.operation, request.app, job_id)


# -- fields -----------------------------------------------------------------------------------


def parse_account_type(value: str | None) -> int | None:
    """A query-string ``account_type``: absent means none given."""
    if value is None:
        return None
    if not ACCOUNT_TYPE_PARAM.match(value):
        raise invalid("account_type", f"must be a TPNS account type number, got {value[:20]!r}")
    return int(value)


def path_parameter(request: HttpRequest, name: str) -> str:
    """A path segment, decoded strictly: invalid UTF-8 is refused, not replaced."""
    raw = request.path_parameters.get(name)
    if raw is None:
        raise invalid(name, "is required in the path")
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise invalid(name, "is not valid UTF-8 once URL-decoded") from None


def parse_name(field: str, value: object) -> str | None:
    """An optional app name or job id (``MISSING``: not given)."""
    if value is MISSING:
        return None
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise invalid(field, f"must be {NAME_RULE} when given")
    return value


def parse_app(value: object) -> str | None:
    """Which app of the secret to use; None (``value`` is ``MISSING``) means its default app."""
    return parse_name("app", value)


def check_sync_size(list_field: str, count: int, limit: int) -> None:
    if count > limit:
        raise PayloadTooLargeError(
            f"{list_field}: {count} items is more than a synchronous request takes ({limit}); "
            "send it to POST /v1/jobs, which has no size limit"
        )


def _bind_or_unbind(
    body: Mapping[str, Any],
    operation: Operation,
    duplicates: Duplicates,
    max_items: int | None = None,
) -> BatchRequest:
    declared = _declared_operator(body)
    if operation == "bind":
        list_field: ListField = "token_accounts"
        if declared is not None and declared not in BIND_TYPES:
            raise invalid(
                "operator_type", f"{declared} disagrees with bind, which is 2 (or 1, its alias)"
            )
        operator = OperatorType(declared or OperatorType.OVERRIDE)
    else:
        list_field = _one_list_field(body, tuple(UNBIND_TYPE_BY_FIELD))
        operator = UNBIND_TYPE_BY_FIELD[list_field]
        _agrees(declared, operator, f"{list_field}, which means")
    _check_size(body, list_field, max_items)
    app, v, platform, default_type = _common_fields(body)
    batch = BatchOperation.from_fields(operator, body, v, platform, default_type, duplicates)
    return BatchRequest(batch, app)


def _check_size(body: Mapping[str, Any], list_field: str, max_items: int | None) -> None:
    """Refuse an oversized synchronous list before validating (and answering for) each item."""
    items = body.get(list_field)
    if max_items is not None and isinstance(items, list):
        check_sync_size(list_field, len(items), max_items)


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise invalid("body", f"must be a JSON object, got {kind(data)}")
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


def _one_list_field(body: Mapping[str, Any], accepted: tuple[ListField, ...]) -> ListField:
    present = [name for name in accepted if name in body]
    if len(present) == 1:
        return present[0]
    if not present:
        raise invalid(accepted[0], f"one of {', '.join(accepted)} is required")
    raise invalid(
        present[1], f"send exactly one of {', '.join(accepted)}, not {' and '.join(present)}"
    )


def _declared_operator(body: Mapping[str, Any]) -> int | None:
    if "operator_type" not in body:
        return None
    value = body["operator_type"]
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(
            "operator_type", "must be an integer when given (it is derived from the route)"
        )
    return value


def _app(body: Mapping[str, Any]) -> str | None:
    return parse_app(body.get("app", MISSING))
