"""What TPNS accepts, stated once (``../shared/tpns/REFERENCE.md``).

The request validators, the OpenAPI spec and the TPNS emulator all read these values, so a
request the validators pass is one the emulator takes, and the spec says exactly that.
"[inferred]" marks our reading where the vendor is silent.
"""

from __future__ import annotations

import re
from typing import Final

#: Device tokens: 1-64 bytes [doc, 2019 glossary]. Tokens are hex, UUID-like or base64-ish; the
#: alphabet is ours [inferred], refused before TPNS sees anything else.
TOKEN_MIN_BYTES: Final = 1
TOKEN_MAX_BYTES: Final = 64
TOKEN_ALPHABET: Final = "A-Za-z0-9_:.+/="  # noqa: S105 (a character class)
TOKEN_CHARACTERS: Final = "letters, digits and _ : . + / = -"  # noqa: S105 (a description)
#: Patterns are written once for both Python (``match``) and the OpenAPI spec (ECMA 262):
#: ``(?![\s\S])`` ends the input in both, where ``$`` would let a trailing newline through.
END: Final = r"(?![\s\S])"
TOKEN_REGEX: Final = f"[{TOKEN_ALPHABET}-]{{{TOKEN_MIN_BYTES},{TOKEN_MAX_BYTES}}}{END}"
TOKEN_PATTERN: Final = re.compile(TOKEN_REGEX)

#: Accounts: "greater than 1 byte" [doc], so at least 2 bytes of UTF-8 (one CJK character is 3);
#: at most 100 characters [doc, the vendor's account-package rules]. Our own rule on top: text,
#: not blank, no control characters.
ACCOUNT_MIN_BYTES: Final = 2
ACCOUNT_MAX_CHARS: Final = 100
#: The whole account rule as one regular expression: not blank, no C0 control character or
#: DEL, then either 2-100 characters or one character of at least 2 bytes in UTF-8 (any
#: non-ASCII one). Only lone surrogates (which JSON can carry) are refused apart from it.
ACCOUNT_REGEX: Final = (
    rf"(?!\s*{END})(?:[^\x00-\x1f\x7f]{{2,{ACCOUNT_MAX_CHARS}}}|[^\x00-\x7f]){END}"
)
ACCOUNT_PATTERN: Final = re.compile(ACCOUNT_REGEX)

#: The current TPNS account type table; the legacy XG numbers are not accepted.
ACCOUNT_TYPES: Final = frozenset([0, *range(1, 17), 991, 992, 997, 998, 999, *range(1002, 1016)])
ACCOUNT_TYPES_TEXT: Final = "0, 1-16, 991, 992, 997, 998, 999, 1002-1015"
#: TPNS's default type [doc], which the ledger also assumes for an account sent without one.
DEFAULT_ACCOUNT_TYPE: Final = 0

#: Items per call: 20 tokens in ``token_accounts`` [doc]; the same for ``token_list``,
#: ``account_list`` and queries [inferred].
MAX_ITEMS_PER_CALL: Final = 20
#: Accounts listed for one token in one call [inferred]: TPNS keeps one per account_type anyway.
MAX_ACCOUNTS_PER_TOKEN_ENTRY: Final = 100
#: Tokens one account may be bound to [doc]; the 101st evicts the oldest [inferred].
MAX_TOKENS_PER_ACCOUNT: Final = 100

PLATFORMS: Final = frozenset({"android", "ios"})


def token_problem(value: str) -> str | None:
    """Why ``value`` is not a token TPNS takes, or None."""
    size = len(value.encode("utf-8", "surrogatepass"))
    if not TOKEN_MIN_BYTES <= size <= TOKEN_MAX_BYTES:
        return f"must be {TOKEN_MIN_BYTES}-{TOKEN_MAX_BYTES} bytes, got {size}"
    if not TOKEN_PATTERN.match(value):
        return f"must contain only {TOKEN_CHARACTERS}"
    return None


def account_problem(value: str) -> str | None:
    """Why ``value`` is not an account TPNS takes, or None."""
    size = len(value.encode("utf-8", "surrogatepass"))
    if size < ACCOUNT_MIN_BYTES or len(value) > ACCOUNT_MAX_CHARS:
        return (
            f"must be at least {ACCOUNT_MIN_BYTES} bytes of UTF-8 and at most "
            f"{ACCOUNT_MAX_CHARS} characters, got {size} bytes in {len(value)} characters"
        )
    if not ACCOUNT_PATTERN.match(value) or not _is_utf8(value):
        return "must be valid text, not blank, without control characters"
    return None


def account_type_problem(value: int) -> str | None:
    if value not in ACCOUNT_TYPES:
        return f"{value} is not a TPNS account type ({ACCOUNT_TYPES_TEXT})"
    return None


def _is_utf8(text: str) -> bool:
    """False for lone surrogates, which JSON can carry but UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
