"""Every operator type and both query types, checked against the emulator's resulting state."""

from __future__ import annotations

import json
from typing import Any

from tests.support.apps import ACCESS_ID, IOS_ACCESS_ID, IOS_SECRET_KEY, SECRET_KEY
from tests.support.layer_clients import MakeClient
from tests.support.paths import SEED_REQUESTS_PATH
from tpns_account import (
    Account,
    AppCredentials,
    BatchOperation,
    Query,
    StaticCredentials,
    TokenAccounts,
    TpnsClient,
)
from tpns_emulator import TpnsEmulator


def seed_requests() -> dict[str, Any]:
    """The vendor's sample requests, by endpoint and operator type."""
    seeds: dict[str, Any] = json.loads(SEED_REQUESTS_PATH.read_text())
    return seeds


def bind(client: TpnsClient, token: str, *accounts: Account) -> None:
    client.bind([TokenAccounts(token, accounts)])


def test_override_binds_exactly_the_given_accounts(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN token t1 bound to an old account
    bind(client, "t1", Account("old-account"))
    # WHEN it is bound (operator_type 2) to two accounts of different types
    result = client.bind(
        [TokenAccounts("t1", (Account("926@126.com", 1005), Account("+8613711112222", 1002)))]
    )
    # THEN the old binding is gone and both new ones are there
    assert result.ok
    assert result.items[0].status == "accepted"
    assert emulator.bindings(ACCESS_ID) == {"t1": [("926@126.com", 1005), ("+8613711112222", 1002)]}


def test_vendor_sample_keeps_one_account_per_type_and_warns(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN the vendor's own sample request (two type-0 accounts per token)
    sample = seed_requests()["batchoperate"]["2"]
    # WHEN sent
    result = client.batch_operate(BatchOperation.from_dict(sample))
    # THEN TPNS keeps the later account of each token, and the answer said so beforehand
    assert emulator.bindings(ACCESS_ID) == {
        "token1": [("1527000000", 0)],
        "token2": [("1527000001", 0)],
    }
    assert len(result.warnings) == 2
    assert "TPNS keeps only 1527000000" in result.warnings[0]


def test_operator_type_1_behaves_as_override(client: TpnsClient, emulator: TpnsEmulator) -> None:
    # GIVEN t1 bound to an account of type 1
    bind(client, "t1", Account("first-account", 1))
    # WHEN an append (operator_type 1) of another account is sent for t1
    sample = {
        "operator_type": 1,
        "token_accounts": [{"token": "t1", "account_list": [{"account": "second"}]}],
    }
    client.batch_operate(BatchOperation.from_dict(sample))
    # THEN t1 holds only the new account, as with an override
    assert emulator.bindings(ACCESS_ID) == {"t1": [("second", 0)]}


def test_unbind_listed_accounts_leaves_the_others(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN t1 bound to two accounts
    bind(client, "t1", Account("keep-me", 1), Account("drop-me", 2))
    # WHEN one of them is unbound from t1
    result = client.unbind([TokenAccounts("t1", (Account("drop-me", 2),))])
    # THEN only the other stays
    assert result.ok
    assert emulator.bindings(ACCESS_ID) == {"t1": [("keep-me", 1)]}


def test_unbind_tokens_removes_all_their_accounts(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN t1 bound to two accounts and t2 to one
    bind(client, "t1", Account("aa", 1), Account("bb", 2))
    bind(client, "t2", Account("aa", 1))
    # WHEN t1 is unbound from all its accounts
    client.unbind_all_accounts(["t1"])
    # THEN t1 is gone and t2 untouched
    assert emulator.bindings(ACCESS_ID) == {"t2": [("aa", 1)]}


def test_unbind_accounts_removes_them_from_every_token(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN account aa bound on t1 and t2, and bb on t1
    bind(client, "t1", Account("aa", 1), Account("bb", 2))
    bind(client, "t2", Account("aa", 1))
    # WHEN aa is unbound from all its tokens
    result = client.unbind_all_tokens([Account("aa", 1)])
    # THEN the answer is per account, and only bb on t1 remains
    assert [item.to_dict() for item in result.items] == [
        {"index": 0, "account": "aa", "account_type": 1, "status": "accepted", "code": 0}
    ]
    assert emulator.bindings(ACCESS_ID) == {"t1": [("bb", 2)]}


def test_query_tokens_of_accounts_answers_each_account_in_order(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN account aa bound on t1 and t2
    bind(client, "t1", Account("aa", 1))
    bind(client, "t2", Account("aa", 1))
    # WHEN the tokens of aa and of an unknown account are queried
    result = client.tokens_of([Account("aa", 1), Account("nobody")])
    # THEN aa is found with both tokens and the other is not found, echoed as asked
    assert [(i.status, i.tokens) for i in result.items] == [
        ("found", ("t1", "t2")),
        ("not_found", ()),
    ]
    assert result.account_tokens == [
        {"account": "aa", "account_type": 1, "token_list": ["t1", "t2"]},
        {"account": "nobody", "account_type": None, "token_list": []},
    ]


def test_query_accounts_of_tokens_answers_each_token_in_order(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN t1 bound to a typed and an untyped account
    bind(client, "t1", Account("aa", 1), Account("bb"))
    # WHEN the accounts of t1 and of an unknown token are queried
    result = client.accounts_of(["t1", "unknown-token"])
    # THEN t1 has both (the untyped one as TPNS's default type 0), the other is not found
    assert result.items[0].accounts == (Account("aa", 1), Account("bb", 0))
    assert result.items[1].status == "not_found"
    assert result.items[1].code == 10110008
    assert result.token_accounts[0] == {
        "token": "t1",
        "account_list": [
            {"account": "aa", "account_type": 1},
            {"account": "bb", "account_type": 0},
        ],
    }


def test_seed_query_samples_round_trip(client: TpnsClient, emulator: TpnsEmulator) -> None:
    # GIVEN token1 bound to account1, as in the vendor's query samples
    seeds = seed_requests()
    bind(client, "token1", Account("account1"))
    # WHEN both sample queries are sent
    by_account = client.query(Query.from_dict(seeds["query"]["1"]))
    by_token = client.query(Query.from_dict(seeds["query"]["2"]))
    # THEN each finds the binding from its side
    assert by_account.items[0].tokens == ("token1",)
    assert by_token.items[0].accounts == (Account("account1", 0),)


def test_45_tokens_are_sent_as_20_20_5_and_merged_in_input_order(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN 45 tokens, a few of which TPNS will refuse
    tokens = [f"token-{i:02d}" for i in range(45)]
    emulator.invalid_tokens.update({"token-03", "token-27", "token-44"})
    operation = BatchOperation.bind([TokenAccounts(t, (Account(f"acct-{t}"),)) for t in tokens])
    # WHEN bound
    emulator.reset_stats()
    result = client.batch_operate(operation)
    # THEN three calls of 20, 20 and 5 were made
    sizes = sorted(call["item_count"] for call in emulator.stats.calls)
    assert sizes == [5, 20, 20]
    # AND every answer sits at its input index, failures exactly where TPNS put them
    assert [item.index for item in result.items] == list(range(45))
    assert [item.key for item in result.items] == tokens
    failed = {item.key for item in result.failed}
    assert failed == {"token-03", "token-27", "token-44"}
    assert all(i.code == 1008006 and i.reason == "invalid token" for i in result.failed)
    assert len(emulator.bindings(ACCESS_ID)) == 42


def test_app_selects_the_credentials_of_that_app(
    make_client: MakeClient, emulator: TpnsEmulator
) -> None:
    # GIVEN a client holding the credentials of two apps, android by default
    creds = StaticCredentials(
        {
            "android": AppCredentials(ACCESS_ID, SECRET_KEY),
            "ios": AppCredentials(IOS_ACCESS_ID, IOS_SECRET_KEY),
        },
        default_app="android",
    )
    client = make_client(credentials=creds)
    # WHEN it binds for the ios app
    client.bind([TokenAccounts("ios-token", (Account("aa"),))], app="ios")
    # THEN the binding is in the ios app only
    assert emulator.bindings(IOS_ACCESS_ID) == {"ios-token": [("aa", 0)]}
    assert emulator.bindings(ACCESS_ID) == {}


def test_basic_auth_is_accepted_too(make_client: MakeClient, emulator: TpnsEmulator) -> None:
    # GIVEN a client using Basic auth instead of signatures
    client = make_client(auth="basic")
    # WHEN it binds
    client.bind([TokenAccounts("t1", (Account("aa"),))])
    # THEN TPNS accepted and applied it
    assert emulator.bindings(ACCESS_ID) == {"t1": [("aa", 0)]}


def test_accepted_is_not_applied_until_the_async_delay_passes(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS applies batchoperate later
    emulator.apply_delay = 60.0
    # WHEN a bind is accepted
    assert client.bind([TokenAccounts("t1", (Account("aa"),))]).ok
    # THEN a query does not see it yet
    assert client.accounts_of(["t1"]).items[0].status == "not_found"
    # AND once applied, it does
    emulator.flush()
    assert client.accounts_of(["t1"]).items[0].accounts == (Account("aa", 0),)
