"""The vendor's documented signing test vector: an app, its key, a request, and its Sign."""

from __future__ import annotations

VECTOR_ACCESS_ID = "1500001048"
VECTOR_SECRET_KEY = "1452fcebae9f3115ba794fb0fff2fd73"
VECTOR_TIMESTAMP = 1565314789
VECTOR_BODY = (
    b'{"operator_type":2,"token_accounts":[{"token":"token1",'
    b'"account_list":[{"account":"926@126.com"}]}]}'
)
# Base64 of the lowercase hex HMAC-SHA256 of timestamp + access id + body, keyed by the secret.
VECTOR_SIGN = (
    "MmIxMDA3YjMyZWVmOTE3MzVmNWE3NDJmZmYxNGI4N2MxNjdiZDRkZTMxODRjOWFlZWYyZTA0MjA4MDdiZDU4MQ=="
)
VECTOR_HEX_DIGEST = "2b1007b32eef91735f5a742fff14b87c167bd4de3184c9aeef2e0420807bd581"
