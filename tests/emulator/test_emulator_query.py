"""query over HTTP, plus the envelope styles (current camelCase query, legacy snake_case)."""

from __future__ import annotations

import pytest

APP = "1500001048"
QUERY = "/v3/device/account/query"


def test_query_tokens_of_accounts_in_request_order(client, accounts):
    # GIVEN alice bound to two tokens and bob to none
    client.bind("t1", "alice")
    client.bind("t2", "alice", ("a@x.com", 1005))
    # WHEN both accounts are queried
    answer = client.query({"operator_type": 1, "account_list": accounts("bob", "alice")})
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


def test_query_matches_account_type(client, accounts):
    client.bind("t1", ("a@x.com", 1005))
    answer = client.query({"operator_type": 1, "account_list": accounts("a@x.com")})
    assert answer["result"] == ["10110008"]
    answer = client.query({"operator_type": 1, "account_list": accounts(("a@x.com", 1005))})
    assert answer["account_tokens"][0]["token_list"] == ["t1"]


def test_query_accounts_of_tokens_with_not_found(client):
    client.bind("t1", "alice", ("a@x.com", 1005))
    answer = client.query({"operator_type": 2, "token_list": ["t1", "t9"]})
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


def test_query_of_an_invalid_token_answers_1008006(emulator, client):
    emulator.invalid_tokens.add("bad")
    answer = client.query({"operator_type": 2, "token_list": ["bad"]})
    assert answer["result"] == ["1008006"]
    assert answer["token_accounts"] == [{"token": "bad", "account_list": []}]


def test_query_with_basic_auth(client):
    client.bind("t1", "alice")
    answer = client.query(
        {"operator_type": 2, "token_list": ["t1"]}, headers=client.basic_headers()
    )
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
)
def test_invalid_query_answers_camel_case_error_without_result(client, payload, code):
    answer = client.query(payload)
    assert answer == {"retCode": code, "errMsg": answer["errMsg"]}


def test_query_parse_error_uses_camel_case(client):
    response = client.post(QUERY, raw=b"{")
    assert response.json() == {"retCode": 1008001, "errMsg": "request body parse error"}


def test_query_accepts_twenty_tokens(client):
    answer = client.query({"operator_type": 2, "token_list": [f"t{i}" for i in range(20)]})
    assert len(answer["result"]) == 20


def test_omit_default_account_type_drops_type_0_only(emulator, client, accounts):
    # GIVEN the vendor-sample habit of omitting account_type 0
    emulator.omit_default_account_type = True
    client.bind("t1", "alice", ("a@x.com", 1005))
    # THEN both query shapes leave it out for type 0 and keep it otherwise
    by_token = client.query({"operator_type": 2, "token_list": ["t1"]})
    assert by_token["token_accounts"][0]["account_list"] == [
        {"account": "alice"},
        {"account": "a@x.com", "account_type": 1005},
    ]
    by_account = client.query({"operator_type": 1, "account_list": accounts("alice")})
    assert by_account["account_tokens"] == [{"account": "alice", "token_list": ["t1"]}]


def test_legacy_style_batchoperate_uses_ok_and_token_not_exists(emulator, client, accounts):
    emulator.style = "legacy"
    emulator.invalid_tokens.add("bad")
    items = [
        {"token": "t1", "account_list": accounts("alice")},
        {"token": "bad", "account_list": accounts("alice")},
    ]
    answer = client.batch({"operator_type": 2, "token_accounts": items})
    assert answer == {
        "ret_code": 1008026,
        "err_msg": answer["err_msg"],
        "result": ["ok", "token_not_exists"],
    }


def test_legacy_style_batchoperate_success_says_ok(emulator, client):
    emulator.style = "legacy"
    assert client.bind("t1", "alice") == {"ret_code": 0, "err_msg": "ok", "result": ["ok"]}


def test_legacy_style_query_is_snake_case(emulator, client, accounts):
    emulator.style = "legacy"
    client.bind("t1", "alice")
    answer = client.query({"operator_type": 1, "account_list": accounts("alice", "bob")})
    assert answer == {
        "ret_code": 0,
        "err_msg": "ok",
        "result": ["ok", "token_not_exists"],
        "account_tokens": [
            {"account": "alice", "account_type": 0, "token_list": ["t1"]},
            {"account": "bob", "account_type": 0, "token_list": []},
        ],
    }


def test_legacy_style_query_error_is_snake_case(emulator, client):
    emulator.style = "legacy"
    response = client.post(QUERY, {"operator_type": 2, "token_list": ["t1"]}, headers={})
    assert response.json() == {"ret_code": 1008003, "err_msg": "authentication failed"}


def test_unknown_style_is_refused(emulator):
    with pytest.raises(ValueError, match="style"):
        emulator.style = "modern"
