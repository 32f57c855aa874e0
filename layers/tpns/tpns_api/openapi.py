"""The OpenAPI 3 document of the HTTP API, built from the validators' own limits.

The schemas take every bound (lengths, account types, operator types) from ``tpns_account.models``
so the spec cannot drift from what is enforced; ``docs/openapi.json`` is this output, committed,
and a test fails when it is stale (regenerate with ``make openapi``).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tpns_account import models

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(item: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "items": item, "description": description}


def _schemas() -> dict[str, Any]:
    token = {
        "type": "string",
        "minLength": models.TOKEN_MIN,
        "maxLength": models.TOKEN_MAX,
        "pattern": f"^{models.TOKEN_PATTERN.pattern}$",
        "description": f"A TPNS device token ({models.TOKEN_CHARACTERS}).",
        "example": "token1",
    }
    account = {
        "type": "object",
        "required": ["account"],
        "additionalProperties": False,
        "properties": {
            "account": {
                "type": "string",
                "minLength": models.ACCOUNT_MIN,
                "maxLength": models.ACCOUNT_MAX,
                "example": "926@126.com",
            },
            "account_type": {
                "type": "integer",
                "enum": sorted(models.ACCOUNT_TYPES),
                "default": 0,
                "description": "TPNS account type: 0 default, 1-16 custom, 1002 mobile...",
            },
        },
    }
    token_accounts = {
        "type": "object",
        "required": ["token", "account_list"],
        "additionalProperties": False,
        "properties": {
            "token": _ref("Token"),
            "account_list": {
                "type": "array",
                "minItems": 1,
                "maxItems": models.MAX_ACCOUNTS_PER_TOKEN,
                "items": _ref("Account"),
            },
        },
    }
    common = {
        "app": {
            "type": "string",
            "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
            "description": "Which app of the secret to use; omitted means its default app.",
        },
        "platform": {
            "type": "string",
            "enum": sorted(models.PLATFORMS),
            "description": "Deprecated by TPNS; passed through.",
        },
    }
    token_accounts_list = _list(_ref("TokenAccounts"), "Tokens and their accounts.")
    token_list = _list(_ref("Token"), "Tokens.")
    account_list = _list(_ref("Account"), "Accounts.")

    def body(list_field: str, schema: dict[str, Any], operator: list[int] | None) -> dict[str, Any]:
        properties = {list_field: schema, **common}
        if operator:
            properties["operator_type"] = {
                "type": "integer",
                "enum": operator,
                "description": "Optional; derived from the route and list field, must agree.",
            }
        return {
            "type": "object",
            "required": [list_field],
            "additionalProperties": False,
            "properties": properties,
        }

    job_properties = {
        "operation": {"type": "string", "enum": ["bind", "unbind"]},
        "job_id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"},
    }

    def job(
        operation: str, list_field: str, schema: dict[str, Any], operator: list[int]
    ) -> dict[str, Any]:
        branch = body(list_field, schema, operator)
        branch["properties"] = {**job_properties, **branch["properties"]}
        branch["properties"]["operation"] = {"const": operation}
        branch["required"] = ["operation", list_field]
        return branch

    job_branches = [
        ("bind", "token_accounts", token_accounts_list, [1, 2]),
        ("unbind", "token_accounts", token_accounts_list, [3]),
        ("unbind", "token_list", token_list, [4]),
        ("unbind", "account_list", account_list, [5]),
    ]
    item_result = {
        "type": "object",
        "required": ["index", "status", "code"],
        "properties": {
            "index": {"type": "integer"},
            "token": {"type": "string"},
            "account": {"type": "string"},
            "account_type": {"type": "integer"},
            "status": {"type": "string", "enum": ["accepted", "failed", "found", "not_found"]},
            "code": {"type": "integer", "description": "TPNS per-item code (0 = success)."},
            "reason": {"type": "string"},
        },
    }
    return {
        "Token": token,
        "Account": account,
        "TokenAccounts": token_accounts,
        "BindBody": body("token_accounts", token_accounts_list, [1, 2]),
        "UnbindBody": {
            "oneOf": [
                body("token_accounts", token_accounts_list, [3]),
                body("token_list", token_list, [4]),
                body("account_list", account_list, [5]),
            ]
        },
        "QueryBody": {
            "oneOf": [body("account_list", account_list, [1]), body("token_list", token_list, [2])]
        },
        "JobBody": {"oneOf": [job(*branch) for branch in job_branches]},
        "ItemResult": item_result,
        "BatchAnswer": {
            "type": "object",
            "properties": {
                "operation": {"type": "string", "enum": ["bind", "unbind"]},
                "operator_type": {"type": "integer"},
                "accepted": {"type": "integer"},
                "failed": {"type": "integer"},
                "results": {"type": "array", "items": _ref("ItemResult")},
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
                "results": {"type": "array", "items": _ref("ItemResult")},
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


def _errors(*statuses: int) -> dict[str, Any]:
    meaning = {
        400: "Invalid request; the message names the field.",
        413: "More items than a synchronous request takes; use POST /v1/jobs.",
        429: "TPNS is throttling the app; see Retry-After.",
        502: "TPNS refused the credentials, configuration or app state (tpns_code in details).",
        503: "TPNS unreachable after retries.",
        504: "TPNS timed out after retries.",
    }
    content = {JSON: {"schema": _ref("Error")}}
    return {str(s): {"description": meaning[s], "content": content} for s in statuses}


def _operation(summary: str, body: str | None, answer: str, ok: int = 200) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary}
    if body:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref(body)}}}
    operation["responses"] = {
        str(ok): {"description": "OK", "content": {JSON: {"schema": _ref(answer)}}},
        **_errors(400, 413, 429, 502, 503, 504),
    }
    return operation


def build_spec() -> dict[str, Any]:
    app_param = {"name": "app", "in": "query", "required": False, "schema": {"type": "string"}}
    lookup_errors = _errors(400, 429, 502, 503, 504)
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
                "post": _operation(
                    "Bind tokens to accounts (operator_type 2)", "BindBody", "BatchAnswer"
                )
            },
            "/v1/unbind": {
                "post": _operation(
                    "Unbind (operator_type 3, 4 or 5, by list field)", "UnbindBody", "BatchAnswer"
                )
            },
            "/v1/query": {
                "post": _operation(
                    "Query bindings (type 1 by account, 2 by token)", "QueryBody", "QueryAnswer"
                )
            },
            "/v1/accounts/{account}/tokens": {
                "get": {
                    "summary": "Tokens bound to one account",
                    "parameters": [
                        {
                            "name": "account",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "account_type",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "default": 0},
                        },
                        app_param,
                    ],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {JSON: {"schema": _ref("QueryAnswer")}},
                        },
                        **lookup_errors,
                    },
                }
            },
            "/v1/tokens/{token}/accounts": {
                "get": {
                    "summary": "Accounts bound to one token",
                    "parameters": [
                        {"name": "token", "in": "path", "required": True, "schema": _ref("Token")},
                        app_param,
                    ],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {JSON: {"schema": _ref("QueryAnswer")}},
                        },
                        **lookup_errors,
                    },
                }
            },
            "/v1/jobs": {
                "post": _operation(
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


SWAGGER_UI_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>TPNS account bindings API</title>
  <link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js" crossorigin></script>
  <script>
    window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui"});
  </script>
</body>
</html>
"""
