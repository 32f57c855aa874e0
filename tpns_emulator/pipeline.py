"""One TPNS call, from request bytes to the reply: faults, throttling, auth, validation, semantics.

Nothing here knows sockets: the HTTP server (``tpns_emulator.server``) hands over the path,
headers and body, and a ``stall`` function that waits like a slow server (and notices a client
hanging up). What the emulator answers is decided here, so it reads top to bottom.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol, cast

from tpns_emulator.auth import authenticate, decode_basic
from tpns_emulator.errors import RequestError
from tpns_emulator.faults import Fault
from tpns_emulator.protocol import (
    INVALID_TOKEN,
    NOT_FOUND,
    THROTTLED,
    ParsedRequest,
    account_json,
    batch_ret_code,
    envelope,
    item_result,
    message_for,
    parse_json_object,
    parse_request,
    summarize,
)
from tpns_emulator.state import AccountKey, Mutation
from tpns_emulator.stats import CallRecord

if TYPE_CHECKING:
    from tpns_emulator.emulator import Epoch, TpnsEmulator

logger = logging.getLogger(__name__)

BATCH_PATH = "/v3/device/account/batchoperate"
QUERY_PATH = "/v3/device/account/query"
ENDPOINTS = {BATCH_PATH: "batchoperate", QUERY_PATH: "query"}
JSON_TYPE = "application/json; charset=utf-8"

#: Waits like a slow server; False when a reset or stop abandoned the request meanwhile.
Stall = Callable[[float, "Epoch"], bool]

_OUTCOMES: dict[int, str] = {
    0: "ok",
    1008026: "partial",
    1008027: "all_failed",
    1008001: "bad_request",
    1008002: "bad_request",
    1008007: "bad_request",
    1008003: "auth",
    1008035: "unknown_app",
    1008030: "app_state",
    1008031: "app_state",
    1010001: "app_state",
    THROTTLED: "throttled",
}


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send back for one TPNS call, and how to record it."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    record: CallRecord | None = None
    fired: tuple[str, ...] = ()
    drop: bool = False

    @classmethod
    def of_json(
        cls, status: int, payload: Any, record: CallRecord, fired: tuple[str, ...] = ()
    ) -> Reply:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, body, JSON_TYPE, (), record, fired)


class Headers(Protocol):
    """The request headers (an ``email.message.Message``: case-insensitive names)."""

    def get(self, name: str) -> str | None: ...


def answer(emu: TpnsEmulator, path: str, headers: Headers, body: bytes, stall: Stall) -> Reply:
    """The reply to one call of the TPNS API (``path`` is one of its two endpoints or not)."""
    endpoint = ENDPOINTS.get(path)
    access_id = headers.get("AccessId")
    if endpoint is None:
        unknown = CallRecord(path, access_id, None, None, None, 404, "not_found", time.time())
        return Reply.of_json(404, {"error": "not found"}, unknown)
    try:
        obj: dict[str, Any] | None = parse_json_object(body)
    except RequestError:
        obj = None
    op, count = summarize(obj)

    def record(ret_code: int | None, status: int, outcome: str) -> CallRecord:
        return CallRecord(path, access_id, op, count, ret_code, status, outcome, time.time(), obj)

    epoch = emu.epoch
    decision = emu.faults.decide(endpoint, access_id)
    fault = decision.fault
    delay = emu.latency_s + decision.delay
    if fault is not None and fault.kind == "hang":
        # Stall (typically past the client's timeout), then answer normally.
        delay += fault.seconds or 0.0
    if delay > 0 and not stall(delay, epoch):
        return Reply(0, b"", drop=True)  # abandoned by reset()/stop()
    if fault is not None and fault.kind != "hang":
        return _fault_reply(fault, endpoint, emu.style, record, decision.fired_kinds)

    status, payload, app_id = _handle(emu, endpoint, headers, body, obj)
    ret_code: int = payload["ret_code"] if "ret_code" in payload else payload["retCode"]
    if status == 200:
        outcome = _OUTCOMES.get(ret_code, f"code_{ret_code}")
    else:
        outcome = "unknown_app" if status == 403 else "auth"
    call = CallRecord(path, app_id, op, count, ret_code, status, outcome, time.time(), obj)
    return Reply.of_json(status, payload, call, decision.fired_kinds)


def _handle(
    emu: TpnsEmulator,
    endpoint: str,
    headers: Headers,
    body: bytes,
    obj: dict[str, Any] | None,
) -> tuple[int, dict[str, Any], str | None]:
    """Throttle, authenticate, validate, then run the operation: (status, answer, app)."""
    style = emu.style
    if not emu.admit():
        return 200, envelope(endpoint, style, THROTTLED), _claimed_access_id(headers)
    auth = authenticate(
        access_id=headers.get("AccessId"),
        timestamp=headers.get("TimeStamp"),
        sign=headers.get("Sign"),
        authorization=headers.get("Authorization"),
        body=body,
        apps=emu.app_table(),
        now=time.time(),
        skew_window_s=emu.skew_window_s,
    )
    if not auth.ok:
        return auth.http_status, envelope(endpoint, style, auth.ret_code), auth.access_id
    access_id = cast(str, auth.access_id)
    try:
        req = parse_request(endpoint, obj if obj is not None else parse_json_object(body))
    except RequestError as exc:
        logger.debug("rejected %s request: %s", endpoint, exc.detail)
        return 200, envelope(endpoint, style, exc.code), access_id
    if endpoint == "batchoperate":
        return 200, batchoperate(emu, access_id, req), access_id
    return 200, query(emu, access_id, req), access_id


def _claimed_access_id(headers: Headers) -> str | None:
    access_id = headers.get("AccessId")
    if access_id:
        return str(access_id)
    basic = decode_basic(headers.get("Authorization"))
    return basic[0] if basic else None


def batchoperate(emu: TpnsEmulator, access_id: str, req: ParsedRequest) -> dict[str, Any]:
    """Accept a bind/unbind task: per-item codes now, the change after the apply delay.

    Invalid tokens are refused per item; items a ``lose`` fault picks are answered like the
    others and never applied.
    """
    style = emu.style
    invalid = emu.invalid_tokens
    op = req.operator_type

    def kept(key: str) -> bool:
        return key not in invalid and not emu.faults.lost(access_id, key)

    codes: list[int]
    if op == 5:
        codes = [0] * len(req.account_list)
        accounts = tuple(a for a in req.account_list if kept(a[0]))
        mutation = Mutation(access_id, op, account_list=accounts)
    elif op == 4:
        codes = [INVALID_TOKEN if t in invalid else 0 for t in req.token_list]
        mutation = Mutation(access_id, op, token_list=tuple(t for t in req.token_list if kept(t)))
    else:
        codes = [INVALID_TOKEN if ta[0] in invalid else 0 for ta in req.token_accounts]
        items = tuple(ta for ta in req.token_accounts if kept(ta[0]))
        mutation = Mutation(access_id, op, token_accounts=items)
    if mutation.token_accounts or mutation.token_list or mutation.account_list:
        emu.store.submit(mutation, emu.apply_delay)
    answer = envelope("batchoperate", style, batch_ret_code(codes))
    answer["result"] = [item_result(code, style) for code in codes]
    return answer


def query(emu: TpnsEmulator, access_id: str, req: ParsedRequest) -> dict[str, Any]:
    """Real-time lookups of the applied state."""
    style = emu.style
    omit = emu.omit_default_account_type
    results: list[str] = []
    answer = envelope("query", style, 0)
    if req.operator_type == 1:
        found = emu.store.query_accounts(access_id, req.account_list)
        entries: list[dict[str, Any]] = []
        for (account, account_type), tokens in zip(req.account_list, found, strict=True):
            entry = account_json(account, account_type, omit)
            entry["token_list"] = tokens
            entries.append(entry)
            results.append(item_result(0 if tokens else NOT_FOUND, style))
        answer["result"] = results
        answer["account_tokens"] = entries
        return answer
    invalid = emu.invalid_tokens
    bound = emu.store.query_tokens(access_id, req.token_list)
    token_entries: list[dict[str, Any]] = []
    for token, accounts in zip(req.token_list, bound, strict=True):
        if token in invalid:
            code, accounts = INVALID_TOKEN, []
        else:
            code = 0 if accounts else NOT_FOUND
        token_entries.append({"token": token, "account_list": _accounts_json(accounts, omit)})
        results.append(item_result(code, style))
    answer["result"] = results
    answer["token_accounts"] = token_entries
    return answer


def _accounts_json(accounts: list[AccountKey], omit: bool) -> list[dict[str, Any]]:
    return [account_json(account, account_type, omit) for account, account_type in accounts]


def _fault_reply(
    fault: Fault,
    endpoint: str,
    style: str,
    record: Callable[[int | None, int, str], CallRecord],
    fired: tuple[str, ...],
) -> Reply:
    """What a firing fault answers instead of TPNS."""
    if fault.kind == "drop":
        return Reply(0, b"", record=record(None, 0, "fault_drop"), fired=fired, drop=True)
    if fault.kind == "error":
        code = cast(int, fault.code)
        status = fault.status or 200
        payload = envelope(endpoint, style, code, message_for(code))
        return Reply.of_json(status, payload, record(code, status, f"fault_error_{code}"), fired)
    if fault.kind == "reply":
        status = fault.status or 200
        return Reply.of_json(status, fault.body, record(None, status, "fault_reply"), fired)
    # What a gateway in front of TPNS would send: HTML, not JSON.
    status = fault.status or 500
    title = f"{status} {HTTPStatus(status).phrase}"
    html = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    headers = (("Retry-After", "1"),) if status in (429, 503) else ()
    return Reply(
        status,
        html.encode(),
        "text/html; charset=utf-8",
        headers,
        record(None, status, f"fault_http_{status}"),
        fired,
    )
