"""API Gateway REST (v1) proxy events in, ``HttpRequest`` and proxy answers out."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from tpns_account.validation import invalid
from tpns_api.http.answers import ApiResponse, Document
from tpns_api.http.request import HttpRequest


def is_api_event(event: object) -> bool:
    return isinstance(event, Mapping) and "httpMethod" in event and "requestContext" in event


def request_id(event: Mapping[str, Any]) -> str | None:
    context = event.get("requestContext")
    value = context.get("requestId") if isinstance(context, Mapping) else None
    return str(value) if value is not None else None


def http_request(event: Mapping[str, Any], path_parameters: Mapping[str, str]) -> HttpRequest:
    """The request an event carries; a body that is not valid base64 is refused (400)."""
    context: Mapping[str, Any] = event.get("requestContext") or {}
    identity: Mapping[str, Any] = context.get("identity") or {}
    received = context.get("requestTimeEpoch")
    caller = identity.get("userArn") or identity.get("caller") or identity.get("apiKeyId")
    return HttpRequest(
        method=str(event["httpMethod"]).upper(),
        path=str(event["path"]),
        request_id=request_id(event),
        body=_body(event),
        path_parameters=path_parameters,
        query=event.get("queryStringParameters") or {},
        headers=event.get("headers") or {},
        received_at_ms=int(received) if isinstance(received, int | float) else None,
        caller=str(caller) if caller else None,
        base_path=_base_path(str(event["path"]), context.get("path")),
    )


def _base_path(path: str, full_path: object) -> str:
    """The stage prefix: ``requestContext.path`` is the path as the caller sent it."""
    if isinstance(full_path, str) and full_path.endswith(path):
        return full_path[: len(full_path) - len(path)]
    return ""


def _body(event: Mapping[str, Any]) -> bytes | None:
    raw = event.get("body")
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise invalid("body", "must be JSON text")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise invalid("body", "is not valid base64") from None
    return raw.encode("utf-8", "surrogatepass")


def proxy_answer(answer: ApiResponse) -> dict[str, Any]:
    """The REST proxy answer (``multiValueHeaders``), JSON body."""
    return proxy(answer.status, json.dumps(answer.body, ensure_ascii=False), answer.headers)


def document_answer(document: Document) -> dict[str, Any]:
    """The REST proxy answer for a document (200, its text)."""
    return proxy(200, document.body, document.headers, document.content_type)


def proxy(
    status: int, body: str, headers: Mapping[str, str], content_type: str = "application/json"
) -> dict[str, Any]:
    """A text answer, never base64 nor ``Content-Encoding``: API Gateway compresses large
    answers itself (the API's ``MinimumCompressionSize``), but not one that sets an encoding."""
    multi: dict[str, list[str]] = {"Content-Type": [content_type]}
    for name, value in headers.items():
        multi[name] = [value]
    return {
        "statusCode": status,
        "body": body,
        "isBase64Encoded": False,
        "multiValueHeaders": multi,
    }
