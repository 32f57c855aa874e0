"""POST /v1/unbind (operator_type 3, 4 or 5), and direct invocations with an unbind body."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tpns_api.adapter.api import Api
from tpns_api.adapter.events import is_api_event
from tpns_api.deadline import Deadline
from tpns_api.http import contract
from tpns_api.http.answers import ApiResponse
from tpns_api.http.contract import BatchRequest
from tpns_api.service import BindingService, binding_service

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

api = Api(binding_service)


@api.post("/v1/unbind", parse=contract.unbind_request)
def unbind(request: BatchRequest, deadline: Deadline, service: BindingService) -> ApiResponse:
    """Unbind by token_accounts (3), token_list (4) or account_list (5); answers per item."""
    return service.batch_operate(request, deadline)


_api_handler = api.handler()
_direct_handler = api.direct(parse=contract.unbind_payload, run=unbind)


def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """API Gateway events go to the API; anything else is an unbind body (EventBridge, invoke)."""
    if is_api_event(event):
        return _api_handler(event, context)
    return _direct_handler(event, context)
