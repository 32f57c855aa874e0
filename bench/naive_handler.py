"""The cold-start "naive" baseline: the obvious Powertools implementation of the same routes.

Everything is imported and built eagerly at module top, as tutorials show it: Logger, Tracer,
Metrics, the REST resolver, pydantic models through the Powertools parser, boto3 clients and a
``requests`` session. It does the same work as the floor (secret, one upstream call).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from typing import Any

import boto3
import requests
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

logger = Logger(service="tpns-bindings")
tracer = Tracer(service="tpns-bindings")
metrics = Metrics(namespace="TpnsBindings", service="tpns-bindings")
app = APIGatewayRestResolver()
secrets = boto3.client("secretsmanager")
sqs = boto3.client("sqs")
session = requests.Session()
_secret: dict[str, Any] = {}


class AccountModel(BaseModel):
    account: str = Field(min_length=1, max_length=128)
    account_type: int = 0


class TokenAccountsModel(BaseModel):
    token: str = Field(min_length=1, max_length=64)
    account_list: list[AccountModel] = Field(min_length=1, max_length=100)


class BindBody(BaseModel):
    app: str | None = None
    token_accounts: list[TokenAccountsModel] = Field(min_length=1, max_length=100)


class UnbindBody(BaseModel):
    app: str | None = None
    token_accounts: list[TokenAccountsModel] | None = Field(default=None, max_length=100)
    token_list: list[str] | None = Field(default=None, max_length=100)
    account_list: list[AccountModel] | None = Field(default=None, max_length=100)


class QueryBody(BaseModel):
    app: str | None = None
    token_list: list[str] | None = Field(default=None, max_length=100)
    account_list: list[AccountModel] | None = Field(default=None, max_length=100)


class JobBody(UnbindBody):
    operation: str
    job_id: str | None = None


@tracer.capture_method
def credentials(name: str | None) -> tuple[str, str]:
    if not _secret:
        value = secrets.get_secret_value(SecretId=os.environ["TPNS_SECRET_ID"])
        _secret.update(json.loads(value["SecretString"]))
    apps = _secret.get("apps") or {"default": _secret}
    chosen = apps[name or _secret.get("default_app", "default")]
    return str(chosen["access_id"]), str(chosen["secret_key"])


@tracer.capture_method
def call_tpns(path: str, body: dict[str, Any], app_name: str | None) -> dict[str, Any]:
    access_id, secret_key = credentials(app_name)
    raw = json.dumps(body, separators=(",", ":")).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(secret_key.encode(), (stamp + access_id).encode() + raw, hashlib.sha256)
    headers = {
        "AccessId": access_id,
        "TimeStamp": stamp,
        "Sign": base64.b64encode(digest.hexdigest().encode()).decode(),
    }
    url = os.environ["TPNS_ENDPOINT"].rstrip("/") + path
    response = session.post(url, data=raw, headers=headers, timeout=5)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    metrics.add_metric(name="UpstreamCalls", unit=MetricUnit.Count, value=1)
    return answer


def _wire(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(exclude_none=True, exclude={"app", "operation", "job_id"})


@app.post("/v1/bind")
@tracer.capture_method
def bind() -> dict[str, Any]:
    body = parse(event=app.current_event.json_body, model=BindBody)
    return call_tpns(
        "/v3/device/account/batchoperate", {"operator_type": 2, **_wire(body)}, body.app
    )


@app.post("/v1/unbind")
@tracer.capture_method
def unbind() -> dict[str, Any]:
    body = parse(event=app.current_event.json_body, model=UnbindBody)
    op = 3 if body.token_accounts else 4 if body.token_list else 5
    return call_tpns(
        "/v3/device/account/batchoperate", {"operator_type": op, **_wire(body)}, body.app
    )


@app.post("/v1/query")
@tracer.capture_method
def query() -> dict[str, Any]:
    body = parse(event=app.current_event.json_body, model=QueryBody)
    op = 1 if body.account_list else 2
    return call_tpns("/v3/device/account/query", {"operator_type": op, **_wire(body)}, body.app)


@app.post("/v1/jobs")
@tracer.capture_method
def jobs() -> tuple[dict[str, Any], int]:
    body = parse(event=app.current_event.json_body, model=JobBody)
    credentials(body.app)
    job_id = body.job_id or os.urandom(16).hex()
    message = json.dumps({**body.model_dump(exclude_none=True), "job_id": job_id})
    sqs.send_message_batch(
        QueueUrl=os.environ["BULK_QUEUE_URL"], Entries=[{"Id": "0", "MessageBody": message}]
    )
    return {"job_id": job_id, "messages": 1}, 202


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
