"""Queries (POST /v1/query and the GET lookups), the ledger's bindings, and the API's docs."""

from __future__ import annotations

from tpns_api.adapter.api import Api
from tpns_api.deadline import Deadline
from tpns_api.http import contract, docs_page, lookups
from tpns_api.http.answers import ApiResponse, Document
from tpns_api.http.contract import QueryRequest
from tpns_api.http.lookups import BindingsLookup
from tpns_api.http.request import HttpRequest
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


def openapi_json(request: HttpRequest) -> Document:
    """The spec, built (and its module imported) when first asked for, not on a cold start."""
    from tpns_api.http.openapi import spec_json

    return Document(spec_json(), "application/json")


api.document("/v1/openapi.json", openapi_json)
# The Swagger UI page, and its script and stylesheet (read from the layer at first request).
api.document("/v1/docs", docs_page.page)
for asset in docs_page.ASSETS:
    api.document(asset.route, asset.serve)

lambda_handler = api.handler()
