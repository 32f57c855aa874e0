"""The local API Gateway: every ``Api`` route of the template, as REST API proxy events.

A request is matched against the template's routes (literal paths before templated ones, as API
Gateway does), turned into the ``aws-proxy`` (payload 1.0) event API Gateway would send, handed
to the function's instance, and its answer written back. What API Gateway itself answers is
answered the same way here: 403 ``Missing Authentication Token`` for an unknown route, 403
``Forbidden`` without the API key, 413 for a body over 10 MB, 502 when the function fails.
Answers are compressed by the API's ``MinimumCompressionSize`` as API Gateway compresses them
(see ``compression``).
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local_stack.compression import compress
from local_stack.template import ApiRoute

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
API_ID = "local"
# Read-only documentation a browser must open without a header (the docs page, its script and
# stylesheet, the spec); the deployed API protects these too, but there a signed or keyed
# client fetches them.
OPEN_PATHS = frozenset(
    {"/v1/docs", "/v1/docs/swagger-ui-bundle.js", "/v1/docs/swagger-ui.css", "/v1/openapi.json"}
)
ADMIN_PREFIX = "/_local/"
_BODY_ERRORS = {
    400: "Invalid Content-Length",
    411: "Length Required: send the body with a Content-Length",
    413: "Request Too Long",
}

Invoke = Callable[[str, Any], tuple[Any, float, float | None]]
"""(function, event) → (result, duration ms, init ms if cold); raises FunctionError."""
Admin = Callable[[str, str, bytes], tuple[int, Any]]
"""(method, path, body) → (status, JSON answer) for ``/_local/...`` requests."""
RequestLog = Callable[[str], None]


@dataclass(frozen=True)
class Match:
    route: ApiRoute
    path_parameters: dict[str, str] | None


class Router:
    def __init__(self, routes: list[ApiRoute]) -> None:
        # Literal segments win over templated ones, longer literal prefixes first.
        self.routes = sorted(routes, key=lambda r: ("{" in r.path, -len(r.path.split("{")[0])))
        self._patterns = [(route, route.pattern) for route in self.routes]

    def match(self, method: str, path: str) -> Match | None:
        for route, pattern in self._patterns:
            found = pattern.fullmatch(path)
            if found and route.method in (method, "ANY"):
                parameters = {k: unquote(v) for k, v in found.groupdict().items()}
                return Match(route, parameters or None)
        return None


def proxy_event(
    match: Match,
    method: str,
    raw_path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    stage: str,
    source_ip: str,
    api_key: str | None,
) -> dict[str, Any]:
    """The REST API ``aws-proxy`` event for one request, as API Gateway builds it."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    pairs = parse_qsl(query, keep_blank_values=True)
    query_single = {k: v for k, v in pairs} or None
    query_multi: dict[str, list[str]] = {}
    for key, value in pairs:
        query_multi.setdefault(key, []).append(value)
    text: str | None = None
    encoded = False
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode("ascii"), True
    now = datetime.now(UTC)
    host = single.get("Host", single.get("host", "127.0.0.1"))
    user_agent = single.get("User-Agent", single.get("user-agent"))
    return {
        "resource": match.route.path,
        "path": raw_path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": query_single,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": match.path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, match.route.path).hex[:6],
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "apiKey": api_key,
                "apiKeyId": "local" if api_key else None,
                "accessKey": None,
                "sourceIp": source_ip,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
                "principalOrgId": None,
            },
            "path": f"/{stage}{raw_path}",
            "resourcePath": match.route.path,
            "httpMethod": method,
            "apiId": API_ID,
            "protocol": "HTTP/1.1",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "extendedRequestId": uuid.uuid4().hex[:16],
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


