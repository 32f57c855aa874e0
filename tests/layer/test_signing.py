"""Signing: the vendor's test vector reproduced exactly, and both header schemes."""

from __future__ import annotations

import base64

from tests.support.vector import (
    VECTOR_ACCESS_ID,
    VECTOR_BODY,
    VECTOR_HEX_DIGEST,
    VECTOR_SECRET_KEY,
    VECTOR_SIGN,
    VECTOR_TIMESTAMP,
)
from tpns_account.signing import basic_headers, sign, signature_headers


def test_sign_reproduces_the_reference_test_vector() -> None:
    # GIVEN the documented inputs
    inputs = (VECTOR_SECRET_KEY, VECTOR_ACCESS_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    # WHEN signed
    signed = sign(*inputs)
    # THEN the documented Sign comes out exactly
    assert signed == VECTOR_SIGN


def test_sign_base64_encodes_the_lowercase_hex_digest() -> None:
    # GIVEN the documented Sign
    # WHEN it is decoded
    decoded = base64.b64decode(VECTOR_SIGN).decode()
    # THEN it is the 64-character lowercase hex digest
    assert decoded == VECTOR_HEX_DIGEST
    assert len(VECTOR_SIGN) == 88


def test_signature_headers_use_the_given_time_and_sign_the_exact_body() -> None:
    # GIVEN the vector's app and body, at a time within the vector's second
    now = VECTOR_TIMESTAMP + 0.9
    # WHEN the signature headers are built
    headers = signature_headers(VECTOR_ACCESS_ID, VECTOR_SECRET_KEY, VECTOR_BODY, now=now)
    # THEN they carry the access id, the whole-second timestamp and the vector's Sign
    assert headers == {"AccessId": "1500001048", "TimeStamp": "1565314789", "Sign": VECTOR_SIGN}


def test_basic_header_encodes_access_id_and_key() -> None:
    # GIVEN an access id and a key
    # WHEN the Basic header is built
    header = basic_headers("1500001048", "k")["Authorization"]
    # THEN it is "Basic " and the base64 of "access_id:key"
    assert header == "Basic " + base64.b64encode(b"1500001048:k").decode()
