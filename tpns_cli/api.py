"""The HTTP API as the CLI uses it: jobs, their status and failures, with retries that are safe.

Every submit carries an ``Idempotency-Key``, so sending it again (after a timeout, a 503, a 409
while the first attempt is still in flight) can only answer the same job: the client retries
those within a deadline instead of making the user re-run the command.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import quote

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from requests.auth import AuthBase

from tpns_api.http.contract import IDEMPOTENCY_KEY
from tpns_api.http.lookups import MAX_PAGE
from tpns_cli.errors import ApiError, TargetError

#: Statuses worth sending again: throttled, in flight elsewhere, unavailable, timed out.
RETRY_STATUSES: Final = frozenset({409, 429, 503, 504})
RETRY_FOR_S: Final = 90.0  # > the API's 60 s lease on a key whose first request crashed
TIMEOUT_S: Final = 30.0
EXECUTE_API_HOST: Final = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
#: Headers SigV4 signs besides host and x-amz-*: what the API reads; never hop-by-hop ones.
SIGNED_HEADERS: Final = ("Content-Type", IDEMPOTENCY_KEY)


class ApiKeyAuth(AuthBase):
    """The ``x-api-key`` header: the local stack's key file, or a deployed API in API_KEY mode."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["x-api-key"] = self.key
        return request


class SigV4(AuthBase):
    """IAM auth (the deployed API's default): each request signed for ``execute-api``."""

    def __init__(self, credentials: Credentials, region: str) -> None:
        self.credentials = credentials
        self.region = region

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        headers = {
            name: request.headers[name] for name in SIGNED_HEADERS if name in request.headers
        }
        signed = AWSRequest(
            method=request.method, url=request.url, data=request.body or b"", headers=headers
        )
        SigV4Auth(self.credentials, "execute-api", self.region).add_auth(signed)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in signed.headers:
                request.headers[name] = signed.headers[name]
        return request


def region_of(url: str) -> str | None:
    """The region of an ``execute-api`` URL (None for a custom domain: pass --region)."""
    host = re.sub(r"^[a-z]+://", "", url).split("/", 1)[0].split(":", 1)[0]
    match = EXECUTE_API_HOST.search(host)
    return match.group(1) if match else None


class ApiClient:
    """``POST /v1/jobs``, ``GET /v1/jobs/{id}`` and its failures, on one pooled session."""

    def __init__(
        self,
        base_url: str,
        auth: AuthBase,
        *,
        session: requests.Session | None = None,
        retry_for_s: float = RETRY_FOR_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.session = session or requests.Session()
        self.retry_for_s = retry_for_s
        self.sleep = sleep

    def submit_job(self, body: bytes, key: str) -> dict[str, Any]:
        """Queue one job; the 202 answer (``"replayed": true`` when the key had one already)."""
        headers = {"Content-Type": "application/json", IDEMPOTENCY_KEY: key}
        return self._request("POST", "/v1/jobs", body=body, headers=headers)

    def job(self, job_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/jobs/{quote(job_id, safe='')}")

    def failures_page(
        self, job_id: str, limit: int = MAX_PAGE, cursor: str | None = None
    ) -> dict[str, Any]:
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        return self._request("GET", f"/v1/jobs/{quote(job_id, safe='')}/failures", params=params)

    def failures(self, job_id: str, page_size: int = MAX_PAGE) -> Iterator[dict[str, Any]]:
        """Every failure of the job, page after page."""
        cursor: str | None = None
        while True:
            page = self.failures_page(job_id, page_size, cursor)
            yield from page.get("items", [])
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + self.retry_for_s
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self.session.request(
                    method,
                    self.base_url + path,
                    data=body,
                    headers=dict(headers or {}),
                    params=params,
                    auth=self.auth,
                    timeout=TIMEOUT_S,
                )
            except requests.RequestException as exc:
                error = ApiError(f"{method} {path}: cannot reach {self.base_url} ({exc})")
                delay = min(2.0**attempt, 10.0)
            else:
                if answer.status_code < 300:
                    return _json(answer, method, path)
                error = _refusal(answer, method, path)
                if not _retryable(answer, error):
                    raise error
                delay = _retry_after(answer) or min(2.0**attempt, 10.0)
            if time.monotonic() + delay > deadline:
                raise error
            self.sleep(delay)


def _json(answer: requests.Response, method: str, path: str) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        raise ApiError(f"{method} {path}: the answer is not JSON", answer.status_code) from None
    if not isinstance(data, dict):
        raise ApiError(f"{method} {path}: the answer is not a JSON object", answer.status_code)
    return data


def _refusal(answer: requests.Response, method: str, path: str) -> ApiError:
    """The error for a non-2xx answer, with the contract's code and message when it has them."""
    try:
        body: Any = answer.json()
    except ValueError:
        body = answer.text[:300]
    message = body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = f"{error.get('code')}: {error.get('message')}"
        elif "message" in body:  # API Gateway's own refusals ({"message": "Forbidden"})
            message = body["message"]
    hint = ""
    if answer.status_code in (401, 403):
        hint = " (check the API key or your AWS credentials and execute-api:Invoke)"
    return ApiError(
        f"{method} {path}: {answer.status_code} {message}{hint}", answer.status_code, body
    )


def _retryable(answer: requests.Response, error: ApiError) -> bool:
    if answer.status_code == 409:
        return error.code == "idempotency_key_in_progress"
    return answer.status_code in RETRY_STATUSES


def _retry_after(answer: requests.Response) -> float | None:
    value = answer.headers.get("Retry-After", "")
    return min(float(value), 30.0) if value.isdigit() else None


def require_region(url: str, region: str | None) -> str:
    """The region to sign for: the URL's, else the one given; refuse to guess."""
    found = region_of(url) or region
    if not found:
        raise TargetError(
            f"cannot tell the region of {url}: pass --region (or set AWS_REGION) to sign requests"
        )
    return found
