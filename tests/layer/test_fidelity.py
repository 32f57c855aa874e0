"""What the vendor documents, sent and read exactly (the seed pages, through the emulator)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.apps import ACCESS_ID, IOS_ACCESS_ID, IOS_SECRET_KEY, SECRET_KEY
from tests.support.layer_clients import FAST_RETRY
from tpns_account import (
    Account,
    AppCredentials,
    BatchOperation,
    Query,
    StaticCredentials,
    TokenAccounts,
    TpnsClient,
    UnexpectedResponseError,
)
from tpns_emulator import TpnsEmulator

ANSWERS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "events" / "tpns" / "seed-answers.json").read_text()
)


def reply(emulator: TpnsEmulator, sample: str) -> None:
    """The emulator answers the next call with one of the vendor's sample answers."""
    emulator.faults.add("reply", body=ANSWERS[sample]["answer"], times=1)


def test_the_short_sample_result_accepts_every_item_of_the_call(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS answers ["0"] to a two-token unbind, as the 2023 pages show
    reply(emulator, "batchoperate_short_result")
    # WHEN the unbind is sent
    result = client.unbind(
        [
            TokenAccounts("token1", (Account("926@126.com"),)),
            TokenAccounts("token2", (Account("926@163.com"),)),
        ]
    )
    # THEN the one code stands for every item: both accepted, no exception, no warning
    assert [(i.status, i.code) for i in result.items] == [("accepted", 0), ("accepted", 0)]
    assert result.warnings == []


def test_a_result_of_another_length_with_ret_code_0_is_accepted_with_a_warning(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS accepts a three-token call but lists two codes
    emulator.faults.add("reply", body={"ret_code": 0, "result": ["0", "0"]}, times=1)
    # WHEN the call is made
    result = client.unbind_all_accounts(["t1", "t2", "t3"])
    # THEN every item is accepted, and the answer says TPNS gave no code per item
    assert [i.status for i in result.items] == ["accepted"] * 3
    assert result.warnings == [
        "items 0-2: TPNS accepted the call without a code per item; taken as accepted"
    ]


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("batchoperate_legacy_ok", [("accepted", 0), ("accepted", 0)]),
        ("batchoperate_legacy_words", [("accepted", 0), ("failed", 10110008)]),
        ("batchoperate_codes", [("accepted", 0), ("failed", 1008006)]),
    ],
)
def test_every_sample_batchoperate_answer_reads_per_item(
    client: TpnsClient, emulator: TpnsEmulator, sample: str, expected: list[tuple[str, int]]
) -> None:
    # GIVEN TPNS answers a two-token bind with the sample
    reply(emulator, sample)
    # WHEN the bind is sent
    result = client.bind(
        [TokenAccounts("token1", (Account("aa"),)), TokenAccounts("token2", (Account("bb"),))]
    )
    # THEN each item has the outcome its code says
    assert [(i.status, i.code) for i in result.items] == expected


@pytest.mark.parametrize("sample", ["query_tokens_current", "query_tokens_legacy"])
def test_both_query_casings_read_tokens_per_account(
    client: TpnsClient, emulator: TpnsEmulator, sample: str
) -> None:
    # GIVEN TPNS answers in the camelCase (2024) or snake_case (2019) envelope
    reply(emulator, sample)
    # WHEN the tokens of two accounts are asked, untyped as in the 2024 sample
    result = client.tokens_of([Account("account1"), Account("account2")])
    # THEN each account gets its tokens
    assert [(i.status, i.tokens) for i in result.items] == [
        ("found", ("token1", "token2")),
        ("found", ("token2", "token3")),
    ]


@pytest.mark.parametrize(
    ("sample", "types"), [("query_accounts_current", (0, 0)), ("query_accounts_legacy", (2, 1))]
)
def test_both_query_casings_read_accounts_per_token(
    client: TpnsClient, emulator: TpnsEmulator, sample: str, types: tuple[int, int]
) -> None:
    # GIVEN TPNS answers in either casing, with or without account types
    reply(emulator, sample)
    # WHEN the accounts of two tokens are asked
    result = client.accounts_of(["token1", "token2"])
    # THEN each token lists what TPNS holds, an omitted type being TPNS's default
    assert result.items[0].accounts == (
        Account("926@126.com", types[0]),
        Account("1527000000", types[1]),
    )


