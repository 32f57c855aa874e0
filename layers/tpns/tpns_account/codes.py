"""TPNS return codes: what each one means and how a caller should react to it.

The table is the single source of truth for classification; the client, the HTTP adapters and
the bulk path all ask it rather than matching numbers themselves.
"""

from __future__ import annotations

import re
from enum import StrEnum


class CodeClass(StrEnum):
    OK = "ok"
    BAD_REQUEST = "bad_request"
    AUTH = "auth"
    CONFIGURATION = "configuration"
    TRANSIENT = "transient"
    THROTTLED = "throttled"
    ITEM = "item"
    PARTIAL = "partial"
    APP_STATE = "app_state"
    UNKNOWN = "unknown"


SUCCESS = 0
PARSE_ERROR = 1008001
MISSING_PARAMETER = 1008002
AUTH_FAILED = 1008003
INTERNAL_ERROR = 1008004
INVALID_TOKEN = 1008006
INVALID_PARAMETER = 1008007
BATCH_PARTLY_FAILED = 1008026
BATCH_FAILED = 1008027
TOO_FAST = 1008028
INVALID_TOKEN_ALT = 1008029
APP_UNPAID = 1008030
APP_DESTROYED = 1008031
WRONG_ACCESS_ID_OR_REGION = 1008035
APP_NOT_DEPLOYED = 1010001
KEY_MISMATCH = 10030002
NOT_FOUND = 10110008

_TABLE: dict[int, tuple[CodeClass, str]] = {
    SUCCESS: (CodeClass.OK, "success"),
    PARSE_ERROR: (CodeClass.BAD_REQUEST, "request body could not be parsed"),
    MISSING_PARAMETER: (CodeClass.BAD_REQUEST, "a required parameter is missing"),
    INVALID_PARAMETER: (CodeClass.BAD_REQUEST, "a parameter is invalid"),
    AUTH_FAILED: (CodeClass.AUTH, "authentication failed"),
    WRONG_ACCESS_ID_OR_REGION: (
        CodeClass.CONFIGURATION,
        "AccessID is wrong or the app belongs to another regional host",
    ),
    KEY_MISMATCH: (CodeClass.CONFIGURATION, "AccessID and SecretKey do not match"),
    INTERNAL_ERROR: (CodeClass.TRANSIENT, "TPNS internal service call failed"),
    TOO_FAST: (CodeClass.THROTTLED, "request too fast"),
    INVALID_TOKEN: (CodeClass.ITEM, "invalid token"),
    INVALID_TOKEN_ALT: (CodeClass.ITEM, "invalid token"),
    NOT_FOUND: (CodeClass.ITEM, "token or account does not exist"),
    BATCH_PARTLY_FAILED: (CodeClass.PARTIAL, "batch partly failed"),
    BATCH_FAILED: (CodeClass.PARTIAL, "batch totally failed"),
    APP_UNPAID: (CodeClass.APP_STATE, "app is unpaid"),
    APP_DESTROYED: (CodeClass.APP_STATE, "app is destroyed"),
    APP_NOT_DEPLOYED: (CodeClass.APP_STATE, "app is not deployed"),
}

# Legacy XG servers answered per-item words instead of codes.
LEGACY_WORDS: dict[str, int] = {
    "ok": SUCCESS,
    "token_not_exists": NOT_FOUND,
    "account_not_exists": NOT_FOUND,
    "token_invalid": INVALID_TOKEN,
}

UNKNOWN_ITEM_CODE = -1
INTEGER = re.compile(r"-?[0-9]{1,12}")


def classify(code: int) -> CodeClass:
    """How a caller should treat ``code`` (unknown codes are permanent failures)."""
    entry = _TABLE.get(code)
    return entry[0] if entry else CodeClass.UNKNOWN


def describe(code: int) -> str:
    """A short human meaning for ``code``, for logs and error answers."""
    entry = _TABLE.get(code)
    return entry[1] if entry else f"unknown TPNS code {code}"


def parse_item_code(value: object) -> tuple[int, str | None]:
    """Normalise one per-item ``result`` value (``"0"``, ``"1008006"``, ``"ok"``, ``0``).

    Returns the integer code and, for a value that is neither a number nor a known legacy word,
    the raw text so that nothing the server said is thrown away.
    """
    if isinstance(value, bool):
        return UNKNOWN_ITEM_CODE, str(value)
    if isinstance(value, int):
        return value, None
    if isinstance(value, str):
        text = value.strip()
        if INTEGER.fullmatch(text):
            return int(text), None
        word = LEGACY_WORDS.get(text.lower())
        if word is not None:
            return word, None
        return UNKNOWN_ITEM_CODE, text
    return UNKNOWN_ITEM_CODE, repr(value)
