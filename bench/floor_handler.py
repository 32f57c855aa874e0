"""The cold-start floor: the same work as the API functions with the standard library + boto3.

Read the secret from Secrets Manager (boto3, as any Lambda would), parse the body, make one
signed TPNS call with ``http.client`` (or, for ``/v1/jobs``, record the job in its DynamoDB
table, so it can be watched, and queue it with one SQS SendMessageBatch), answer.
No validation beyond what the call needs, no logging, no metrics: nothing can be cheaper and
still do the job, so the real functions are measured as a multiple of this.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import time
from typing import Any
from urllib.parse import urlsplit

import boto3

_secret: dict[str, Any] | None = None


def _app_credentials(app: str | None) -> tuple[str, str]:
    global _secret
    if _secret is None:
        client = boto3.client("secretsmanager")
        _secret = json.loads(
            client.get_secret_value(SecretId=os.environ["TPNS_SECRET_ID"])["SecretString"]
        )
    apps = _secret.get("apps") or {"default": _secret}
    chosen = apps[app or _secret.get("default_app", "default")]
    return str(chosen["access_id"]), str(chosen["secret_key"])


def _tpns(path: str, body: dict[str, Any], app: str | None) -> dict[str, Any]:
    access_id, secret_key = _app_credentials(app)
    raw = json.dumps(body, separators=(",", ":")).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(secret_key.encode(), (stamp + access_id).encode() + raw, hashlib.sha256)
    headers = {
        "Content-Type": "application/json",
        "AccessId": access_id,
        "TimeStamp": stamp,
        "Sign": base64.b64encode(digest.hexdigest().encode()).decode(),
    }
    base = urlsplit(os.environ["TPNS_ENDPOINT"])
    connection = http.client.HTTPConnection(base.netloc, timeout=5)
    try:
        connection.request("POST", base.path.rstrip("/") + path, raw, headers)
        answer: dict[str, Any] = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    return answer


def _jobs(body: dict[str, Any]) -> dict[str, Any]:
    _app_credentials(body.get("app"))  # an unknown app is refused before queueing
    job_id = body.get("job_id") or os.urandom(16).hex()
    boto3.client("dynamodb").put_item(
        TableName=os.environ["JOBS_TABLE"],
        Item={
            "pk": {"S": f"JOB#{job_id}"},
            "sk": {"S": "META"},
            "state": {"S": "queued"},
            "created_at": {"N": str(time.time())},
        },
        ConditionExpression="attribute_not_exists(pk)",
    )
    message = json.dumps({**body, "job_id": job_id})
    sqs = boto3.client("sqs")
    sqs.send_message_batch(
        QueueUrl=os.environ["BULK_QUEUE_URL"], Entries=[{"Id": "0", "MessageBody": message}]
    )
    return {"job_id": job_id, "messages": 1}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = json.loads(event.get("body") or "{}")
    path = event["path"]
    app = body.pop("app", None)
    if path == "/v1/jobs":
        return {"statusCode": 202, "body": json.dumps(_jobs(body))}
    if path == "/v1/query":
        op = 1 if "account_list" in body else 2
        answer = _tpns("/v3/device/account/query", {"operator_type": op, **body}, app)
    else:
        if path == "/v1/bind":
            op = 2
        else:
            op = 3 if "token_accounts" in body else 4 if "token_list" in body else 5
        answer = _tpns("/v3/device/account/batchoperate", {"operator_type": op, **body}, app)
    return {"statusCode": 200, "body": json.dumps(answer)}