def test_an_untyped_account_is_sent_without_a_type(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN the vendor's op 5 sample, accounts without a type
    operation = BatchOperation.from_dict(
        {"operator_type": 5, "account_list": [{"account": "926@126.com"}, {"account": "张三"}]}
    )
    # WHEN it is sent
    assert client.batch_operate(operation).ok
    # THEN TPNS receives exactly that: no type invented
    assert emulator.stats.calls[-1].body == {
        "operator_type": 5,
        "account_list": [{"account": "926@126.com"}, {"account": "张三"}],
    }


def test_a_top_level_account_type_reaches_tpns_on_each_untyped_element(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN a bind with the documented top-level account_type and one element typed otherwise
    operation = BatchOperation.from_dict(
        {
            "operator_type": 2,
            "account_type": 1005,
            "token_accounts": [
                {"token": "t1", "account_list": [{"account": "a@b.cn"}]},
                {"token": "t2", "account_list": [{"account": "13800", "account_type": 1002}]},
            ],
        }
    )
    # WHEN it is sent
    assert client.batch_operate(operation).ok
    # THEN TPNS binds the untyped one as 1005, the typed one as given
    emulator.flush()
    assert emulator.bindings(ACCESS_ID) == {"t1": [("a@b.cn", 1005)], "t2": [("13800", 1002)]}


def test_one_cjk_character_is_a_valid_account_end_to_end(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN an account of one character and three bytes
    # WHEN it is bound
    result = client.bind([TokenAccounts("t1", (Account("张", 1005),))])
    # THEN both the validators and TPNS take it
    assert result.ok
    assert emulator.bindings(ACCESS_ID) == {"t1": [("张", 1005)]}


def test_a_short_result_with_failures_cannot_be_read_per_item(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN a partly failed batch whose result does not say which item failed
    emulator.faults.add("reply", body={"ret_code": 1008026, "result": ["1008006"]}, times=1)
    # WHEN the call is made THEN it is an unexpected answer, not a guess
    with pytest.raises(UnexpectedResponseError):
        client.unbind_all_accounts(["t1", "t2"])


@pytest.fixture
def second_region() -> Iterator[TpnsEmulator]:
    """Another access point (a second emulator) holding the iOS app only."""
    with TpnsEmulator(apps={IOS_ACCESS_ID: IOS_SECRET_KEY}) as emulator:
        yield emulator


def test_each_app_of_a_secret_calls_its_own_regional_host(
    emulator: TpnsEmulator, second_region: TpnsEmulator
) -> None:
    # GIVEN Android in the client's default region and iOS in another one
    emulator.add_app(IOS_ACCESS_ID, "not-this-region")
    credentials = StaticCredentials(
        {
            "android": AppCredentials(ACCESS_ID, SECRET_KEY),
            "ios": AppCredentials(IOS_ACCESS_ID, IOS_SECRET_KEY, second_region.url),
        },
        default_app="android",
    )
    client = TpnsClient(credentials, endpoint=emulator.url, retry=FAST_RETRY, time_budget=5.0)
    # WHEN each app binds a token
    try:
        assert client.bind([TokenAccounts("android-t", (Account("aa"),))], app="android").ok
        assert client.bind([TokenAccounts("ios-t", (Account("bb"),))], app="ios").ok
        found = client.query(Query.accounts_of(["ios-t"]), app="ios")
    finally:
        client.close()
    # THEN each call went to its app's host, and only there
    assert emulator.bindings(ACCESS_ID) == {"android-t": [("aa", 0)]}
    assert emulator.bindings(IOS_ACCESS_ID) == {}
    assert second_region.bindings(IOS_ACCESS_ID) == {"ios-t": [("bb", 0)]}
    assert found.items[0].accounts == (Account("bb", 0),)
