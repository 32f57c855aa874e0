"""The OpenAPI document's schemas: request bodies and answers, from the validators' definitions.

Every bound (lengths, patterns, account types, operator types, names) comes from
``tpns_account.limits``, ``tpns_api.http.contract`` and ``tpns_api.http.lookups``.
"""

from __future__ import annotations

from typing import Any

from tpns_account import limits
from tpns_api.http import contract
from tpns_api.jobs.model import COUNTS, FINAL_STATES

Schema = dict[str, Any]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def pattern(regex: str) -> str:
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
    "pattern": pattern(limits.TOKEN_REGEX),
    "description": f"A TPNS device token: 1-64 bytes of {limits.TOKEN_CHARACTERS}.",
    "example": "token1",
}
ACCOUNT_NAME: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": limits.ACCOUNT_MAX_CHARS,
    "pattern": pattern(limits.ACCOUNT_REGEX),
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
NAME: Schema = {"type": "string", "pattern": pattern(contract.NAME_REGEX)}
APP: Schema = {
    **NAME,
    "description": (
        "Which app of the secret to use; omitted: its default app. A name the secret does not "
        "hold answers 400 unknown_app."
    ),
    "example": "default",
}


NEXT_CURSOR: Schema = {
    "type": ["string", "null"],
    "description": "Pass as cursor for the next page; null: this was the last.",
}


def object_schema(required: list[str], properties: Schema) -> Schema:
    """An object schema: the names it requires, then every property's schema."""
    return {"type": "object", "required": required, "properties": properties}


def page_of(item: str, **leading: Schema) -> Schema:
    """One page of a list of ``item``: the ``leading`` properties, the items, the next cursor."""
    properties = {
        **leading,
        "items": {"type": "array", "items": ref(item)},
        "next_cursor": NEXT_CURSOR,
    }
    return object_schema([*leading, "items", "next_cursor"], properties)


def schemas() -> dict[str, Schema]:
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

    job_id = {**NAME, "description": "Optional; generated when absent."}

    def job(operation: str, list_field: str, operators: list[int] | None) -> Schema:
        branch = body(list_field, operators or [], unique=False)
        branch["properties"] = {
            "operation": {"const": operation},
            "job_id": job_id,
            **branch["properties"],
        }
        if operators is None:  # a backfill only asks TPNS: no operator type
            del branch["properties"]["operator_type"]
        branch["required"] = ["operation", list_field]
        return branch

    export_job = {
        "type": "object",
        "required": ["operation"],
        "additionalProperties": False,
        "description": "Every binding of the app, from the ledger to S3 as JSON lines.",
        "properties": {"operation": {"const": "export"}, "job_id": job_id, "app": APP},
    }

    nullable_type = {"type": ["integer", "null"], "description": "null: none was given."}
    nullable_int: Schema = {"type": ["integer", "null"]}
    item_result = object_schema(
        ["index", "status", "code"],
        {
            "index": {"type": "integer"},
            "token": {"type": "string"},
            "account": {"type": "string"},
            "account_type": nullable_type,
            "status": {
                "type": "string",
                "enum": ["accepted", "failed", "superseded", "found", "not_found"],
                "description": "superseded: the ledger holds a later operation; nothing sent.",
            },
            "code": {
                "type": ["integer", "null"],
                "description": "TPNS per-item code (0 = success); null when nothing was sent.",
            },
            "reason": {"type": "string"},
        },
    )
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
                job("backfill", "token_list", None),
                job("backfill", "account_list", None),
                export_job,
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
                "superseded": {"type": "integer"},
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
        "JobAccepted": object_schema(
            ["job_id", "state", "operation", "status_url"],
            {
                "job_id": {"type": "string"},
                "state": {"const": "queued"},
                "operation": {"type": "string", "enum": list(contract.OPERATIONS)},
                "operator_type": {**nullable_int, "description": "null: a mix, or none."},
                "items": {**nullable_int, "description": "null: an export (counted as it goes)."},
                "merged_duplicates": {"type": "integer"},
                "messages": {"type": "integer"},
                "status_url": {"type": "string", "description": "As the Location header."},
                "replayed": {
                    "type": "boolean",
                    "description": "The answer to an earlier request with this Idempotency-Key.",
                },
            },
        ),
        "Job": object_schema(
            ["job_id", "state", "items", "messages", "failures_url"],
            {
                "job_id": {"type": "string"},
                "operation": {"type": "string", "enum": list(contract.OPERATIONS)},
                "operator_type": nullable_int,
                "app": {"type": ["string", "null"]},
                "source": {"type": "string", "enum": ["api", "cleanup", "export", "backfill"]},
                "state": {
                    "type": "string",
                    "enum": ["queued", "running", *sorted(FINAL_STATES)],
                    "description": "Final once no item is pending and every accepted item "
                    "is verified or unverified (ledger on); never changes after.",
                },
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"},
                "finished_at": {"type": ["string", "null"], "format": "date-time"},
                "items": {
                    "type": "object",
                    "description": "accepted + failed + dead_lettered + superseded + pending "
                    "== total; verified + unverified <= accepted.",
                    "properties": {
                        "total": nullable_int,
                        "pending": nullable_int,
                        **{name: {"type": "integer"} for name in COUNTS},
                    },
                },
                "messages": {
                    "type": "object",
                    "properties": {"total": nullable_int, "done": {"type": "integer"}},
                },
                "failures_url": {"type": "string"},
                "result": {"type": "object", "description": "What an export or cleanup made."},
            },
        ),
        "JobFailures": page_of("Failure", job_id={"type": "string"}),
        "Failure": object_schema(
            ["index", "outcome"],
            {
                "index": {"type": "integer", "description": "The item's place in the job."},
                "token": {"type": "string"},
                "account": {"type": "string"},
                "account_type": nullable_type,
                "outcome": {"type": "string", "enum": ["failed", "dead_lettered", "unverified"]},
                "code": {**nullable_int, "description": "TPNS's code, when TPNS refused it."},
                "reason": {"type": ["string", "null"]},
            },
        ),
        "Bindings": page_of("Binding"),
        "Binding": object_schema(
            ["token", "account", "account_type", "issued_at", "state"],
            {
                "token": {"type": "string"},
                "account": {"type": "string"},
                "account_type": {"type": "integer"},
                "issued_at": {
                    "type": "integer",
                    "description": "Epoch ms of the operation that bound it (0: backfilled).",
                },
                "state": {
                    "type": "string",
                    "enum": ["pending", "applied", "failed", "verified", "unverified"],
                },
            },
        ),
        "Error": object_schema(
            ["error"],
            {
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
        ),
    }
