"""TPNS wire format: request validation and response envelopes, kept apart from HTTP plumbing.

Validation failures answer HTTP 200 with a code in the envelope, as TPNS does: 1008001 (not a
JSON object), 1008002 (missing parameter), 1008007 (invalid parameter).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeGuard

from tpns_account import limits
from tpns_emulator.errors import RequestError
from tpns_emulator.state import AccountKey, TokenAccounts

PARSE_ERROR = 1008001
MISSING_PARAMETER = 1008002
INVALID_PARAMETER = 1008007
INVALID_TOKEN = 1008006
NOT_FOUND = 10110008
PARTLY_FAILED = 1008026
ALL_FAILED = 1008027
THROTTLED = 1008028

STYLES = frozenset({"current", "legacy"})

ERROR_MESSAGES: dict[int, str] = {
    0: "NO_ERROR",
    PARSE_ERROR: "request body parse error",
    MISSING_PARAMETER: "missing parameter",
    1008003: "authentication failed",
    1008004: "internal service call failed",
    INVALID_TOKEN: "invalid token",
    INVALID_PARAMETER: "invalid parameter",
    PARTLY_FAILED: "batch operation partly failed",
    ALL_FAILED: "batch operation failed",
    THROTTLED: "request too fast",
    1008029: "invalid token",
    1008030: "app unpaid",
    1008031: "app destroyed",
    1008035: "access id does not exist or wrong region",
    1010001: "app not deployed",
    10030002: "access id and secret key mismatch",
    NOT_FOUND: "token or account does not exist",
}

BATCH_FIELDS = {1: "token_accounts", 2: "token_accounts", 3: "token_accounts"}
BATCH_FIELDS.update({4: "token_list", 5: "account_list"})
QUERY_FIELDS = {1: "account_list", 2: "token_list"}


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A validated batchoperate or query body; exactly one list field is filled."""

    operator_type: int
    token_accounts: tuple[TokenAccounts, ...] = ()
    token_list: tuple[str, ...] = ()
    account_list: tuple[AccountKey, ...] = ()

    @property
    def item_count(self) -> int:
        return len(self.token_accounts) + len(self.token_list) + len(self.account_list)


