"""The OpenAPI spec: committed, current, and in agreement with the validators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tpns_account import RequestValidationError
from tpns_api.http import contract
from tpns_api.http.openapi import build_spec, spec_json

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "openapi.json"
EVENTS = ROOT / "events" / "api"


def test_committed_spec_is_current() -> None:
    # GIVEN the spec generated from the models WHEN compared THEN the committed copy matches
    assert COMMITTED.read_text() == spec_json(), "docs/openapi.json is stale: run `make openapi`"


def test_spec_is_valid_openapi_3_1_shaped() -> None:
    spec = build_spec()
    assert spec["openapi"] == "3.1.0"
    assert set(spec["paths"]) == {
        "/v1/bind",
        "/v1/unbind",
        "/v1/query",
        "/v1/accounts/{account}/tokens",
        "/v1/tokens/{token}/accounts",
        "/v1/jobs",
    }
    jsonschema.Draft202012Validator.check_schema(spec["components"]["schemas"]["UnbindBody"])


def schema_for(name: str) -> dict[str, Any]:
    spec = build_spec()
    return {"$defs": spec["components"]["schemas"], **spec["components"]["schemas"][name]}


def _resolve_refs(schema: Any) -> Any:
    text = json.dumps(schema).replace("#/components/schemas/", "#/$defs/")
    return json.loads(text)


BODIES = [
    ("BindBody", contract.parse_bind, "bind"),
    ("UnbindBody", contract.parse_unbind, "unbind-token-accounts"),
    ("UnbindBody", contract.parse_unbind, "unbind-token-list"),
    ("UnbindBody", contract.parse_unbind, "unbind-account-list"),
    ("QueryBody", contract.parse_query, "query-account-list"),
    ("QueryBody", contract.parse_query, "query-token-list"),
    ("JobBody", contract.parse_job, "jobs-bind"),
    ("JobBody", contract.parse_job, "jobs-unbind"),
]


@pytest.mark.parametrize(("schema_name", "parse", "event"), BODIES)
def test_canonical_bodies_satisfy_both_the_spec_and_the_validator(
    schema_name: str, parse: Any, event: str
) -> None:
    body = json.loads(json.loads((EVENTS / f"{event}.json").read_text())["body"])
    jsonschema.validate(body, _resolve_refs(schema_for(schema_name)))
    parse(body)


MUTATIONS = [
    ("token too long", lambda b: b["token_accounts"][0].__setitem__("token", "x" * 65)),
    ("bad token character", lambda b: b["token_accounts"][0].__setitem__("token", "a b")),
    (
        "account too short",
        lambda b: b["token_accounts"][0]["account_list"][0].__setitem__("account", "a"),
    ),
    (
        "unknown account type",
        lambda b: b["token_accounts"][0]["account_list"][0].__setitem__("account_type", 3000),
    ),
    ("empty list", lambda b: b.__setitem__("token_accounts", [])),
    ("unknown field", lambda b: b.__setitem__("tokens", [])),
    ("wrong operator type", lambda b: b.__setitem__("operator_type", 3)),
]


@pytest.mark.parametrize(("name", "mutate"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_spec_and_validator_reject_the_same_bodies(name: str, mutate: Any) -> None:
    body = json.loads(json.loads((EVENTS / "bind.json").read_text())["body"])
    mutate(body)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, _resolve_refs(schema_for("BindBody")))
    with pytest.raises(RequestValidationError):
        contract.parse_bind(body)
