"""A catalogue of malformed and hostile requests, fed to every route: 4xx naming the problem.

No entry may produce a 5xx or a stack trace, and none may reach TPNS.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from tests.support.api_events import Answer, ApiFunctions, api_event
from tpns_emulator import TpnsEmulator

Body = Any  # a JSON-able value, or Raw(...) for text or bytes that are not JSON


class Raw:
    """A body that is not JSON: text as it comes, or bytes sent base64-encoded."""

    def __init__(self, text: str, *, base64_bytes: bytes | None = None) -> None:
        self.text = text
        self.base64_bytes = base64_bytes


def tok(n: int, value: Any = None) -> dict[str, Any]:
    return {"token_list": [value if value is not None else f"t{i}" for i in range(n)]}


def one_account(**account: Any) -> dict[str, Any]:
    return {"account_list": [account]}


def token_accounts(*items: Any) -> dict[str, Any]:
    return {"token_accounts": list(items)}


TA = {"token": "t1", "account_list": [{"account": "ab"}]}

# (id, body, routes it applies to; None = every POST route)
CATALOGUE: list[tuple[str, Body, set[str] | None]] = [
    ("empty-body", Raw(""), None),
    ("whitespace-body", Raw("   \n"), None),
    ("null", None, None),
    ("array", [], None),
    ("number", 123, None),
    ("string", "token1", None),
    ("truncated-json", Raw("{"), None),
    ("broken-array", Raw('{"token_list": [}'), None),
    ("single-quotes", Raw("{'token_list': ['t1']}"), None),
    ("trailing-garbage", Raw('{"token_list": ["t1"]} trailing'), None),
    ("nan", Raw('{"token_list": NaN}'), None),
    ("deep-nesting", Raw("[" * 100_000 + "]" * 100_000), None),
    ("huge-body", Raw('{"token_list": ["' + "x" * (7 * 1024 * 1024) + '"]}'), None),
    ("invalid-utf8", Raw("", base64_bytes=b'{"token_list": ["\xff\xfe"]}'), None),
    ("empty-object", {}, None),
    ("list-null", {"token_list": None}, None),
    ("list-string", {"token_list": "t1"}, None),
    ("list-empty", {"token_list": []}, None),
    ("token-empty", tok(1, ""), None),
    ("token-null", tok(1, None) | {"token_list": [None]}, None),
    ("token-nested", tok(1, ["t1"]), None),
    ("token-number", tok(1, 12345), None),
    ("token-65-chars", tok(1, "x" * 65), None),
    ("token-1mb", tok(1, "x" * 1_000_000), None),
    ("token-space", tok(1, "to ken"), None),
    ("token-unicode", tok(1, "tökén"), None),
    ("token-emoji", tok(1, "📱📱"), None),
    ("token-nul", tok(1, "t\u0000"), None),
    ("token-lone-surrogate", Raw('{"token_list": ["\\ud800"]}'), None),
    ("token-shell-injection", tok(1, "$(rm -rf /)"), None),
    ("token-sql-injection", tok(1, "t1'; DROP TABLE tokens;--"), None),
    ("token-html", tok(1, "<script>alert(1)</script>"), None),
    ("10000-bad-items", {"token_list": list(range(10_000))}, None),
    ("10000-items", tok(10_000), {"unbind", "query"}),
    (
        "10000-token-accounts",
        token_accounts(*[{**TA, "token": f"t{i}"} for i in range(10_000)]),
        {"bind"},
    ),
    ("duplicate-tokens", {"token_list": ["t1", "t1"]}, {"unbind", "query"}),
    ("two-list-fields", {"token_list": ["t1"], "account_list": [{"account": "ab"}]}, None),
    ("unknown-field", {"token_list": ["t1"], "tokens": ["t2"]}, None),
    ("injection-field-name", {"token_list; DROP TABLE x": ["t1"]}, None),
    ("proto-pollution", {"__proto__": {"admin": True}, "token_list": ["t1"]}, None),
    ("mongo-operator", {"$where": "1 == 1", "token_list": ["t1"]}, None),
    ("account-short", one_account(account="a"), None),
    ("account-101", one_account(account="a" * 101), None),
    ("account-number", one_account(account=42), None),
    ("account-blank", one_account(account="   "), None),
    ("account-control", one_account(account="ab\u0007"), None),
    ("account-lone-surrogate", Raw('{"account_list": [{"account": "ab\\udfff"}]}'), None),
    ("account-type-string", one_account(account="ab", account_type="0"), None),
    ("account-type-unknown", one_account(account="ab", account_type=2000), None),
    ("account-type-negative", one_account(account="ab", account_type=-1), None),
    ("account-type-float", one_account(account="ab", account_type=1.5), None),
    ("account-type-bool", one_account(account="ab", account_type=True), None),
    ("account-extra-field", one_account(account="ab", role="admin"), None),
    ("account-not-object", {"account_list": ["ab"]}, None),
    ("token-accounts-string", {"token_accounts": "x"}, None),
    ("token-accounts-number-item", token_accounts(1), None),
    ("token-accounts-no-accounts", token_accounts({"token": "t1"}), None),
    ("token-accounts-empty-accounts", token_accounts({"token": "t1", "account_list": []}), None),
    (
        "token-accounts-101-accounts",
        token_accounts(
            {"token": "t1", "account_list": [{"account": f"a{i:03d}"} for i in range(101)]}
        ),
        None,
    ),
    ("operator-type-9", tok(1) | {"operator_type": 9}, None),
    ("operator-type-string", tok(1) | {"operator_type": "4"}, None),
    ("operator-type-disagrees", tok(1) | {"operator_type": 5}, None),
    ("operator-type-zero", tok(1) | {"operator_type": 0}, None),
    ("app-trailing-newline", tok(1) | {"app": "android\n"}, None),
    ("100000-bad-items", {"token_list": [1] * 100_000}, None),
    ("app-path-traversal", tok(1) | {"app": "../../etc/passwd"}, None),
    ("app-unknown", tok(1) | {"app": "web"}, None),
    ("app-number", tok(1) | {"app": 7}, None),
    ("app-empty", tok(1) | {"app": ""}, None),
    ("platform-unknown", tok(1) | {"platform": "web"}, None),
]

POST_ROUTES = {
    "bind": ("bind", "bind"),
    "unbind": ("unbind", "unbind-token-list"),
    "query": ("query", "query-token-list"),
    "jobs": ("jobs", "jobs-unbind"),
}
FIELD_FIRST = re.compile(r"^[A-Za-z_$][\w$;. \[\]-]*: ")


def for_route(route: str, body: Body) -> Body:
    """Jobs need an operation; give it one so the catalogue reaches the deeper checks."""
    if route == "jobs" and isinstance(body, dict):
        operation = "bind" if "token_accounts" in body else "unbind"
        return {"operation": operation, **body}
    tokens = body.get("token_list") if isinstance(body, dict) else None
    if route == "bind" and isinstance(tokens, list) and tokens:
        # bind takes token_accounts only: put the hostile token where bind reads it
        rest = {k: v for k, v in body.items() if k != "token_list"}
        hostile = [{"token": tokens[0], "account_list": [{"account": "ab"}]}]
        return {**rest, "token_accounts": hostile}
    return body


def event_for(route: str, body: Body) -> dict[str, Any]:
    _, event_name = POST_ROUTES[route]
    if not isinstance(body, Raw):
        return api_event(event_name, body)
    event = api_event(event_name, raw_body=body.text)
    if body.base64_bytes is not None:
        event["body"] = base64.b64encode(body.base64_bytes).decode()
        event["isBase64Encoded"] = True
    return event


CASES = [
    pytest.param(route, body, id=f"{route}-{name}")
    for name, body, routes in CATALOGUE
    for route in POST_ROUTES
    if routes is None or route in routes
]


def assert_clear_4xx(answer: Answer) -> None:
    """A 4xx whose message starts with the field at fault, and no stack trace."""
    assert 400 <= answer.status < 500, answer
    error = answer.body["error"]
    assert error["code"] in {"validation_error", "unknown_app", "payload_too_large"}
    message = error["message"]
    assert FIELD_FIRST.match(message), message
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(("route", "body"), CASES)
def test_hostile_post_bodies_get_a_4xx_naming_the_problem(
    api: ApiFunctions, emulator: TpnsEmulator, route: str, body: Body
) -> None:
    # GIVEN a malformed or hostile body for a POST route
    function, _ = POST_ROUTES[route]
    event = event_for(route, for_route(route, body))
    # WHEN the route's function is invoked with it
    answer = api(function, event)
    # THEN it answers a 4xx naming the problem, and nothing reached TPNS
    assert_clear_4xx(answer)
    assert emulator.stats.requests == 0


def test_undecodable_path_parameter_is_a_400_naming_it(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN a lookup whose account is not UTF-8 once URL-decoded
    event = api_event("get-account-tokens", path="/v1/accounts/%ff%fe/tokens")
    # WHEN the query function is invoked with it
    answer = api("query", event)
    # THEN it answers 400 naming the path parameter, and nothing reached TPNS
    assert answer.status == 400
    assert answer.body["error"]["message"] == "account: is not valid UTF-8 once URL-decoded"
    assert emulator.stats.requests == 0


def test_a_body_that_is_not_text_is_a_400(api: ApiFunctions) -> None:
    # GIVEN an event whose body is an object, not JSON text
    event = api_event("unbind-token-list")
    event["body"] = {"token_list": ["t1"]}
    # WHEN the unbind function is invoked with it
    answer = api("unbind", event)
    # THEN it answers 400: the body must be JSON text
    assert answer.status == 400
    assert answer.body["error"]["message"] == "body: must be JSON text"


def test_an_oversized_invalid_list_is_refused_before_item_validation(api: ApiFunctions) -> None:
    # GIVEN a list of 100,000 invalid tokens
    event = api_event("unbind-token-list", {"token_list": [1] * 100_000})
    # WHEN the unbind function is invoked with it
    answer = api("unbind", event)
    # THEN it answers a short 413, without an issue per item
    assert answer.status == 413
    assert len(answer.text) < 1_000


def test_item_issues_are_capped_with_a_count(api: ApiFunctions) -> None:
    # GIVEN a job of 5,000 invalid tokens (within the jobs limit)
    event = api_event("jobs-unbind", {"operation": "unbind", "token_list": [1] * 5_000})
    # WHEN the jobs function is invoked with it
    answer = api("jobs", event)
    # THEN it answers 400 with 20 issues, and the message counts the rest
    assert answer.status == 400
    assert len(answer.body["error"]["details"]) == 20
    assert answer.body["error"]["message"].endswith("(and 4995 more)")


def test_invalid_base64_body_is_a_400(api: ApiFunctions) -> None:
    # GIVEN an event marked base64-encoded whose body is not base64
    event = api_event("unbind-token-list", raw_body="!!not base64!!")
    event["isBase64Encoded"] = True
    # WHEN the unbind function is invoked with it
    answer = api("unbind", event)
    # THEN it answers 400 saying so
    assert answer.status == 400
    assert answer.body["error"]["message"] == "body: is not valid base64"


DEEP_CURSOR = base64.urlsafe_b64encode(b"[" * 1500).decode()  # (within the 2,048 characters)
GET_CASES = [
    ("get-account-tokens", {"account": "a"}, None),
    ("get-account-tokens", {"account": "x" * 101}, None),
    ("get-account-tokens", {"account": "ab\u0001"}, None),
    ("get-account-tokens", {"account": "926@126.com"}, {"account_type": "abc"}),
    ("get-account-tokens", {"account": "926@126.com"}, {"account_type": "-1"}),
    ("get-account-tokens", {"account": "926@126.com"}, {"account_type": "99999"}),
    ("get-account-tokens", {"account": "926@126.com"}, {"account_type": "1e3"}),
    ("get-account-tokens", {"account": "926@126.com"}, {"app": "../etc"}),
    ("get-account-tokens", {"account": "926@126.com"}, {"app": "web"}),
    ("get-token-accounts", {"token": "to ken"}, None),
    ("get-token-accounts", {"token": "x" * 65}, None),
    ("get-token-accounts", {"token": "tökén"}, None),
    ("get-token-accounts", {"token": "t1'; DROP TABLE x;--"}, None),
    ("get-token-accounts", {"token": "token1"}, {"app": "<script>"}),
    ("get-account-tokens", {"account": "926@126.com"}, {"account_type": "²"}),
    ("get-account-tokens", {"account": "926@126.com"}, {"account_type": "\u0661"}),
    ("get-account-tokens", {"account": "926@126.com"}, {"account_type": "9" * 5000}),
    ("get-account-tokens", {"account": "926@126.com"}, {"app": "android\n"}),
    ("get-account-bindings", {"account": "926@126.com"}, {"cursor": "bm90IGpzb24"}),
    # a cursor of JSON nested deeper than the parser goes
    ("get-account-bindings", {"account": "926@126.com"}, {"cursor": DEEP_CURSOR}),
]


@pytest.mark.parametrize(("event_name", "path", "query"), GET_CASES)
def test_hostile_lookups_get_a_4xx_naming_the_problem(
    api: ApiFunctions,
    emulator: TpnsEmulator,
    event_name: str,
    path: dict[str, str],
    query: dict[str, str] | None,
) -> None:
    # GIVEN a lookup with a malformed or hostile path parameter or query string
    event = api_event(event_name, path_parameters=path, query=query or {})
    # WHEN the query function is invoked with it
    answer = api("query", event)
    # THEN it answers a 4xx naming the problem, and nothing reached TPNS
    assert_clear_4xx(answer)
    assert emulator.stats.requests == 0


def test_the_catalogue_is_at_least_fifty_requests() -> None:
    # GIVEN the catalogues of hostile bodies and lookups
    # WHEN they are counted, and the bodies crossed with the POST routes
    requests, cases = len(CATALOGUE) + len(GET_CASES), len(CASES)
    # THEN there are at least 50 requests, and at least 200 cases
    assert requests >= 50
    assert cases >= 200


def test_error_bodies_carry_the_request_id(api: ApiFunctions) -> None:
    # GIVEN a bind event with truncated JSON
    event = api_event("bind", raw_body="{")
    # WHEN the bind function is invoked with it
    answer = api("bind", event)
    # THEN the error body carries API Gateway's request id
    assert answer.body["request_id"] == event["requestContext"]["requestId"]
    assert json.loads(answer.text)["error"]["code"] == "validation_error"
