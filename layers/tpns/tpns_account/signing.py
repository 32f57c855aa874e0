"""The two TPNS authentication schemes.

Sign = base64(lowercase_hex(HMAC_SHA256(key=SecretKey, msg=TimeStamp + AccessId + body))).
The body must be the exact bytes sent; the hex digest (not the raw digest) is base64-encoded,
so a signature is always 88 characters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def sign(secret_key: str, access_id: str, timestamp: int | str, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + access_id.encode("utf-8") + body
    digest = hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode("ascii")).decode("ascii")


def signature_headers(
    access_id: str, secret_key: str, body: bytes, *, now: float | None = None
) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "AccessId": access_id,
        "TimeStamp": str(timestamp),
        "Sign": sign(secret_key, access_id, timestamp, body),
    }


def basic_headers(access_id: str, secret_key: str) -> dict[str, str]:
    token = base64.b64encode(f"{access_id}:{secret_key}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}
