"""The API's listings and lookups: a job, its failures, a token's or an account's bindings.

Lists come in pages: ``limit`` (1-``MAX_PAGE``) items and an opaque ``cursor`` for the next.
"""

from __future__ import annotations

import re
from typing import Final

from tpns_account import limits
from tpns_account.validation import MISSING, Validator, invalid
from tpns_account.values import Value
from tpns_api.http.contract import NAME_PATTERN, NAME_RULE, parse_app, path_account, path_parameter
from tpns_api.http.request import HttpRequest

DEFAULT_PAGE: Final = 100
MAX_PAGE: Final = 1000
PAGE_PARAM: Final = re.compile(rf"[0-9]{{1,4}}{limits.END}")
CURSOR_REGEX: Final = rf"[A-Za-z0-9_-]{{1,2048}}{limits.END}"
CURSOR_PATTERN: Final = re.compile(CURSOR_REGEX)


class JobLookup(Value):
    """``GET /v1/jobs/{job_id}`` and its failures (a page of them)."""

    job_id: str
    limit: int = DEFAULT_PAGE
    cursor: str | None = None
    base_path: str = ""  # the stage prefix the caller used, for the URLs answered


class BindingsLookup(Value):
    """``GET /v1/tokens/{token}/bindings`` or ``GET /v1/accounts/{account}/bindings``."""

    app: str | None
    token: str | None = None
    account: str | None = None
    account_type: int | None = None
    limit: int = DEFAULT_PAGE
    cursor: str | None = None


def job_lookup_request(request: HttpRequest, service: object = None) -> JobLookup:
    job_id = path_parameter(request, "job_id")
    if not NAME_PATTERN.match(job_id):
        raise invalid("job_id", f"must be {NAME_RULE}")
    return JobLookup(job_id, *_page(request), base_path=request.base_path)


def token_bindings_request(request: HttpRequest, service: object = None) -> BindingsLookup:
    v = Validator()
    token = v.token(path_parameter(request, "token"), "token")
    if token is None:
        raise v.error()
    return BindingsLookup(parse_app(request.query.get("app", MISSING)), token=token)


def account_bindings_request(request: HttpRequest, service: object = None) -> BindingsLookup:
    account = path_account(request)
    limit, cursor = _page(request)
    return BindingsLookup(
        parse_app(request.query.get("app", MISSING)),
        account=account.account,
        account_type=account.account_type,
        limit=limit,
        cursor=cursor,
    )


def _page(request: HttpRequest) -> tuple[int, str | None]:
    """``limit`` (1-``MAX_PAGE``, default ``DEFAULT_PAGE``) and ``cursor`` of a listing."""
    raw = request.query.get("limit")
    limit = DEFAULT_PAGE
    if raw is not None:
        if not PAGE_PARAM.match(raw) or not 1 <= int(raw) <= MAX_PAGE:
            raise invalid("limit", f"must be an integer from 1 to {MAX_PAGE}, got {raw[:20]!r}")
        limit = int(raw)
    cursor = request.query.get("cursor")
    if cursor is not None and not CURSOR_PATTERN.match(cursor):
        raise invalid("cursor", "is not one this API handed out")
    return limit, cursor
