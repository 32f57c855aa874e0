"""batchoperate over HTTP: every operator type, per-item results and request validation."""

from __future__ import annotations

import pytest

APP = "1500001048"
BATCH = "/v3/device/account/batchoperate"


def test_override_answers_ok_per_token_and_binds(emulator, client, accounts):
    answer = client.batch(
        {
            "operator_type": 2,
            "token_accounts": [
                {"token": "t1", "account_list": accounts("alice")},
                {"token": "t2", "account_list": accounts(("a@x.com", 1005))},
            ],
        }
    )
    assert answer == {"ret_code": 0, "err_msg": "NO_ERROR", "result": ["0", "0"]}
    assert emulator.bindings(APP) == {"t1": [("alice", 0)], "t2": [("a@x.com", 1005)]}


def test_vendor_sample_leaves_only_the_later_type_0_account(emulator, client):
    client.batch(
        {
            "operator_type": 2,
            "token_accounts": [
                {
                    "token": "token1",
                    "account_list": [{"account": "926@126.com"}, {"account": "1527000000"}],
                }
            ],
        }
    )
    assert emulator.bindings(APP) == {"token1": [("1527000000", 0)]}


def test_operator_type_1_overrides_like_2(emulator, client, accounts):
    for account in ("alice", "bob"):
        item = {"token": "t1", "account_list": accounts(account)}
        client.batch({"operator_type": 1, "token_accounts": [item]})
    assert emulator.bindings(APP) == {"t1": [("bob", 0)]}


def test_override_of_101st_token_evicts_the_accounts_oldest_token(emulator, client, accounts):
    # GIVEN 100 tokens bound to alice in 5 calls of 20
    for call in range(5):
        items = [
            {"token": f"t{call * 20 + i}", "account_list": accounts("alice")} for i in range(20)
        ]
        client.batch({"operator_type": 2, "token_accounts": items})
    # WHEN a 101st token is bound
    client.bind("t100", "alice")
    # THEN t0 is gone and 100 remain
    tokens = emulator.tokens_of(APP, "alice")
    assert len(tokens) == 100
    assert "t0" not in tokens
    assert "t0" not in emulator.bindings(APP)


def test_unbind_listed_accounts(emulator, client, accounts):
    client.bind("t1", "alice", ("a@x.com", 1005))
    item = {"token": "t1", "account_list": [{"account": "alice"}]}  # type defaults to 0
    answer = client.batch({"operator_type": 3, "token_accounts": [item]})
    assert answer["result"] == ["0"]
    assert emulator.bindings(APP) == {"t1": [("a@x.com", 1005)]}


def test_unbind_tokens_from_all_accounts(emulator, client):
    client.bind("t1", "alice", ("a@x.com", 1005))
    client.bind("t2", "alice")
    answer = client.batch({"operator_type": 4, "token_list": ["t1"]})
    assert answer == {"ret_code": 0, "err_msg": "NO_ERROR", "result": ["0"]}
    assert emulator.bindings(APP) == {"t2": [("alice", 0)]}


def test_unbind_accounts_from_all_tokens_answers_per_account(emulator, client, accounts):
    client.bind("t1", "alice", ("a@x.com", 1005))
    client.bind("t2", "alice")
    answer = client.batch({"operator_type": 5, "account_list": accounts("alice", "nobody")})
    assert answer["result"] == ["0", "0"]
    assert emulator.bindings(APP) == {"t1": [("a@x.com", 1005)]}


def test_invalid_token_fails_its_item_only(emulator, client, accounts):
    # GIVEN one of two tokens is invalid
    emulator.invalid_tokens.add("bad")
    items = [
        {"token": "bad", "account_list": accounts("alice")},
        {"token": "t1", "account_list": accounts("alice")},
    ]
    # WHEN both are bound
    answer = client.batch({"operator_type": 2, "token_accounts": items})
    # THEN the batch is partly failed and only the good token is bound
    assert answer["ret_code"] == 1008026
    assert answer["result"] == ["1008006", "0"]
    assert emulator.bindings(APP) == {"t1": [("alice", 0)]}


