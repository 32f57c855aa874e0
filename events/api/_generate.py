"""Generate the API Gateway REST (payload v1) proxy events in this directory.

Every ``*.json`` here except ``unbind-direct-invoke.json`` is an ``aws-proxy`` event of the shape
``sam local generate-event apigateway aws-proxy`` produces, as API Gateway delivers it for the
``prod`` stage to an ``AWS_IAM``-signed caller. Everything is derived deterministically from the
route and event name, so re-running this script reproduces the files byte for byte.

    python events/api/_generate.py          # (re)write the files
    python events/api/_generate.py --check  # exit 1 if a file is missing or stale
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent

API_ID = "abc123defg"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STAGE = "prod"
DOMAIN = f"{API_ID}.execute-api.{REGION}.amazonaws.com"

# The IAM principal signing the requests: a mobile backend running under an assumed role.
ROLE_ID = "AROAXMPLE3EXAMPLE0001"
SESSION = "mobile-backend"
CALLER = f"{ROLE_ID}:{SESSION}"
CALLER_ARN = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/tpns-mobile-backend/{SESSION}"
ACCESS_KEY_ID = "ASIAXMPLEEXAMPLEKEY1"
STS_SESSION = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQDXMPLEEXAMPLESESSION="
SOURCE_IP = "203.0.113.42"
EDGE_IP = "130.176.17.71"
USER_AGENT = "mobile-backend/1.4.2 python-requests/2.32.3"
BROWSER_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"
)

# The job the job-status and job-failures events ask about.
JOB_ID = "0b9e3a4c5d6f47a8b1c2d3e4f5a6b7c8"

# First request time; each following event is a few seconds later.
START = datetime(2024, 3, 12, 8, 15, 30, 117000, tzinfo=UTC)

Json = dict[str, Any]


@dataclass(frozen=True)
class Route:
    """One event: the route template, the concrete request and its body."""

    name: str
    method: str
    resource: str
    path_params: dict[str, str] | None = None
    query: dict[str, str] | None = None
    body: Json | None = None
    accept: str = "application/json"
    user_agent: str = USER_AGENT
    accept_encoding: str = "gzip, deflate"
    headers: dict[str, str] | None = None  # beside the ones every request has


def _digest(*parts: str) -> bytes:
    return hashlib.sha512("|".join(parts).encode()).digest()


def _request_id(name: str) -> str:
    return str(uuid.UUID(bytes=_digest("request", name)[:16], version=4))


def _concrete_path(route: Route) -> str:
    """The request path as API Gateway puts it in ``path``: parameters URL-encoded."""
    path = route.resource
    for key, value in (route.path_params or {}).items():
        path = path.replace("{" + key + "}", quote(value, safe=""))
    return path


def _headers(route: Route, when: datetime, body: str | None) -> dict[str, str]:
    seed = _digest("headers", route.name)
    amz_date = (when - timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
    signed = "host;x-amz-date;x-amz-security-token"
    if body is not None:
        signed = "content-type;" + signed
    headers = {
        "Accept": route.accept,
        "Accept-Encoding": route.accept_encoding,
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/{amz_date[:8]}/{REGION}/"
            f"execute-api/aws4_request, SignedHeaders={signed}, Signature={seed[:32].hex()}"
        ),
        "CloudFront-Forwarded-Proto": "https",
        "CloudFront-Is-Desktop-Viewer": "true",
        "CloudFront-Is-Mobile-Viewer": "false",
        "CloudFront-Is-SmartTV-Viewer": "false",
        "CloudFront-Is-Tablet-Viewer": "false",
        "CloudFront-Viewer-ASN": "64496",
        "CloudFront-Viewer-Country": "US",
    }
    if body is not None:
        headers["Content-Length"] = str(len(body.encode()))
        headers["Content-Type"] = "application/json"
    headers |= route.headers or {}
    headers |= {
        "Host": DOMAIN,
        "User-Agent": route.user_agent,
        "Via": f"2.0 {seed[32:48].hex()}.cloudfront.net (CloudFront)",
        "X-Amz-Cf-Id": base64.urlsafe_b64encode(_digest("cf", route.name)[:40]).decode(),
        "X-Amz-Date": amz_date,
        "X-Amz-Security-Token": STS_SESSION,
        "X-Amzn-Trace-Id": f"Root=1-{int(when.timestamp()):08x}-{seed[48:60].hex()}",
        "X-Forwarded-For": f"{SOURCE_IP}, {EDGE_IP}",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    return headers


def _multi(values: dict[str, str] | None) -> dict[str, list[str]] | None:
    return None if values is None else {k: [v] for k, v in values.items()}


def api_event(route: Route, when: datetime) -> Json:
    """An API Gateway REST API ``aws-proxy`` (payload format 1.0) event for ``route``."""
    body = None if route.body is None else json.dumps(route.body)
    headers = _headers(route, when, body)
    path = _concrete_path(route)
    resource_id = base64.b32encode(_digest("resource", route.resource)[:5]).decode().lower()[:6]
    return {
        "resource": route.resource,
        "path": path,
        "httpMethod": route.method,
        "headers": headers,
        "multiValueHeaders": _multi(headers),
        "queryStringParameters": route.query,
        "multiValueQueryStringParameters": _multi(route.query),
        "pathParameters": route.path_params,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "resourceId": resource_id,
            "stage": STAGE,
            "requestId": _request_id(route.name),
            "requestTime": when.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(when.timestamp() * 1000),
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": ACCOUNT_ID,
                "cognitoIdentityId": None,
                "caller": CALLER,
                "accessKey": ACCESS_KEY_ID,
                "sourceIp": SOURCE_IP,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": CALLER_ARN,
                "userAgent": route.user_agent,
                "user": CALLER,
                "principalOrgId": None,
            },
            "path": f"/{STAGE}{path}",
            "resourcePath": route.resource,
            "httpMethod": route.method,
            "apiId": API_ID,
            "protocol": "HTTP/1.1",
            "domainName": DOMAIN,
            "domainPrefix": API_ID,
            "extendedRequestId": base64.b64encode(_digest("ext", route.name)[:11]).decode(),
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _accounts(*pairs: tuple[str, int]) -> list[Json]:
    return [{"account": account, "account_type": kind} for account, kind in pairs]


def _binding(token: str, *pairs: tuple[str, int]) -> Json:
    return {"token": token, "account_list": _accounts(*pairs)}


def _vendor_binding(token: str, *accounts: str) -> Json:
    """The vendor's samples give no account_type: TPNS defaults it to 0."""
    return {"token": token, "account_list": [{"account": a} for a in accounts]}


