"""Queries (POST /v1/query and the two GET lookups), and the API's OpenAPI spec and docs page."""

from __future__ import annotations

from tpns_api.adapter.api import Api
from tpns_api.deadline import Deadline
from tpns_api.http import contract, lookups
from tpns_api.http.answers import ApiResponse
from tpns_api.http.contract import QueryRequest
from tpns_api.http.lookups import BindingsLookup
from tpns_api.http.openapi import SWAGGER_UI_HTML, spec_json
from tpns_api.service import BindingService, binding_service

api = Api(binding_service)


@api.post("/v1/query", parse=contract.query_request)
@api.get("/v1/accounts/<account>/tokens", parse=contract.tokens_of_account_request)
@api.get("/v1/tokens/<token>/accounts", parse=contract.accounts_of_token_request)
def query(request: QueryRequest, deadline: Deadline, service: BindingService) -> ApiResponse:
    """Ask TPNS in real time: tokens of accounts (query 1) or accounts of tokens (query 2)."""
    return service.query(request, deadline)


@api.get("/v1/tokens/<token>/bindings", parse=lookups.token_bindings_request)
@api.get("/v1/accounts/<account>/bindings", parse=lookups.account_bindings_request)
def bindings(request: BindingsLookup, deadline: Deadline, service: BindingService) -> ApiResponse:
    """What the ledger says is bound (desired state), with issued_at and state, in pages."""
    return service.bindings(request)


api.document("/v1/openapi.json", "application/json", spec_json)
api.document("/v1/docs", "text/html; charset=utf-8", lambda: SWAGGER_UI_HTML)

lambda_handler = api.handler()
