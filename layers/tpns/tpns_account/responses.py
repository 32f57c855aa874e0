"""Reading TPNS's answers: envelopes in either casing, per-item codes, query entries.

Every answer becomes either one ``ItemAnswer`` per item of the call or the exception class of
failure it is. An answer whose envelope code is 0 is never a failure: a ``result`` shorter or
longer than the call (the vendor's own sample answers ``["0"]`` to a multi-item request) means
accepted, one code for every item when there is exactly one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from tpns_account import codes
from tpns_account.codes import CodeClass
from tpns_account.errors import (
    AppStateError,
    AuthError,
    BadRequestError,
    ConfigurationError,
    RetryableError,
    ThrottledError,
    UnexpectedResponseError,
    UpstreamError,
    UpstreamUnavailableError,
)
from tpns_account.models import Account, Item, item_key
from tpns_account.results import QueryItem, query_status
from tpns_account.transport import HttpAnswer
from tpns_account.values import Value

MAX_ERR_MSG = 200
_OK_CLASSES = (CodeClass.OK, CodeClass.PARTIAL, CodeClass.ITEM)
_ERROR_CLASSES: dict[CodeClass, type[UpstreamError]] = {
    CodeClass.BAD_REQUEST: BadRequestError,
    CodeClass.AUTH: AuthError,
    CodeClass.CONFIGURATION: ConfigurationError,
    CodeClass.APP_STATE: AppStateError,
    CodeClass.TRANSIENT: UpstreamUnavailableError,
    CodeClass.THROTTLED: ThrottledError,
}


class ItemAnswer(Value):
    """TPNS's word on one item: its code, the raw text of an unknown one, its query entry.

    ``assumed`` marks a code TPNS did not give per item (its ``result`` did not match the call).
    """

    code: int
    raw: str | None = None
    entry: dict[str, Any] | None = None
    assumed: bool = False


class Envelope(Value):
    """An answer TPNS gave as a success (possibly with per-item failures)."""

    code: int
    body: dict[str, Any]


def envelope_code(body: object) -> int | None:
    if not isinstance(body, dict):
        return None
    value = body.get("ret_code", body.get("retCode"))
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and codes.INTEGER.fullmatch(value.strip()):
        return int(value)
    return None


def _envelope_message(body: object) -> str:
    if not isinstance(body, dict):
        return ""
    value = body.get("err_msg", body.get("errMsg"))
    return str(value)[:MAX_ERR_MSG] if value is not None else ""


def _retry_after(response: HttpAnswer) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def interpret(response: HttpAnswer) -> Envelope:
    """Turn an HTTP answer into a usable envelope, or raise the class of failure it is."""
    status = response.status_code
    try:
        body: Any = json.loads(response.content) if response.content else None
    except (ValueError, RecursionError):  # (not JSON, or nested deeper than the parser goes)
        body = None
    code = envelope_code(body)
    if status == 429:
        raise ThrottledError(
            "TPNS answered HTTP 429 (throttled)",
            http_status=status,
            code=code,
            retry_after=_retry_after(response),
        )
    if status >= 500:
        raise UpstreamUnavailableError(
            f"TPNS answered HTTP {status}", http_status=status, code=code
        )
    if code is not None:
        if codes.classify(code) in _OK_CLASSES and status < 300 and isinstance(body, dict):
            return Envelope(code, body)
        raise error_for_code(code, _envelope_message(body), http_status=status)
    if status == 401:
        raise AuthError("TPNS answered HTTP 401 (authentication failed)", http_status=status)
    if status in (403, 404):
        raise ConfigurationError(
            f"TPNS answered HTTP {status}: wrong AccessID, regional host or base URL",
            http_status=status,
        )
    if status >= 400:
        raise BadRequestError(f"TPNS answered HTTP {status}", http_status=status)
    raise UnexpectedResponseError(
        f"TPNS answered HTTP {status} without a ret_code envelope", http_status=status
    )


def error_for_code(
    code: int, message: str, *, http_status: int | None = None, attempts: int = 1
) -> UpstreamError:
    text = f"TPNS code {code}: {codes.describe(code)}" + (f" ({message})" if message else "")
    error_class = _ERROR_CLASSES.get(codes.classify(code), UnexpectedResponseError)
    return error_class(text, code=code, http_status=http_status, attempts=attempts)


def retryable_error_for(code: int, *, attempts: int) -> RetryableError:
    """The error of a per-item code that is worth resending (transient or throttled)."""
    text = f"TPNS code {code}: {codes.describe(code)}"
    if codes.classify(code) is CodeClass.THROTTLED:
        return ThrottledError(text, code=code, attempts=attempts)
    return UpstreamUnavailableError(text, code=code, attempts=attempts)


def per_item(envelope: Envelope, items: Sequence[Item], *, query: bool) -> list[ItemAnswer]:
    """One answer per item, in the call's order."""
    answers = _item_codes(envelope, len(items))
    if not query:
        return answers
    entries = _query_entries(envelope.body, items)
    return [ItemAnswer(a.code, a.raw, e, a.assumed) for a, e in zip(answers, entries, strict=True)]


