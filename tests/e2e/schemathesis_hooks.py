"""Schemathesis hooks: keep generated *valid* requests valid where a JSON schema cannot say so.

Loaded by ``test_schemathesis.py`` through ``SCHEMATHESIS_HOOKS``. Negative cases are left as
generated. For positive ones:

- ``app`` must name an app of the secret, which only the running stack knows (the spec allows
  any well-formed name and declares 400 ``unknown_app``): it is set to the stack's app;
- a synchronous list names each token (or account of one type) once; JSON Schema's
  ``uniqueItems`` only refuses identical items, so later repeats of a key are dropped;
- a page ``cursor`` is opaque: valid only as the API handed it out (anything else is 400), so a
  generated one is dropped and the first page asked for;
- an ``Idempotency-Key`` is valid once per body (the same key with another body is 422, as the
  spec declares), so each valid case gets a key of its own.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import schemathesis

from tpns_account import limits

KNOWN_APP = os.environ.get("TPNS_KNOWN_APP", "default")
SYNC_ROUTES = ("/v1/bind", "/v1/unbind", "/v1/query")


def _key(item: Any) -> Any:
    if isinstance(item, dict) and "token" in item:
        return item["token"]
    if isinstance(item, dict) and "account" in item:
        account_type = item.get("account_type")
        return item[
            "account"
        ], limits.DEFAULT_ACCOUNT_TYPE if account_type is None else account_type
    return item


def _unique(items: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    kept = []
    for item in items:
        key = repr(_key(item))
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    if isinstance(case.query, dict):
        if "app" in case.query:
            case.query["app"] = KNOWN_APP
        case.query.pop("cursor", None)
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    body = case.body
    if isinstance(body, dict):
        if "app" in body:
            body["app"] = KNOWN_APP
        if case.operation.path in SYNC_ROUTES:
            _each_key_once(body)
    return case


def _each_key_once(body: dict[str, Any]) -> None:
    for name in ("token_accounts", "token_list", "account_list"):
        if isinstance(body.get(name), list):
            body[name] = _unique(body[name])
            for entry in body[name]:
                if isinstance(entry, dict) and isinstance(entry.get("account_list"), list):
                    entry["account_list"] = _unique(entry["account_list"])