def _get(name: str, resource: str, *values: str, query: dict[str, str] | None = None) -> Route:
    """A GET of ``resource``, its path parameters (named by the template) set to ``values``."""
    names = re.findall(r"\{(\w+)\}", resource)
    return Route(name, "GET", resource, dict(zip(names, values, strict=True)), query)


BIND = "/v1/bind"
UNBIND = "/v1/unbind"
QUERY = "/v1/query"
JOBS = "/v1/jobs"

#: What the bind sample binds and the unbind sample unbinds again.
TWO_BINDINGS: Json = {
    "token_accounts": [
        _binding("token1", ("926@126.com", 1005)),
        _binding("token2", ("+8613711112222", 1002)),
    ]
}

ROUTES: list[Route] = [
    Route("bind", "POST", BIND, body=TWO_BINDINGS),
    Route(
        "bind-vendor-sample",
        "POST",
        BIND,
        body={
            "operator_type": 2,
            "token_accounts": [
                _vendor_binding("token1", "926@126.com", "1527000000"),
                _vendor_binding("token2", "926@163.com", "1527000001"),
            ],
        },
    ),
    Route("unbind-token-accounts", "POST", UNBIND, body=TWO_BINDINGS),
    Route("unbind-token-list", "POST", UNBIND, body={"token_list": ["token1", "token2", "token3"]}),
    Route(
        "unbind-account-list",
        "POST",
        UNBIND,
        body={
            "account_list": _accounts(("926@126.com", 1005), ("1527000000", 0), ("2849249569", 9))
        },
    ),
    Route(
        "query-account-list",
        "POST",
        QUERY,
        body={"account_list": _accounts(("926@126.com", 1005), ("+8613711112222", 1002))},
    ),
    Route("query-token-list", "POST", QUERY, body={"token_list": ["token1", "token2"]}),
    _get(
        "get-account-tokens",
        "/v1/accounts/{account}/tokens",
        "926@126.com",
        query={"account_type": "1005", "app": "android"},
    ),
    _get("get-token-accounts", "/v1/tokens/{token}/accounts", "token1"),
    Route(
        "jobs-bind",
        "POST",
        JOBS,
        body={
            "operation": "bind",
            "app": "android",
            "token_accounts": [
                _binding("token1", ("926@126.com", 1005), ("+8613711112222", 1002)),
                _binding("token2", ("926@163.com", 1005)),
                _binding("token3", ("1527000001", 0)),
            ],
        },
    ),
    Route(
        "jobs-unbind",
        "POST",
        JOBS,
        body={
            "operation": "unbind",
            "account_list": _accounts(("926@163.com", 1005), ("1527000001", 0)),
        },
    ),
    Route("openapi", "GET", "/v1/openapi.json"),
    Route(
        "docs",
        "GET",
        "/v1/docs",
        accept="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        user_agent=BROWSER_UA,
    ),
    Route(
        "docs-script",
        "GET",
        "/v1/docs/swagger-ui-bundle.js",
        query={"v": "93b7b0862a80e278"},
        accept="*/*",
        user_agent=BROWSER_UA,
        accept_encoding="gzip, deflate, br, zstd",
    ),
    Route(
        "jobs-bind-idempotent",
        "POST",
        JOBS,
        body={
            "operation": "bind",
            "app": "android",
            "token_accounts": [_binding("token1", ("926@126.com", 1005))],
        },
        headers={"Idempotency-Key": "8e0f6c1e-5b7a-4b43-9d2e-3c1f0a9b7d21"},
    ),
    _get("job-status", "/v1/jobs/{job_id}", JOB_ID),
    _get("job-failures", "/v1/jobs/{job_id}/failures", JOB_ID, query={"limit": "100"}),
    _get("get-token-bindings", "/v1/tokens/{token}/bindings", "token1", query={"app": "android"}),
    _get(
        "get-account-bindings",
        "/v1/accounts/{account}/bindings",
        "926@126.com",
        query={"account_type": "1005", "app": "android", "limit": "100"},
    ),
]

# Not an API event: what EventBridge / `aws lambda invoke` hands the unbind function directly.
DIRECT: dict[str, Json] = {
    "unbind-direct-invoke": {"token_list": ["token1", "token2"]},
}


def render() -> dict[str, str]:
    """File name -> file content, for every event."""
    events: dict[str, Json] = {
        route.name: api_event(route, START + timedelta(seconds=7 * i, milliseconds=53 * i))
        for i, route in enumerate(ROUTES)
    }
    events |= DIRECT
    return {f"{name}.json": json.dumps(event, indent=2) + "\n" for name, event in events.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    stale = []
    for name, text in render().items():
        target = HERE / name
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            target.write_text(text, encoding="utf-8")
    verb = "stale" if args.check else "wrote"
    for name in stale:
        print(f"{verb}: events/api/{name}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
