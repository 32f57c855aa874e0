"""query over HTTP, plus the envelope styles (current camelCase query, legacy snake_case)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.tpns_client import QUERY_PATH, TpnsTestClient, acc
from tpns_emulator import TpnsEmulator


def test_query_tokens_of_accounts_in_request_order(client: TpnsTestClient) -> None:
    # GIVEN alice bound to two tokens and bob to none
    client.bind("t1", "alice")
    client.bind("t2", "alice", ("a@x.com", 1005))
    # WHEN both accounts are queried
    answer = client.query({"operator_type": 1, "account_list": acc("bob", "alice")})
    # THEN one entry per account, in order, with "10110008" for the one without tokens
    assert answer == {
        "retCode": 0,
        "errMsg": "ok",
        "result": ["10110008", "0"],
        "account_tokens": [
            {"account": "bob", "account_type": 0, "token_list": []},
            {"account": "alice", "account_type": 0, "token_list": ["t1", "t2"]},
        ],
    }


def test_query_matches_account_type(client: TpnsTestClient) -> None:
    # GIVEN t1 bound to a@x.com as type 1005
    client.bind("t1", ("a@x.com", 1005))
    # WHEN a@x.com is queried as type 0
    answer = client.query({"operator_type": 1, "account_list": acc("a@x.com")})
    # THEN it is not found
    assert answer["result"] == ["10110008"]
    # AND queried as type 1005 it is found on t1
    answer = client.query({"operator_type": 1, "account_list": acc(("a@x.com", 1005))})
    assert answer["account_tokens"][0]["token_list"] == ["t1"]


def test_query_accounts_of_tokens_with_not_found(client: TpnsTestClient) -> None:
    # GIVEN t1 bound to two accounts
    client.bind("t1", "alice", ("a@x.com", 1005))
    # WHEN t1 and an unknown token are queried
    answer = client.query({"operator_type": 2, "token_list": ["t1", "t9"]})
    # THEN t1's accounts are listed, and the other is not found with an empty list
    assert answer == {
        "retCode": 0,
        "errMsg": "ok",
        "result": ["0", "10110008"],
        "token_accounts": [
            {
                "token": "t1",
                "account_list": [
                    {"account": "alice", "account_type": 0},
                    {"account": "a@x.com", "account_type": 1005},
                ],
            },
            {"token": "t9", "account_list": []},
        ],
    }


def test_query_of_an_invalid_token_answers_1008006(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a token TPNS holds invalid
    emulator.invalid_tokens.add("bad")
    # WHEN it is queried
    answer = client.query({"operator_type": 2, "token_list": ["bad"]})
    # THEN it is answered 1008006 with no accounts
    assert answer["result"] == ["1008006"]
    assert answer["token_accounts"] == [{"token": "bad", "account_list": []}]


def test_query_accepts_basic_auth(client: TpnsTestClient) -> None:
    # GIVEN t1 bound
    client.bind("t1", "alice")
    # WHEN it is queried with Basic auth
    answer = client.query(
        {"operator_type": 2, "token_list": ["t1"]}, headers=client.basic_headers()
    )
    # THEN the query succeeds
    assert answer["result"] == ["0"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"operator_type": 2, "token_list": [f"t{i}" for i in range(21)]}, 1008007),
        ({"operator_type": 1, "account_list": [{"account": f"a{i}"} for i in range(21)]}, 1008007),
        ({"operator_type": 3, "token_list": ["t1"]}, 1008007),
        ({"operator_type": 1, "token_list": ["t1"]}, 1008002),
        ({"token_list": ["t1"]}, 1008002),
        ({"operator_type": 2, "token_list": []}, 1008007),
    ],
    ids=[
        "21-tokens",
        "21-accounts",
        "operator-type-3",
        "token-list-for-op-1",
        "no-operator-type",
        "empty-token-list",
    ],
)
def test_invalid_query_answers_camel_case_error_without_result(
    client: TpnsTestClient, payload: dict[str, Any], code: int
) -> None:
    # GIVEN a query missing a field (1008002) or with an invalid one (1008007)
    # WHEN it is sent
    answer = client.query(payload)
    # THEN the answer is the camelCase envelope with that code and no result
    assert answer == {"retCode": code, "errMsg": answer["errMsg"]}


def test_query_parse_error_uses_camel_case(client: TpnsTestClient) -> None:
    # GIVEN a query body that is truncated JSON
    body = b"{"
    # WHEN it is sent
    response = client.post(QUERY_PATH, raw=body)
    # THEN the parse error is in the camelCase envelope
    assert response.json() == {"retCode": 1008001, "errMsg": "request body parse error"}


def test_query_accepts_twenty_tokens(client: TpnsTestClient) -> None:
    # GIVEN 20 tokens, TPNS's maximum
    tokens = [f"t{i}" for i in range(20)]
    # WHEN they are queried
    answer = client.query({"operator_type": 2, "token_list": tokens})
    # THEN each gets a result
    assert len(answer["result"]) == 20


def test_omit_default_account_type_drops_type_0_only(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN the vendor-sample habit of omitting account_type 0, and t1 bound to types 0 and 1005
    emulator.omit_default_account_type = True
    client.bind("t1", "alice", ("a@x.com", 1005))
    # WHEN t1 is queried
    by_token = client.query({"operator_type": 2, "token_list": ["t1"]})
    # THEN type 0 is left out and type 1005 kept
    assert by_token["token_accounts"][0]["account_list"] == [
        {"account": "alice"},
        {"account": "a@x.com", "account_type": 1005},
    ]
    # AND the other query shape leaves it out too
    by_account = client.query({"operator_type": 1, "account_list": acc("alice")})
    assert by_account["account_tokens"] == [{"account": "alice", "token_list": ["t1"]}]


def test_legacy_style_batchoperate_uses_ok_and_token_not_exists(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN the legacy answer style, and one invalid token
    emulator.style = "legacy"
    emulator.invalid_tokens.add("bad")
    items = [
        {"token": "t1", "account_list": acc("alice")},
        {"token": "bad", "account_list": acc("alice")},
    ]
    # WHEN a good and the invalid token are bound
    answer = client.batch({"operator_type": 2, "token_accounts": items})
    # THEN the results are words: "ok" and "token_not_exists"
    assert answer == {
        "ret_code": 1008026,
        "err_msg": answer["err_msg"],
        "result": ["ok", "token_not_exists"],
    }


def test_legacy_style_batchoperate_success_says_ok(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN the legacy answer style
    emulator.style = "legacy"
    # WHEN a bind succeeds
    answer = client.bind("t1", "alice")
    # THEN the message and the result say "ok"
    assert answer == {"ret_code": 0, "err_msg": "ok", "result": ["ok"]}


def test_legacy_style_query_is_snake_case(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN the legacy answer style, and alice bound to t1
    emulator.style = "legacy"
    client.bind("t1", "alice")
    # WHEN alice and bob are queried
    answer = client.query({"operator_type": 1, "account_list": acc("alice", "bob")})
    # THEN the envelope is snake_case and the results are words
    assert answer == {
        "ret_code": 0,
        "err_msg": "ok",
        "result": ["ok", "token_not_exists"],
        "account_tokens": [
            {"account": "alice", "account_type": 0, "token_list": ["t1"]},
            {"account": "bob", "account_type": 0, "token_list": []},
        ],
    }


def test_legacy_style_query_error_is_snake_case(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN the legacy answer style
    emulator.style = "legacy"
    # WHEN a query without credentials is sent
    response = client.post(QUERY_PATH, {"operator_type": 2, "token_list": ["t1"]}, headers={})
    # THEN the auth error is snake_case too
    assert response.json() == {"ret_code": 1008003, "err_msg": "authentication failed"}


def test_unknown_style_is_refused(emulator: TpnsEmulator) -> None:
    # GIVEN a style the emulator does not have
    style = "modern"
    # WHEN it is set
    # THEN it is refused
    with pytest.raises(ValueError, match="style"):
        emulator.style = style
