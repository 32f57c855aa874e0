"""The API client: SigV4 or an API key, safe retries of keyed submits, pages of failures."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import botocore.auth
import pytest
import requests
from botocore.credentials import Credentials
from requests.adapters import BaseAdapter

from tpns_cli.api import ApiClient, ApiKeyAuth, SigV4, region_of, require_region
from tpns_cli.errors import ApiError, TargetError

URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
Reply = Callable[[requests.PreparedRequest], tuple[int, Any, dict[str, str]]]


class ScriptedAdapter(BaseAdapter):
    """Answers each request with the next reply; records what was sent."""

    def __init__(self, *replies: Reply | tuple[int, Any]) -> None:
        super().__init__()
        self.replies = list(replies)
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        reply = self.replies.pop(0)
        status, body, headers = reply(request) if callable(reply) else (*reply, {})
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers.update({"Content-Type": "application/json", **headers})
        response.request = request
        response.url = str(request.url)
        return response

    def close(self) -> None:
        pass


def client(adapter: ScriptedAdapter, auth: Any = None) -> ApiClient:
    session = requests.Session()
    session.mount("https://", adapter)
    return ApiClient(URL, auth or ApiKeyAuth("k"), session=session, sleep=lambda _: None)


def error(code: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": f"{code} happened"}, "request_id": "r"}


def test_sigv4_signs_for_execute_api_in_the_region_of_the_url() -> None:
    # GIVEN a client signing with AWS credentials (with a session token)
    adapter = ScriptedAdapter((202, {"job_id": "j"}))
    credentials = Credentials("AKIDEXAMPLE", "secret", "session-token")
    api = client(adapter, SigV4(credentials, require_region(URL, None)))

    # WHEN it submits a job
    api.submit_job(b'{"operation": "unbind", "token_list": ["t1"]}', "key-1")

    # THEN the request is signed for execute-api in eu-west-1, over the header the API reads
    sent = adapter.sent[0]
    authorization = sent.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert "SignedHeaders=content-type;host;idempotency-key;x-amz-date;x-amz-security-token" in (
        authorization
    )
    assert sent.headers["X-Amz-Security-Token"] == "session-token"
    assert sent.headers["Idempotency-Key"] == "key-1" and "x-api-key" not in sent.headers


def test_the_signature_is_sigv4_over_the_exact_request_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a client signing at a fixed instant
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda: datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
    )
    adapter = ScriptedAdapter((202, {"job_id": "j"}))
    api = client(adapter, SigV4(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI"), "eu-west-1"))
    body = b'{"operation": "unbind", "token_list": ["t1"]}'

    # WHEN it submits a job
    api.submit_job(body, "key-1")

    # THEN the signature is the one SigV4 (computed here from its specification) gives for
    # that method, path, headers and body
    sent = adapter.sent[0]
    assert sent.body == body
    assert sent.headers["Authorization"].endswith(
        "Signature=" + sigv4_signature(sent, "wJalrXUtnFEMI")
    )


def sigv4_signature(request: requests.PreparedRequest, secret: str) -> str:
    """AWS Signature Version 4 of ``request``, independently of botocore."""
    amz_date = request.headers["X-Amz-Date"]
    day = amz_date[:8]
    headers = {
        "content-type": request.headers["Content-Type"],
        "host": "abc123.execute-api.eu-west-1.amazonaws.com",
        "idempotency-key": request.headers["Idempotency-Key"],
        "x-amz-date": amz_date,
    }
    body = request.body if isinstance(request.body, bytes) else b""
    canonical = "\n".join(
        [
            "POST",
            "/prod/v1/jobs",
            "",
            *(f"{name}:{value}" for name, value in headers.items()),
            "",
            ";".join(headers),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/eu-west-1/execute-api/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret}".encode()
    for part in (day, "eu-west-1", "execute-api", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("url", "region", "expected"),
    [
        (URL, None, "eu-west-1"),
        ("https://x.execute-api.cn-north-1.amazonaws.com.cn/v1", None, "cn-north-1"),
        ("https://bindings.example.com", "ap-east-1", "ap-east-1"),
        (URL, "us-east-1", "eu-west-1"),
    ],
    ids=["execute-api URL", "China partition", "custom domain with --region", "the URL wins"],
)
def test_the_signing_region_comes_from_the_url_else_from_the_option(
    url: str, region: str | None, expected: str
) -> None:
    assert require_region(url, region) == expected


def test_a_custom_domain_without_a_region_is_refused() -> None:
    assert region_of("https://bindings.example.com/prod") is None
    with pytest.raises(TargetError, match="--region"):
        require_region("https://bindings.example.com/prod", None)


def test_a_keyed_submit_is_retried_while_the_first_attempt_is_in_flight() -> None:
    # GIVEN an API answering 409 in progress, then 503, then the job
    adapter = ScriptedAdapter(
        (409, error("idempotency_key_in_progress")),
        lambda _: (503, error("queue_unavailable"), {"Retry-After": "1"}),
        (202, {"job_id": "j1", "replayed": False}),
    )

    # WHEN a job is submitted
    answer = client(adapter).submit_job(b"{}", "key")

    # THEN it is sent again, with the same key, until the API answers the job
    assert answer["job_id"] == "j1"
    assert [r.headers["Idempotency-Key"] for r in adapter.sent] == ["key", "key", "key"]


@pytest.mark.parametrize(
    ("status", "code"),
    [(409, "job_exists"), (422, "idempotency_key_reused"), (400, "validation_error")],
)
def test_a_refusal_is_not_retried_and_names_the_contracts_code(status: int, code: str) -> None:
    # GIVEN an API refusing the request for good
    adapter = ScriptedAdapter((status, error(code)))

    # WHEN a job is submitted
    with pytest.raises(ApiError) as refused:
        client(adapter).submit_job(b"{}", "key")

    # THEN it was sent once and the error carries the status, code and message
    assert len(adapter.sent) == 1
    assert refused.value.status == status and refused.value.code == code
    assert f"{status} {code}: {code} happened" in refused.value.message


def test_failures_are_read_across_every_page() -> None:
    # GIVEN failures in two pages
    adapter = ScriptedAdapter(
        (200, {"items": [{"index": 0}, {"index": 1}], "next_cursor": "c2"}),
        (200, {"items": [{"index": 2}], "next_cursor": None}),
    )

    # WHEN every failure is listed
    items = list(client(adapter).failures("job-1", page_size=2))

    # THEN both pages are read, the second with the first's cursor
    assert [item["index"] for item in items] == [0, 1, 2]
    assert adapter.sent[1].url == f"{URL}/v1/jobs/job-1/failures?limit=2&cursor=c2"


def test_the_api_key_goes_in_the_x_api_key_header() -> None:
    adapter = ScriptedAdapter((200, {"job_id": "j"}))
    client(adapter, ApiKeyAuth("the-key")).job("j")
    assert adapter.sent[0].headers["x-api-key"] == "the-key"
    assert "Authorization" not in adapter.sent[0].headers