def message_for(code: int) -> str:
    return ERROR_MESSAGES.get(code, f"error {code}")


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or RequestError(1008001)."""
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(PARSE_ERROR, "body is not valid JSON") from exc
    if not isinstance(obj, dict):
        raise RequestError(PARSE_ERROR, "body is not a JSON object")
    return obj


def summarize(obj: dict[str, Any] | None) -> tuple[int | None, int | None]:
    """Best-effort (operator_type, item_count) for call records, even for invalid bodies."""
    if obj is None:
        return None, None
    op = obj.get("operator_type")
    op = op if isinstance(op, int) and not isinstance(op, bool) else None
    for name in ("token_accounts", "token_list", "account_list"):
        value = obj.get(name)
        if isinstance(value, list):
            return op, len(value)
    return op, None


def parse_request(endpoint: str, obj: dict[str, Any]) -> ParsedRequest:
    """Validate a batchoperate (``endpoint == "batchoperate"``) or query body."""
    fields = BATCH_FIELDS if endpoint == "batchoperate" else QUERY_FIELDS
    if "operator_type" not in obj:
        raise RequestError(MISSING_PARAMETER, "operator_type is required")
    op = obj["operator_type"]
    if not _is_int(op) or op not in fields:
        raise RequestError(INVALID_PARAMETER, f"operator_type must be one of {sorted(fields)}")
    name = fields[op]
    if name not in obj:
        raise RequestError(MISSING_PARAMETER, f"{name} is required for operator_type {op}")
    _platform(obj)
    default_type = _account_type(obj, limits.DEFAULT_ACCOUNT_TYPE)
    items = _bounded_list(obj[name], name, limits.MAX_ITEMS_PER_CALL)
    if name == "token_accounts":
        return ParsedRequest(
            op, token_accounts=tuple(_token_accounts(i, default_type) for i in items)
        )
    if name == "token_list":
        return ParsedRequest(op, token_list=tuple(_token(t, "token_list[]") for t in items))
    return ParsedRequest(op, account_list=tuple(_account(a, default_type) for a in items))


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _bounded_list(value: object, name: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise RequestError(INVALID_PARAMETER, f"{name} must be a list")
    if not value:
        raise RequestError(INVALID_PARAMETER, f"{name} must not be empty")
    if len(value) > limit:
        raise RequestError(INVALID_PARAMETER, f"{name} holds more than {limit} items")
    return value


def _platform(obj: dict[str, Any]) -> None:
    value = obj.get("platform", "android")
    if not isinstance(value, str) or value.lower() not in limits.PLATFORMS:
        raise RequestError(INVALID_PARAMETER, "platform must be android or ios")


def _token(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise RequestError(INVALID_PARAMETER, f"{where} must be a string")
    problem = limits.token_problem(value)
    if problem:
        raise RequestError(INVALID_PARAMETER, f"{where} {problem}")
    return value


def _account_type(holder: dict[str, Any], default: int) -> int:
    """An element's (or the request's) ``account_type``; missing means ``default``."""
    if "account_type" not in holder:
        return default
    value = holder["account_type"]
    if not _is_int(value):
        raise RequestError(INVALID_PARAMETER, "account_type must be an integer")
    problem = limits.account_type_problem(value)
    if problem:
        raise RequestError(INVALID_PARAMETER, f"account_type {problem}")
    return value


def _account(value: object, default_type: int) -> AccountKey:
    if not isinstance(value, dict):
        raise RequestError(INVALID_PARAMETER, "account element must be an object")
    if "account" not in value:
        raise RequestError(MISSING_PARAMETER, "account is required")
    account = value["account"]
    if not isinstance(account, str):
        raise RequestError(INVALID_PARAMETER, "account must be a string")
    problem = limits.account_problem(account)
    if problem:
        raise RequestError(INVALID_PARAMETER, f"account {problem}")
    return account, _account_type(value, default_type)


def _token_accounts(value: object, default_type: int) -> TokenAccounts:
    if not isinstance(value, dict):
        raise RequestError(INVALID_PARAMETER, "token_accounts element must be an object")
    if "token" not in value or "account_list" not in value:
        raise RequestError(MISSING_PARAMETER, "token and account_list are required")
    token = _token(value["token"], "token")
    accounts = _bounded_list(
        value["account_list"], "account_list", limits.MAX_ACCOUNTS_PER_TOKEN_ENTRY
    )
    return token, tuple(_account(a, default_type) for a in accounts)


# -- envelopes -----------------------------------------------------------------------------


def envelope(
    endpoint: str, style: str, ret_code: int, err_msg: str | None = None
) -> dict[str, Any]:
    """The status part of an answer, in the casing the endpoint uses in ``style``."""
    if err_msg is None:
        if ret_code == 0:
            err_msg = "NO_ERROR" if endpoint == "batchoperate" and style == "current" else "ok"
        else:
            err_msg = message_for(ret_code)
    if endpoint == "query" and style == "current":
        return {"retCode": ret_code, "errMsg": err_msg}
    return {"ret_code": ret_code, "err_msg": err_msg}


def item_result(code: int, style: str) -> str:
    """A per-item result string: the code as a string, or legacy ``ok``/``token_not_exists``."""
    if style == "legacy":
        return "ok" if code == 0 else "token_not_exists"
    return str(code)


def batch_ret_code(codes: list[int]) -> int:
    """0 when every item succeeded, 1008026 when some failed, 1008027 when all failed."""
    failed = sum(1 for c in codes if c != 0)
    if failed == 0:
        return 0
    return ALL_FAILED if failed == len(codes) else PARTLY_FAILED


def account_json(account: str, account_type: int, omit_default: bool) -> dict[str, Any]:
    if omit_default and account_type == 0:
        return {"account": account}
    return {"account": account, "account_type": account_type}
