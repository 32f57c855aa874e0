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

from tpns_api.http import contract, lookups
from tpns_api.http.schemas import APP, NAME, Schema, ref, schemas
from tpns_api.http.schemas import pattern as _pattern

JSON = "application/json"


ERROR_MEANINGS = {
    400: "Invalid request (the message names the field), or unknown app (`unknown_app`).",
    404: "No such job (`job_not_found`), or no ledger in this deployment (`ledger_off`).",
    409: "job_id taken (`job_exists`), or the Idempotency-Key's first request still running.",
    422: "The Idempotency-Key was used with another body (`idempotency_key_reused`).",
    413: "More items than a synchronous request takes; use POST /v1/jobs.",
    429: "TPNS is throttling the app; see Retry-After.",
    502: "TPNS refused the credentials, configuration or app state (tpns_code in details).",
    503: "TPNS, the queue or DynamoDB unreachable after retries (nothing was sent).",
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


def _jobs_post() -> dict[str, Any]:
    operation = _post(
        "Queue a bulk bind, unbind, backfill or export of any size", "JobBody", "JobAccepted", 202
    )
    operation["parameters"] = [
        {
            "name": contract.IDEMPOTENCY_KEY,
            "in": "header",
            "required": False,
            "description": "The same key and body within 24 h answer the same job again.",
            "schema": {"type": "string", "pattern": _pattern(contract.IDEMPOTENCY_KEY_REGEX)},
        }
    ]
    operation["responses"] = {
        **operation["responses"],
        **errors(409, 422),
    }
    operation["responses"]["202"]["headers"] = {
        "Location": {"schema": {"type": "string"}, "description": "Where to watch the job."}
    }
    operation["responses"].pop("413")
    return operation


def _read(summary: str, answer: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """A GET answered from the bundle's own tables (jobs, ledger)."""
    return {
        "summary": summary,
        "parameters": parameters,
        "responses": {**_ok(answer), **errors(400, 404, 503)},
    }


def _query_parameter(name: str, schema: Schema) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _path_parameter(name: str, schema: Schema) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


APP_PARAMETER = _query_parameter("app", APP)
JOB_ID_PARAMETER = _path_parameter("job_id", NAME)
PAGE_PARAMETERS = [
    _query_parameter(
        "limit",
        {
            "type": "integer",
            "minimum": 1,
            "maximum": lookups.MAX_PAGE,
            "default": lookups.DEFAULT_PAGE,
        },
    ),
    _query_parameter("cursor", {"type": "string", "pattern": _pattern(lookups.CURSOR_REGEX)}),
]


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
            "version": "1.1.0",
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
            "/v1/jobs": {"post": _jobs_post()},
            "/v1/jobs/{job_id}": {
                "get": _read("A job: its state and counts", "Job", [JOB_ID_PARAMETER])
            },
            "/v1/jobs/{job_id}/failures": {
                "get": _read(
                    "A page of a job's failed, dead-lettered and unverified items",
                    "JobFailures",
                    [JOB_ID_PARAMETER, *PAGE_PARAMETERS],
                )
            },
            "/v1/tokens/{token}/bindings": {
                "get": _read(
                    "What the ledger holds for a token (not asking TPNS)",
                    "Bindings",
                    [_path_parameter("token", ref("Token")), APP_PARAMETER],
                )
            },
            "/v1/accounts/{account}/bindings": {
                "get": _read(
                    "A page of the tokens the ledger holds for an account (not asking TPNS)",
                    "Bindings",
                    [
                        _path_parameter("account", ref("AccountName")),
                        _query_parameter("account_type", ref("AccountType")),
                        APP_PARAMETER,
                        *PAGE_PARAMETERS,
                    ],
                )
            },
        },
        "components": {
            "schemas": schemas(),
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
