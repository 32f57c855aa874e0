"""POST /v1/bind: bind tokens to accounts (TPNS operator_type 2)."""

from __future__ import annotations

from tpns_api.lambda_adapter import (
    Response,
    count_items,
    create_app,
    handler,
    json_body,
    service,
    time_budget,
    to_response,
)

app = create_app()


@app.post("/v1/bind")
def bind() -> Response:
    answer = service().bind(json_body(app), time_budget=time_budget(app))
    return to_response(count_items(answer))


lambda_handler = handler(app)
