"""POST /v1/bind: bind tokens to accounts (TPNS operator_type 2)."""

from __future__ import annotations

from tpns_api.adapter.api import Api
from tpns_api.deadline import Deadline
from tpns_api.http import contract
from tpns_api.http.answers import ApiResponse
from tpns_api.http.contract import BatchRequest
from tpns_api.service import BindingService, binding_service

api = Api(binding_service)


@api.post("/v1/bind", parse=contract.bind_request)
def bind(request: BatchRequest, deadline: Deadline, service: BindingService) -> ApiResponse:
    """Each token's accounts become the given ones; every item answers accepted or failed."""
    return service.batch_operate(request, deadline)


lambda_handler = api.handler()
