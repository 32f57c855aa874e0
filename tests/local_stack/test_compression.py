"""The local gateway compresses answers by the API's MinimumCompressionSize, as API Gateway does."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local_stack.compression import compress, preferred_coding
from local_stack.gateway import Gateway
from local_stack.template import ApiRoute, Physical, Template, wire
from tests.support.paths import ROOT

MINIMUM = 1024
TEXT = {"Content-Type": "text/css; charset=utf-8"}


def test_routes_carry_their_apis_minimum_compression_size() -> None:
    # GIVEN the template, whose API compresses answers of 1024 bytes or more
    routes = wire(Template(ROOT / "template.yaml"), Physical()).routes

    # THEN every route knows it
    assert {route.minimum_compression_size for route in routes} == {MINIMUM}


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("gzip, deflate, br, zstd", "gzip"),  # Chromium: all q=1, the first wins
        ("GZIP", "gzip"),
        ("br;q=1.0, gzip;q=0.5", "br"),  # API Gateway does not compress then
        ("deflate, gzip", "deflate"),
        ("identity;q=0.5, gzip;q=0.9", "gzip"),
        ("gzip;q=0, deflate", "deflate"),
        ("gzip;q=oops", None),
        ("*", "*"),
        ("", None),
        (None, None),
    ],
)
def test_the_preferred_coding_is_the_highest_ranked_first(
    accept_encoding: str | None, coding: str | None
) -> None:
    assert preferred_coding(accept_encoding) == coding


def test_an_answer_of_the_minimum_size_is_gzipped_for_a_client_taking_gzip() -> None:
    # GIVEN an answer of exactly the minimum size, already varying on Origin
    payload = b"x" * MINIMUM
    headers = {**TEXT, "Vary": "Origin"}

    # WHEN it goes to a client that prefers gzip
    sent_headers, sent = compress(
        headers, payload, accept_encoding="gzip, deflate", minimum_size=MINIMUM
    )

    # THEN it is gzipped, says so, and varies on Accept-Encoding too
    assert gzip.decompress(sent) == payload
    assert sent_headers == {**TEXT, "Content-Encoding": "gzip", "Vary": "Origin, Accept-Encoding"}


@pytest.mark.parametrize(
    ("headers", "size", "accept_encoding", "minimum"),
    [
        (TEXT, MINIMUM - 1, "gzip", MINIMUM),  # too small
        (TEXT, MINIMUM, "gzip", None),  # the API does not compress
        (TEXT, MINIMUM, None, MINIMUM),  # the client asks for nothing
        (TEXT, MINIMUM, "*", MINIMUM),  # nor names a coding
        (TEXT, MINIMUM, "br, gzip", MINIMUM),  # it prefers one API Gateway lacks
        (TEXT, MINIMUM, "deflate", MINIMUM),  # API Gateway deflates; the local gateway does not
        ({**TEXT, "content-encoding": "br"}, MINIMUM, "gzip", MINIMUM),  # already encoded
    ],
    ids=["small", "off", "no-header", "star", "br-first", "deflate", "encoded"],
)
def test_other_answers_pass_unchanged(
    headers: dict[str, str], size: int, accept_encoding: str | None, minimum: int | None
) -> None:
    payload = b"x" * size
    assert compress(headers, payload, accept_encoding=accept_encoding, minimum_size=minimum) == (
        headers,
        payload,
    )


@pytest.fixture
def gateway() -> Iterator[str]:
    """A gateway whose one route answers a large stylesheet and whose other a small JSON."""
    bodies = {"/v1/docs/swagger-ui.css": "a{color:red}" * 200, "/v1/query": '{"found": 0}'}

    def invoke(function: str, event: Any) -> tuple[Any, float, float | None]:
        answer = {
            "statusCode": 200,
            "multiValueHeaders": {"Content-Type": ["text/plain"]},
            "body": bodies[event["path"]],
            "isBase64Encoded": False,
        }
        return answer, 1.0, None

    server = Gateway(
        0,
        [
            ApiRoute("GET", "/v1/docs/swagger-ui.css", "QueryFunction", MINIMUM),
            ApiRoute("POST", "/v1/query", "QueryFunction", MINIMUM),
        ],
        invoke,
        lambda method, path, body: (404, {}),
        api_key="k",
        stage="prod",
        log=lambda line: None,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()


def raw_answer(url: str, accept_encoding: str, method: str = "GET") -> requests.Response:
    """The answer with its body as sent (``answer.raw``, not decoded)."""
    headers = {"x-api-key": "k", "Accept-Encoding": accept_encoding}
    return requests.request(method, url, headers=headers, timeout=10, stream=True)


def test_the_gateway_gzips_a_large_answer_for_a_client_taking_gzip(gateway: str) -> None:
    # WHEN a browser asks for the large stylesheet
    answer = raw_answer(f"{gateway}/v1/docs/swagger-ui.css", "gzip, deflate, br, zstd")

    # THEN it is sent gzipped, with its gzipped length
    sent = answer.raw.read()
    assert answer.headers["Content-Encoding"] == "gzip"
    assert answer.headers["Vary"] == "Accept-Encoding"
    assert int(answer.headers["Content-Length"]) == len(sent)
    assert gzip.decompress(sent) == b"a{color:red}" * 200


def test_the_gateway_sends_small_answers_and_identity_requests_as_they_are(gateway: str) -> None:
    # WHEN a small answer goes to a gzip client, and a large one to a client refusing codings
    small = raw_answer(f"{gateway}/v1/query", "gzip", method="POST")
    identity = raw_answer(f"{gateway}/v1/docs/swagger-ui.css", "identity")

    # THEN neither is compressed
    assert "Content-Encoding" not in small.headers
    assert small.raw.read() == b'{"found": 0}'
    assert "Content-Encoding" not in identity.headers
    assert identity.raw.read() == b"a{color:red}" * 200
