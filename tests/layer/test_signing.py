from __future__ import annotations

import base64

from tpns_account.signing import basic_headers, sign, signature_headers

VECTOR_BODY = (
    b'{"operator_type":2,"token_accounts":[{"token":"token1",'
    b'"account_list":[{"account":"926@126.com"}]}]}'
)
VECTOR_SIGN = (
    "MmIxMDA3YjMyZWVmOTE3MzVmNWE3NDJmZmYxNGI4N2MxNjdiZDRkZTMxODRjOWFlZWYyZTA0MjA4MDdiZDU4MQ=="
)


def test_sign_reproduces_the_reference_test_vector() -> None:
    # GIVEN the documented inputs WHEN signed THEN the documented Sign comes out exactly
    assert (
        sign("1452fcebae9f3115ba794fb0fff2fd73", "1500001048", 1565314789, VECTOR_BODY)
        == VECTOR_SIGN
    )


def test_sign_base64_encodes_the_lowercase_hex_digest() -> None:
    # GIVEN the vector WHEN the Sign is decoded THEN it is the 64-character lowercase hex digest
    decoded = base64.b64decode(VECTOR_SIGN).decode()
    assert decoded == "2b1007b32eef91735f5a742fff14b87c167bd4de3184c9aeef2e0420807bd581"
    assert len(VECTOR_SIGN) == 88


def test_signature_headers_use_the_given_time_and_sign_the_exact_body() -> None:
    headers = signature_headers(
        "1500001048", "1452fcebae9f3115ba794fb0fff2fd73", VECTOR_BODY, now=1565314789.9
    )
    assert headers == {"AccessId": "1500001048", "TimeStamp": "1565314789", "Sign": VECTOR_SIGN}


def test_basic_header_encodes_access_id_and_key() -> None:
    header = basic_headers("1500001048", "k")["Authorization"]
    assert header == "Basic " + base64.b64encode(b"1500001048:k").decode()