class Gateway(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        port: int,
        routes: list[ApiRoute],
        invoke: Invoke,
        admin: Admin,
        *,
        api_key: str,
        stage: str,
        log: RequestLog,
    ) -> None:
        self.router = Router(routes)
        self.invoke = invoke
        self.admin = admin
        self.api_key = api_key
        self.stage = stage
        self.log = log
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Gateway
    protocol_version = "HTTP/1.1"
    server_version = "tpns-local-gateway"
    timeout = 60  # a client that stops sending mid-body does not hold a thread forever

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def __getattr__(self, name: str) -> Any:
        """Every method (``do_GET``, ``do_TRACE``, ``do_QUERY``...) goes to the routes, so one
        no route takes is answered as API Gateway answers it, not with a 501."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        started = time.monotonic()
        method = self.command
        split = urlsplit(self.path)
        note = ""
        try:
            body = self._body()
            if isinstance(body, int):
                status, headers, payload = _gateway_error(body, _BODY_ERRORS[body])
            elif split.path.startswith(ADMIN_PREFIX):
                status, headers, payload, note = self._admin(method, split.path, body)
            else:
                status, headers, payload, note = self._api(method, split.path, split.query, body)
        except ConnectionError:
            return
        except Exception:  # a bug here must not kill the stack or hang the client
            logger.exception("gateway failed on %s %s", method, self.path)
            self.close_connection = True
            status, headers, payload = _gateway_error(502, "Internal server error")
        elapsed = (time.monotonic() - started) * 1000
        self.server.log(f"{method} {self.path} → {status} {elapsed:.0f} ms{note}")
        self._write(status, headers, payload, method == "HEAD")

    def _body(self) -> bytes | int:
        """The request body, or the status refusing it (the connection is closed then)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return 411
        text = self.headers.get("Content-Length") or "0"
        length = int(text) if text.isascii() and text.isdigit() else -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            return 413 if length > MAX_BODY_BYTES else 400
        return self.rfile.read(length) if length > 0 else b""

    def _authorised(self) -> str | None:
        key = self.headers.get("x-api-key")
        if key is not None and hmac.compare_digest(key.encode(), self.server.api_key.encode()):
            return key
        return None

    def _api(
        self, method: str, path: str, query: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes, str]:
        match = self.server.router.match(method, path)
        if match is None:
            return (*_gateway_error(403, "Missing Authentication Token"), "")
        key = self._authorised()
        if key is None and match.route.path not in OPEN_PATHS:
            return (*_gateway_error(403, "Forbidden"), " (no or wrong x-api-key)")
        event = proxy_event(
            match,
            method,
            path,
            query,
            list(self.headers.items()),
            body,
            stage=self.server.stage,
            source_ip=self.client_address[0],
            api_key=key,
        )
        request_id = event["requestContext"]["requestId"]
        function = match.route.function
        try:
            result, _, init_ms = self.server.invoke(function, event)
            status, headers, payload = _proxy_answer(result)
        except Exception as exc:  # the function failed: API Gateway answers 502
            logger.warning("%s failed: %s", function, exc)
            status, headers, payload = _gateway_error(502, "Internal server error")
            init_ms = None
        headers, payload = compress(
            headers,
            payload,
            accept_encoding=self.headers.get("Accept-Encoding"),
            minimum_size=match.route.minimum_compression_size,
        )
        headers.setdefault("x-amzn-RequestId", request_id)
        cold = f", cold start {init_ms:.0f} ms" if init_ms is not None else ""
        return status, headers, payload, f" [{function}{cold}]"

    def _admin(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes, str]:
        if self._authorised() is None:
            return (*_gateway_error(403, "Forbidden"), " (no or wrong x-api-key)")
        status, answer = self.server.admin(method, path, body)
        payload = json.dumps(answer, indent=2).encode() + b"\n"
        return status, {"Content-Type": "application/json"}, payload, ""

    def _write(self, status: int, headers: dict[str, str], payload: bytes, head: bool) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if not head:
                self.wfile.write(payload)
        except ConnectionError:
            self.close_connection = True


def _gateway_error(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "ForbiddenException"}
    if status != 403:
        headers.pop("x-amzn-ErrorType")
    return status, headers, json.dumps({"message": message}).encode()


def _proxy_answer(result: Any) -> tuple[int, dict[str, str], bytes]:
    """A proxy integration's answer, or 502 when it is not one (as API Gateway does)."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return _gateway_error(502, "Internal server error")
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    if not isinstance(body, str):
        return _gateway_error(502, "Internal server error")
    payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return int(result["statusCode"]), headers, payload