def _item_codes(envelope: Envelope, size: int) -> list[ItemAnswer]:
    code, result = envelope.code, envelope.body.get("result")
    if isinstance(result, list) and len(result) == size:
        return [ItemAnswer(*codes.parse_item_code(value)) for value in result]
    if codes.classify(code) is CodeClass.OK:
        if isinstance(result, list) and len(result) == 1:
            return [ItemAnswer(*codes.parse_item_code(result[0]))] * size
        # Accepted as a whole; TPNS just gave no per-item codes.
        return [ItemAnswer(code, assumed=result is not None)] * size
    if result is None and codes.classify(code) is CodeClass.ITEM:
        return [ItemAnswer(code)] * size
    count = len(result) if isinstance(result, list) else "no list of"
    raise UnexpectedResponseError(
        f"TPNS answered code {code} with {count} results for {size} items"
    )


def _query_entries(body: Mapping[str, Any], items: Sequence[Item]) -> list[dict[str, Any] | None]:
    """Match query answer entries to the asked items by key (order is not relied upon)."""
    by_key: dict[object, dict[str, Any]] = {}
    for name in ("account_tokens", "token_accounts"):
        entries = body.get(name)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            if "token" in entry:
                by_key.setdefault(str(entry["token"]), entry)
            elif "account" in entry:
                typed = entry.get("account_type") is not None
                key_type = account_type_of(entry.get("account_type")) if typed else None
                by_key.setdefault((str(entry["account"]), key_type), entry)
    asked = Counter(item.account for item in items if isinstance(item, Account))
    found: list[dict[str, Any] | None] = []
    for item in items:
        if isinstance(item, Account):
            entry = by_key.get((item.account, item.account_type))
            if entry is None and asked[item.account] == 1:
                # Either side may leave the type out; unambiguous only if asked once.
                entry = by_key.get((item.account, None)) or _any_type(by_key, item.account)
            found.append(entry)
        else:
            found.append(by_key.get(item_key(item)))
    return found


def _any_type(by_key: Mapping[object, dict[str, Any]], account: str) -> dict[str, Any] | None:
    matches = [e for k, e in by_key.items() if isinstance(k, tuple) and k[0] == account]
    return matches[0] if len(matches) == 1 else None


def query_item(index: int, item: str | Account, answer: ItemAnswer) -> QueryItem:
    entry = answer.entry or {}
    code = answer.code
    if code == codes.SUCCESS and answer.entry is None:
        code = codes.NOT_FOUND  # "found", yet nothing listed for it
    status = query_status(code)
    reason = None if code == codes.SUCCESS else answer.raw or codes.describe(code)
    if isinstance(item, Account):
        tokens = entry.get("token_list") or []
        return QueryItem(
            index,
            item,
            status,
            code,
            tokens=tuple(str(t) for t in tokens if isinstance(t, str | int)),
            reason=reason,
        )
    raw_accounts = entry.get("account_list") or []
    accounts = tuple(
        Account(str(a["account"]), account_type_of(a.get("account_type")))
        for a in raw_accounts
        if isinstance(a, dict) and "account" in a
    )
    return QueryItem(index, item, status, code, accounts=accounts, reason=reason)


def account_type_of(value: object) -> int:
    """The type TPNS holds for an account it lists: omitted means its default."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and codes.INTEGER.fullmatch(value):
        return int(value)
    return 0
