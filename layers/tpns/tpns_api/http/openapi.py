"""The OpenAPI 3 document of the HTTP API, built from the validators' own definitions.

Every bound (lengths, patterns, account types, operator types, names) comes from
``tpns_account.limits`` and ``tpns_api.http.contract``, so the spec says exactly what the API
accepts; ``docs/openapi.json`` is this output, committed, and a test fails when it is stale
(regenerate with ``make openapi``).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tpns_account import limits
from tpns_api.http import contract

JSON = "application/json"
Schema = dict[str, Any]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _pattern(regex: str) -> str:
    return f"^{regex}"


UNIQUE = (
    " Each at most once: a token (or an account of one type) listed twice is refused with 400"
    " (the spec can only say it of identical items)."
)


def _list(item: Schema, description: str, *, unique: bool) -> Schema:
    """A list field; a synchronous request refuses repeats, a job merges them."""
    schema: Schema = {"type": "array", "minItems": 1, "items": item}
    if unique:
        return {**schema, "uniqueItems": True, "description": description + UNIQUE}
    return {**schema, "description": description + " Repeats are merged (see merged_duplicates)."}


TOKEN: Schema = {
    "type": "string",
    "minLength": limits.TOKEN_MIN_BYTES,
    "maxLength": limits.TOKEN_MAX_BYTES,
    "pattern": _pattern(limits.TOKEN_REGEX),
    "description": f"A TPNS device token: 1-64 bytes of {limits.TOKEN_CHARACTERS}.",
    "example": "token1",
}
ACCOUNT_NAME: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": limits.ACCOUNT_MAX_CHARS,
    "pattern": _pattern(limits.ACCOUNT_REGEX),
    "description": (
        f"At least {limits.ACCOUNT_MIN_BYTES} bytes of UTF-8 (one CJK character is 3) and at "
        f"most {limits.ACCOUNT_MAX_CHARS} characters; not blank, no control characters."
    ),
    "example": "926@126.com",
}
ACCOUNT_TYPE: Schema = {
    "type": "integer",
    "enum": sorted(limits.ACCOUNT_TYPES),
    "description": (
        "TPNS account type: 0 default, 1-16 custom, 1002 mobile, 1005 email... When absent, "
        "none is sent and TPNS applies its default (0)."
    ),
}
NAME: Schema = {"type": "string", "pattern": _pattern(contract.NAME_REGEX)}
APP: Schema = {
    **NAME,
    "description": (
        "Which app of the secret to use; omitted: its default app. A name the secret does not "
        "hold answers 400 unknown_app."
    ),
    "example": "default",
}


def _schemas() -> dict[str, Schema]:
    account = {
        "type": "object",
        "required": ["account"],
        "additionalProperties": False,
        "properties": {"account": ref("AccountName"), "account_type": ref("AccountType")},
    }

    def token_accounts(*, unique: bool) -> Schema:
        accounts: Schema = {
            "type": "array",
            "minItems": 1,
            "maxItems": limits.MAX_ACCOUNTS_PER_TOKEN_ENTRY,
            "items": ref("Account"),
        }
        return {
            "type": "object",
            "required": ["token", "account_list"],
            "additionalProperties": False,
            "properties": {
                "token": ref("Token"),
                "account_list": {**accounts, "uniqueItems": True} if unique else accounts,
            },
        }

    common = {
        "app": APP,
        "platform": {
            "type": "string",
            "enum": sorted(limits.PLATFORMS),
            "description": "Deprecated by TPNS; passed through.",
        },
        "account_type": {
            **ref("AccountType"),
            "description": "The type of every account element that has none.",
        },
    }
    items = {
        "token_accounts": "Tokens and their accounts.",
        "token_list": "Tokens.",
        "account_list": "Accounts.",
    }
    item_schemas = {"token_list": ref("Token"), "account_list": ref("Account")}

    def body(list_field: str, operators: list[int], *, unique: bool = True) -> Schema:
        description = items[list_field]
        if list_field == "token_accounts":
            item = ref("TokenAccounts" if unique else "JobTokenAccounts")
        else:
            item = item_schemas[list_field]
        return {
            "type": "object",
            "required": [list_field],
            "additionalProperties": False,
            "properties": {
                list_field: _list(item, description, unique=unique),
                **common,
                "operator_type": {
                    "type": "integer",
                    "enum": operators,
                    "description": "Optional; derived from the route and list field, must agree.",
                },
            },
        }

    def job(operation: str, list_field: str, operators: list[int]) -> Schema:
        branch = body(list_field, operators, unique=False)
        branch["properties"] = {
            "operation": {"const": operation},
            "job_id": {**NAME, "description": "Optional; generated when absent."},
            **branch["properties"],
        }
        branch["required"] = ["operation", list_field]
        return branch

    nullable_type = {"type": ["integer", "null"], "description": "null: none was given."}
    item_result = {
        "type": "object",
        "required": ["index", "status", "code"],
        "properties": {
            "index": {"type": "integer"},
            "token": {"type": "string"},
            "account": {"type": "string"},
            "account_type": nullable_type,
            "status": {"type": "string", "enum": ["accepted", "failed", "found", "not_found"]},
            "code": {"type": "integer", "description": "TPNS per-item code (0 = success)."},
            "reason": {"type": "string"},
        },
    }
    return {
        "Token": TOKEN,
        "AccountName": ACCOUNT_NAME,
        "AccountType": ACCOUNT_TYPE,
        "Account": account,
        "TokenAccounts": token_accounts(unique=True),
        "JobTokenAccounts": token_accounts(unique=False),
        "BindBody": body("token_accounts", [1, 2]),
        "UnbindBody": {
            "oneOf": [
                body("token_accounts", [3]),
                body("token_list", [4]),
                body("account_list", [5]),
            ]
        },
        "QueryBody": {"oneOf": [body("account_list", [1]), body("token_list", [2])]},
        "JobBody": {
            "oneOf": [
                job("bind", "token_accounts", [1, 2]),
                job("unbind", "token_accounts", [3]),
                job("unbind", "token_list", [4]),
                job("unbind", "account_list", [5]),
            ]
        },
        "ItemResult": item_result,
        "BatchAnswer": {
            "type": "object",
            "properties": {
                "operation": {"type": "string", "enum": ["bind", "unbind"]},
                "operator_type": {"type": "integer"},
                "accepted": {"type": "integer"},
                "failed": {"type": "integer"},
                "results": {"type": "array", "items": ref("ItemResult")},
                "warnings": {"type": "array", "items": {"type": "string"}},
            },
        },
        "QueryAnswer": {
            "type": "object",
            "properties": {
                "operation": {"type": "string", "enum": ["query"]},
                "operator_type": {"type": "integer", "enum": [1, 2]},
                "account_tokens": {"type": "array", "items": {"type": "object"}},
                "token_accounts": {"type": "array", "items": {"type": "object"}},
                "found": {"type": "integer"},
                "not_found": {"type": "integer"},
                "results": {"type": "array", "items": ref("ItemResult")},
            },
        },
        "JobAccepted": {
            "type": "object",
            "properties": {
                "job_id": {"type": "string"},
                "operation": {"type": "string"},
                "operator_type": {"type": "integer"},
                "items": {"type": "integer"},
                "merged_duplicates": {"type": "integer"},
                "messages": {"type": "integer"},
            },
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "example": "validation_error"},
                        "message": {"type": "string"},
                        "details": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "request_id": {"type": ["string", "null"]},
            },
        },
    }


ERROR_MEANINGS = {
    400: "Invalid request (the message names the field), or unknown app (`unknown_app`).",
    413: "More items than a synchronous request takes; use POST /v1/jobs.",
    429: "TPNS is throttling the app; see Retry-After.",
    502: "TPNS refused the credentials, configuration or app state (tpns_code in details).",
    503: "TPNS (or the queue) unreachable after retries.",
    504: "TPNS timed out after retries.",
}


def errors(*statuses: int) -> dict[str, Any]:
    content = {JSON: {"schema": ref("Error")}}
    return {str(s): {"description": ERROR_MEANINGS[s], "content": content} for s in statuses}


def _ok(answer: str, status: int = 200) -> dict[str, Any]:
    return {str(status): {"description": "OK", "content": {JSON: {"schema": ref(answer)}}}}


def _post(summary: str, body: str, answer: str, ok: int = 200) -> dict[str, Any]:
    return {
        "summary": summary,
        "requestBody": {"required": True, "content": {JSON: {"schema": ref(body)}}},
        "responses": {**_ok(answer, ok), **errors(400, 413, 429, 502, 503, 504)},
    }


def _query_parameter(name: str, schema: Schema) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _path_parameter(name: str, schema: Schema) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


APP_PARAMETER = _query_parameter("app", APP)


def _lookup(summary: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": parameters,
        "responses": {**_ok("QueryAnswer"), **errors(400, 429, 502, 503, 504)},
    }


def build_spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "TPNS account bindings",
            "version": "1.0.0",
            "description": (
                "Bind, unbind and query Tencent Push (TPNS) token-account bindings. "
                "Bind and unbind answers say `accepted`: TPNS applies them asynchronously."
            ),
        },
        "security": [{"sigv4": []}, {"api_key": []}],
        "paths": {
            "/v1/bind": {
                "post": _post(
                    "Bind tokens to accounts (operator_type 2)", "BindBody", "BatchAnswer"
                )
            },
            "/v1/unbind": {
                "post": _post(
                    "Unbind (operator_type 3, 4 or 5, by list field)", "UnbindBody", "BatchAnswer"
                )
            },
            "/v1/query": {
                "post": _post(
                    "Query bindings (type 1 by account, 2 by token)", "QueryBody", "QueryAnswer"
                )
            },
            "/v1/accounts/{account}/tokens": {
                "get": _lookup(
                    "Tokens bound to one account",
                    [
                        _path_parameter("account", ref("AccountName")),
                        _query_parameter("account_type", ref("AccountType")),
                        APP_PARAMETER,
                    ],
                )
            },
            "/v1/tokens/{token}/accounts": {
                "get": _lookup(
                    "Accounts bound to one token",
                    [_path_parameter("token", ref("Token")), APP_PARAMETER],
                )
            },
            "/v1/jobs": {
                "post": _post(
                    "Queue a bulk bind/unbind of any size", "JobBody", "JobAccepted", ok=202
                )
            },
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "sigv4": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                },
                "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
            },
        },
    }


@cache
def spec_json() -> str:
    return json.dumps(build_spec(), indent=2, sort_keys=False) + "\n"
