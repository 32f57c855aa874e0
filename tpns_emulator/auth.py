"""TPNS request authentication, verified for real so that client signing bugs surface in tests.

Two schemes, both per app: HTTP Basic (``AccessID:SecretKey``) and the vendor's recommended
signature (headers ``AccessId``, ``TimeStamp``, ``Sign``).  The secret key is never logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

#: App states an emulated app can be in, and the ``ret_code`` a non-active one answers with.
APP_STATES = frozenset({"active", "unpaid", "destroyed", "undeployed"})
APP_STATE_CODES: dict[str, int] = {"unpaid": 1008030, "destroyed": 1008031, "undeployed": 1010001}

AUTH_FAILED = 1008003
UNKNOWN_APP = 1008035


@dataclass(frozen=True, slots=True)
class App:
    """One TPNS app; frozen so handler threads can read it without a lock."""

    access_id: str
    secret_key: str = field(repr=False)
    state: str = "active"


@dataclass(frozen=True, slots=True)
class AuthResult:
    """Outcome of authentication: ``ret_code == 0`` means the request may proceed."""

    ret_code: int
    http_status: int
    access_id: str | None
    scheme: str | None

    @property
    def ok(self) -> bool:
        return self.ret_code == 0


def compute_sign(secret_key: str, timestamp: str, access_id: str, body: bytes) -> str:
    """The documented Sign: base64(hex(HMAC-SHA256(SecretKey, TimeStamp+AccessId+body)))."""
    message = timestamp.encode("utf-8") + access_id.encode("utf-8") + body
    hex_digest = hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return base64.b64encode(hex_digest.encode("ascii")).decode("ascii")


def basic_authorization(access_id: str, secret_key: str) -> str:
    """The ``Authorization`` header value of the Basic scheme."""
    token = base64.b64encode(f"{access_id}:{secret_key}".encode()).decode("ascii")
    return f"Basic {token}"


def decode_basic(authorization: str | None) -> tuple[str, str] | None:
    """``(access_id, secret_key)`` from a Basic header, or None when it is absent or malformed."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    access_id, sep, secret_key = decoded.partition(":")
    if not sep:
        return None
    return access_id, secret_key


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _app_state_result(app: App, scheme: str) -> AuthResult:
    code = APP_STATE_CODES.get(app.state, 0)
    return AuthResult(code, 200, app.access_id, scheme)


def authenticate(
    *,
    access_id: str | None,
    timestamp: str | None,
    sign: str | None,
    authorization: str | None,
    body: bytes,
    apps: dict[str, App],
    now: float,
    skew_window_s: float,
) -> AuthResult:
    """Check either scheme (signature wins when ``Sign`` is present) against the known apps."""
    if sign is not None:
        if not access_id or timestamp is None:
            return AuthResult(AUTH_FAILED, 401, access_id or None, "sign")
        app = apps.get(access_id)
        if app is None:
            return AuthResult(UNKNOWN_APP, 403, access_id, "sign")
        try:
            ts = int(timestamp.strip())
        except ValueError:
            return AuthResult(AUTH_FAILED, 401, access_id, "sign")
        if abs(now - ts) > skew_window_s:
            logger.debug("timestamp %s outside the skew window for %s", timestamp, access_id)
            return AuthResult(AUTH_FAILED, 401, access_id, "sign")
        expected = compute_sign(app.secret_key, timestamp, access_id, body)
        if not _same(sign.strip(), expected):
            logger.debug("bad signature for %s", access_id)
            return AuthResult(AUTH_FAILED, 401, access_id, "sign")
        return _app_state_result(app, "sign")

    credentials = decode_basic(authorization)
    if credentials is None:
        return AuthResult(AUTH_FAILED, 401, access_id or None, None)
    basic_id, basic_key = credentials
    app = apps.get(basic_id)
    if app is None:
        return AuthResult(UNKNOWN_APP, 403, basic_id, "basic")
    if not _same(basic_key, app.secret_key):
        logger.debug("bad basic credentials for %s", basic_id)
        return AuthResult(AUTH_FAILED, 401, basic_id, "basic")
    return _app_state_result(app, "basic")
