"""The API's operations, independent of how the request arrived (API Gateway, local, tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tpns_account import Query, TpnsClient
from tpns_api import contract
from tpns_api.answers import ApiResponse, batch_answer, query_answer

DEFAULT_TIME_BUDGET_S = 20.0


@dataclass
class BindingService:
    """bind / unbind / query over one long-lived client (one per process)."""

    client: TpnsClient
    sync_max_items: int = 100

    def bind(self, data: Any, *, time_budget: float = DEFAULT_TIME_BUDGET_S) -> ApiResponse:
        return self._batch(contract.parse_bind(data, max_items=self.sync_max_items), time_budget)

    def unbind(self, data: Any, *, time_budget: float = DEFAULT_TIME_BUDGET_S) -> ApiResponse:
        return self._batch(contract.parse_unbind(data, max_items=self.sync_max_items), time_budget)

    def query(self, data: Any, *, time_budget: float = DEFAULT_TIME_BUDGET_S) -> ApiResponse:
        request = contract.parse_query(data, max_items=self.sync_max_items)
        result = self.client.query(request.query, app=request.app, time_budget=time_budget)
        return query_answer(result)

    def tokens_of_account(
        self,
        account: str,
        account_type: str | None,
        app: str | None,
        *,
        time_budget: float = DEFAULT_TIME_BUDGET_S,
    ) -> ApiResponse:
        parsed_type = contract.parse_account_type(account_type)
        body = {
            "operator_type": 1,
            "account_list": [{"account": account, "account_type": parsed_type}],
        }
        query = Query.from_dict(body)
        result = self.client.query(query, app=contract.parse_app(app), time_budget=time_budget)
        return query_answer(result)

    def accounts_of_token(
        self, token: str, app: str | None, *, time_budget: float = DEFAULT_TIME_BUDGET_S
    ) -> ApiResponse:
        query = Query.from_dict({"operator_type": 2, "token_list": [token]})
        result = self.client.query(query, app=contract.parse_app(app), time_budget=time_budget)
        return query_answer(result)

    def _batch(self, request: contract.BatchRequest, time_budget: float) -> ApiResponse:
        result = self.client.batch_operate(
            request.operation, app=request.app, time_budget=time_budget
        )
        return batch_answer(result)