def test_all_invalid_tokens_fail_the_whole_batch(emulator, client):
    emulator.invalid_tokens.update({"bad1", "bad2"})
    answer = client.batch({"operator_type": 4, "token_list": ["bad1", "bad2"]})
    assert answer["ret_code"] == 1008027
    assert answer["result"] == ["1008006", "1008006"]


def test_unknown_extra_fields_are_ignored(emulator, client, accounts):
    item = {"token": "t1", "account_list": accounts("alice")}
    payload = {
        "operator_type": 2,
        "platform": "android",
        "account_type": 0,
        "token_accounts": [item],
    }
    assert client.batch(payload)["ret_code"] == 0
    assert emulator.bindings(APP) == {"t1": [("alice", 0)]}


def test_twenty_tokens_are_accepted(client, accounts):
    items = [{"token": f"t{i}", "account_list": accounts("alice")} for i in range(20)]
    answer = client.batch({"operator_type": 2, "token_accounts": items})
    assert answer["ret_code"] == 0
    assert len(answer["result"]) == 20


def _tokens(n):
    return [{"token": f"t{i}", "account_list": [{"account": "alice"}]} for i in range(n)]


@pytest.mark.parametrize(
    "payload",
    [
        {"operator_type": 2, "token_accounts": _tokens(21)},
        {"operator_type": 4, "token_list": [f"t{i}" for i in range(21)]},
        {"operator_type": 5, "account_list": [{"account": f"a{i}"} for i in range(21)]},
    ],
    ids=["token_accounts", "token_list", "account_list"],
)
def test_more_than_twenty_items_is_invalid(emulator, client, payload):
    answer = client.batch(payload)
    assert answer == {"ret_code": 1008007, "err_msg": "invalid parameter"}
    assert emulator.bindings(APP) == {}


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe", b""])
def test_body_that_is_not_a_json_object_is_a_parse_error(client, raw):
    response = client.post(BATCH, raw=raw)
    assert response.status_code == 200
    assert response.json() == {"ret_code": 1008001, "err_msg": "request body parse error"}


def _ta(*accounts):
    return {"operator_type": 2, "token_accounts": [{"token": "t1", "account_list": list(accounts)}]}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"token_list": ["t1"]}, 1008002),
        ({"operator_type": 4}, 1008002),
        ({"operator_type": 2, "token_list": ["t1"]}, 1008002),
        ({"operator_type": 5, "account_list": [{"account_type": 0}]}, 1008002),
        ({"operator_type": 2, "token_accounts": [{"token": "t1"}]}, 1008002),
        ({"operator_type": 6, "token_list": ["t1"]}, 1008007),
        ({"operator_type": 0, "token_list": ["t1"]}, 1008007),
        ({"operator_type": "4", "token_list": ["t1"]}, 1008007),
        ({"operator_type": True, "token_list": ["t1"]}, 1008007),
        ({"operator_type": 4, "token_list": []}, 1008007),
        ({"operator_type": 4, "token_list": "t1"}, 1008007),
        ({"operator_type": 4, "token_list": [1]}, 1008007),
        ({"operator_type": 4, "token_list": ["x" * 65]}, 1008007),
        (
            {"operator_type": 5, "account_list": [{"account": "alice", "account_type": "0"}]},
            1008007,
        ),
        (
            {"operator_type": 5, "account_list": [{"account": "alice", "account_type": 1.5}]},
            1008007,
        ),
        (_ta(), 1008007),
        (_ta({"account": "a"}), 1008007),
        (_ta({"account": "x" * 101}), 1008007),
        (_ta({"account": 12345}), 1008007),
    ],
)
def test_invalid_bodies_answer_http_200_with_a_code_and_no_result(emulator, client, payload, code):
    response = client.post(BATCH, payload)
    assert response.status_code == 200
    body = response.json()
    assert body["ret_code"] == code
    assert "result" not in body
    assert emulator.bindings(APP) == {}


def test_unknown_path_answers_404(client):
    response = client.post("/v3/device/account/nope", {"operator_type": 1})
    assert response.status_code == 404


def test_get_on_an_endpoint_is_not_allowed(client):
    response = client.session.get(client.base_url + BATCH, timeout=5)
    assert response.status_code == 405
