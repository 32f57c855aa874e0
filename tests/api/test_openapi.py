"""The OpenAPI spec: committed, current, and in agreement with the validators."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from tests.support.api_events import api_event_body
from tests.support.paths import OPENAPI_PATH
from tpns_account import RequestValidationError
from tpns_api.http import contract
from tpns_api.http.openapi import build_spec, spec_json


def test_committed_spec_is_current() -> None:
    # GIVEN the committed docs/openapi.json
    committed = OPENAPI_PATH.read_text()
    # WHEN the spec is generated from the models
    generated = spec_json()
    # THEN the committed copy matches it
    assert committed == generated, "docs/openapi.json is stale: run `make openapi`"


def test_spec_is_valid_openapi_3_1_shaped() -> None:
    # GIVEN the validation models
    # WHEN the spec is built from them
    spec = build_spec()
    # THEN it is OpenAPI 3.1 with the API's ten paths, and its schemas are valid JSON Schema
    assert spec["openapi"] == "3.1.0"
    assert set(spec["paths"]) == {
        "/v1/bind",
        "/v1/unbind",
        "/v1/query",
        "/v1/accounts/{account}/tokens",
        "/v1/tokens/{token}/accounts",
        "/v1/jobs",
        "/v1/jobs/{job_id}",
        "/v1/jobs/{job_id}/failures",
        "/v1/tokens/{token}/bindings",
        "/v1/accounts/{account}/bindings",
    }
    for schema in spec["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def schema_for(name: str) -> dict[str, Any]:
    """The spec's schema ``name``, with the other schemas as its $defs."""
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
    schema_name: str, parse: Callable[[Any], Any], event: str
) -> None:
    # GIVEN the body of a canonical event
    body = api_event_body(event)
    # WHEN it is checked against the spec's schema, and parsed by the route's validator
    # THEN both accept it (neither raises)
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
def test_spec_and_validator_reject_the_same_bodies(
    name: str, mutate: Callable[[Any], None]
) -> None:
    # GIVEN the canonical bind body, with one thing made wrong
    body = api_event_body("bind")
    mutate(body)
    # WHEN it is checked against the spec's schema, and parsed by the bind validator
    # THEN both reject it
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, _resolve_refs(schema_for("BindBody")))
    with pytest.raises(RequestValidationError):
        contract.parse_bind(body)
