"""Queries (POST /v1/query and the two GET lookups), and the API's OpenAPI spec and docs page."""

from __future__ import annotations

from tpns_api import contract
from tpns_api.lambda_adapter import (
    Response,
    create_app,
    handler,
    json_body,
    service,
    time_budget,
    to_response,
)
from tpns_api.openapi import SWAGGER_UI_HTML, spec_json

app = create_app()


@app.post("/v1/query")
def query() -> Response:
    return to_response(service().query(json_body(app), time_budget=time_budget(app)))


@app.get("/v1/accounts/<account>/tokens")
def tokens_of_account(account: str) -> Response:
    params = app.current_event.query_string_parameters or {}
    answer = service().tokens_of_account(
        contract.parse_path_parameter("account", account),
        params.get("account_type"),
        params.get("app"),
        time_budget=time_budget(app),
    )
    return to_response(answer)


@app.get("/v1/tokens/<token>/accounts")
def accounts_of_token(token: str) -> Response:
    params = app.current_event.query_string_parameters or {}
    answer = service().accounts_of_token(
        contract.parse_path_parameter("token", token),
        params.get("app"),
        time_budget=time_budget(app),
    )
    return to_response(answer)


@app.get("/v1/openapi.json")
def openapi() -> Response:
    return Response(status_code=200, content_type="application/json", body=spec_json())


@app.get("/v1/docs")
def docs() -> Response:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=SWAGGER_UI_HTML)


lambda_handler = handler(app)
