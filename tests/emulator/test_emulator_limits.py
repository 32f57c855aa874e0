"""The emulator refuses exactly what the validators refuse: one table of limits, both sides."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.tpns_client import BATCHOPERATE_PATH, TpnsTestClient
from tpns_account import BatchOperation, RequestValidationError, limits

LONGEST_TOKEN = "t" * limits.TOKEN_MAX_BYTES
LONGEST_ACCOUNT = "a" * limits.ACCOUNT_MAX_CHARS


def bind(account: Any = "ab", token: Any = "t1", **extra: Any) -> dict[str, Any]:
    element = account if isinstance(account, dict) else {"account": account}
    return {
        "operator_type": 2,
        "token_accounts": [{"token": token, "account_list": [element]}],
        **extra,
    }


def accounts(count: int) -> dict[str, Any]:
    return {
        "operator_type": 2,
        "token_accounts": [
            {"token": "t1", "account_list": [{"account": f"a{i:03d}"} for i in range(count)]}
        ],
    }


CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("token-of-64-bytes", bind(token=LONGEST_TOKEN), True),
    ("token-of-65-bytes", bind(token=LONGEST_TOKEN + "x"), False),
    ("empty-token", bind(token=""), False),
    ("token-with-a-space", bind(token="t 1"), False),
    ("token-not-a-string", bind(token=7), False),
    ("account-of-1-byte", bind("a"), False),
    ("account-of-2-bytes", bind("ab"), True),
    ("account-of-one-cjk-character", bind("张"), True),
    ("account-of-100-characters", bind(LONGEST_ACCOUNT), True),
    ("account-of-101-characters", bind(LONGEST_ACCOUNT + "a"), False),
    ("blank-account", bind("   "), False),
    ("account-with-a-control-character", bind("a\x00b"), False),
    ("documented-account-type", bind({"account": "ab", "account_type": 1005}), True),
    ("undocumented-account-type", bind({"account": "ab", "account_type": 2000}), False),
    ("account-type-as-text", bind({"account": "ab", "account_type": "0"}), False),
    ("top-level-account-type", bind(account_type=1005), True),
    ("undocumented-top-level-account-type", bind(account_type=2000), False),
    ("accounts-per-token-at-the-cap", accounts(limits.MAX_ACCOUNTS_PER_TOKEN_ENTRY), True),
    ("accounts-per-token-over-the-cap", accounts(limits.MAX_ACCOUNTS_PER_TOKEN_ENTRY + 1), False),
    ("known-platform", bind(platform="ios"), True),
    ("unknown-platform", bind(platform="web"), False),
]


def validators_accept(body: dict[str, Any]) -> bool:
    try:
        BatchOperation.from_dict(body, duplicates="merge")
    except RequestValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("body", "valid"), [(b, v) for _, b, v in CASES], ids=[c[0] for c in CASES]
)
def test_validators_and_emulator_agree(
    client: TpnsTestClient, body: dict[str, Any], valid: bool
) -> None:
    # GIVEN a body at one side of a documented limit
    # WHEN the validators parse it and the emulator receives it as it is
    accepted_here = validators_accept(body)
    answer = client.post(BATCHOPERATE_PATH, body).json()
    # THEN both take it, or both refuse it (the emulator as TPNS does: 1008007 / 1008002)
    assert accepted_here is valid
    assert (answer["ret_code"] == 0) is valid, answer


def test_the_emulator_refuses_one_item_more_than_a_call_takes(client: TpnsTestClient) -> None:
    # GIVEN a call of 21 tokens (the payload builder never sends more than 20)
    body = {
        "operator_type": 4,
        "token_list": [f"t{i}" for i in range(limits.MAX_ITEMS_PER_CALL + 1)],
    }
    # WHEN it reaches the emulator THEN it is refused as TPNS refuses it
    assert client.post(BATCHOPERATE_PATH, body).json()["ret_code"] == 1008007
