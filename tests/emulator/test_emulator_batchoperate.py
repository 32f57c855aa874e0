"""batchoperate over HTTP: every operator type, per-item results and request validation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.tpns_client import BATCHOPERATE_PATH, TpnsTestClient, acc
from tests.support.vector import VECTOR_ACCESS_ID
from tpns_emulator import TpnsEmulator


def test_override_answers_ok_per_token_and_binds(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN an override of two tokens, each to one account
    payload = {
        "operator_type": 2,
        "token_accounts": [
            {"token": "t1", "account_list": acc("alice")},
            {"token": "t2", "account_list": acc(("a@x.com", 1005))},
        ],
    }
    # WHEN it is sent
    answer = client.batch(payload)
    # THEN each token is answered "0", and both are bound
    assert answer == {"ret_code": 0, "err_msg": "NO_ERROR", "result": ["0", "0"]}
    assert emulator.bindings(VECTOR_ACCESS_ID) == {"t1": [("alice", 0)], "t2": [("a@x.com", 1005)]}


def test_vendor_sample_leaves_only_the_later_type_0_account(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN the vendor's sample: two untyped (type 0) accounts on token1
    payload = {
        "operator_type": 2,
        "token_accounts": [
            {
                "token": "token1",
                "account_list": [{"account": "926@126.com"}, {"account": "1527000000"}],
            }
        ],
    }
    # WHEN it is sent
    client.batch(payload)
    # THEN only the later account is bound
    assert emulator.bindings(VECTOR_ACCESS_ID) == {"token1": [("1527000000", 0)]}


def test_operator_type_1_overrides_like_2(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN t1 appended (operator_type 1) to alice
    client.batch(
        {"operator_type": 1, "token_accounts": [{"token": "t1", "account_list": acc("alice")}]}
    )
    # WHEN t1 is appended to bob
    client.batch(
        {"operator_type": 1, "token_accounts": [{"token": "t1", "account_list": acc("bob")}]}
    )
    # THEN t1 holds only bob, as an override would
    assert emulator.bindings(VECTOR_ACCESS_ID) == {"t1": [("bob", 0)]}


def test_override_of_101st_token_evicts_the_accounts_oldest_token(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN 100 tokens bound to alice in 5 calls of 20
    for call in range(5):
        items = [{"token": f"t{call * 20 + i}", "account_list": acc("alice")} for i in range(20)]
        client.batch({"operator_type": 2, "token_accounts": items})
    # WHEN a 101st token is bound
    client.bind("t100", "alice")
    # THEN t0 is gone and 100 remain
    tokens = emulator.tokens_of(VECTOR_ACCESS_ID, "alice")
    assert len(tokens) == 100
    assert "t0" not in tokens
    assert "t0" not in emulator.bindings(VECTOR_ACCESS_ID)


def test_unbind_of_listed_accounts_leaves_the_tokens_other_accounts(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN t1 bound to alice (type 0) and a@x.com (type 1005)
    client.bind("t1", "alice", ("a@x.com", 1005))
    item = {"token": "t1", "account_list": [{"account": "alice"}]}  # type defaults to 0
    # WHEN alice is unbound from t1 (operator_type 3)
    answer = client.batch({"operator_type": 3, "token_accounts": [item]})
    # THEN the item is answered "0", and only a@x.com stays
    assert answer["result"] == ["0"]
    assert emulator.bindings(VECTOR_ACCESS_ID) == {"t1": [("a@x.com", 1005)]}


def test_unbind_of_a_token_removes_all_its_accounts(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN t1 bound to two accounts and t2 to one
    client.bind("t1", "alice", ("a@x.com", 1005))
    client.bind("t2", "alice")
    # WHEN t1 is unbound from all its accounts (operator_type 4)
    answer = client.batch({"operator_type": 4, "token_list": ["t1"]})
    # THEN it is answered "0", and only t2 stays
    assert answer == {"ret_code": 0, "err_msg": "NO_ERROR", "result": ["0"]}
    assert emulator.bindings(VECTOR_ACCESS_ID) == {"t2": [("alice", 0)]}


def test_unbind_accounts_from_all_tokens_answers_per_account(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN alice bound on t1 and t2
    client.bind("t1", "alice", ("a@x.com", 1005))
    client.bind("t2", "alice")
    # WHEN alice and an unknown account are unbound from all tokens (operator_type 5)
    answer = client.batch({"operator_type": 5, "account_list": acc("alice", "nobody")})
    # THEN each account is answered "0", and alice is gone from both tokens
    assert answer["result"] == ["0", "0"]
    assert emulator.bindings(VECTOR_ACCESS_ID) == {"t1": [("a@x.com", 1005)]}


def test_invalid_token_fails_its_item_only(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN one of two tokens is invalid
    emulator.invalid_tokens.add("bad")
    items = [
        {"token": "bad", "account_list": acc("alice")},
        {"token": "t1", "account_list": acc("alice")},
    ]
    # WHEN both are bound
    answer = client.batch({"operator_type": 2, "token_accounts": items})
    # THEN the batch is partly failed and only the good token is bound
    assert answer["ret_code"] == 1008026
    assert answer["result"] == ["1008006", "0"]
    assert emulator.bindings(VECTOR_ACCESS_ID) == {"t1": [("alice", 0)]}


def test_all_invalid_tokens_fail_the_whole_batch(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN two invalid tokens
    emulator.invalid_tokens.update({"bad1", "bad2"})
    # WHEN both are unbound
    answer = client.batch({"operator_type": 4, "token_list": ["bad1", "bad2"]})
    # THEN the whole batch failed, each item with the invalid-token code
    assert answer["ret_code"] == 1008027
    assert answer["result"] == ["1008006", "1008006"]


def test_unknown_extra_fields_are_ignored(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN an override with platform and top-level account_type fields
    item = {"token": "t1", "account_list": acc("alice")}
    payload = {
        "operator_type": 2,
        "platform": "android",
        "account_type": 0,
        "token_accounts": [item],
    }
    # WHEN it is sent
    answer = client.batch(payload)
    # THEN it succeeds as without them
    assert answer["ret_code"] == 0
    assert emulator.bindings(VECTOR_ACCESS_ID) == {"t1": [("alice", 0)]}


def test_twenty_tokens_are_accepted(client: TpnsTestClient) -> None:
    # GIVEN an override of 20 tokens, TPNS's maximum
    items = [{"token": f"t{i}", "account_list": acc("alice")} for i in range(20)]
    # WHEN it is sent
    answer = client.batch({"operator_type": 2, "token_accounts": items})
    # THEN it succeeds with a result per token
    assert answer["ret_code"] == 0
    assert len(answer["result"]) == 20


def _tokens(n: int) -> list[dict[str, Any]]:
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
def test_more_than_twenty_items_is_invalid(
    emulator: TpnsEmulator, client: TpnsTestClient, payload: dict[str, Any]
) -> None:
    # GIVEN a list of 21 items
    # WHEN it is sent
    answer = client.batch(payload)
    # THEN the whole request is an invalid parameter, and nothing is applied
    assert answer == {"ret_code": 1008007, "err_msg": "invalid parameter"}
    assert emulator.bindings(VECTOR_ACCESS_ID) == {}


@pytest.mark.parametrize(
    "raw", [b"not json", b"[1, 2]", b"\xff\xfe", b""], ids=["text", "array", "not-utf8", "empty"]
)
def test_body_that_is_not_a_json_object_is_a_parse_error(
    client: TpnsTestClient, raw: bytes
) -> None:
    # GIVEN a body that is not a JSON object
    # WHEN it is sent, signed
    response = client.post(BATCHOPERATE_PATH, raw=raw)
    # THEN the answer is HTTP 200 with the parse error code
    assert response.status_code == 200
    assert response.json() == {"ret_code": 1008001, "err_msg": "request body parse error"}


def _ta(*accounts: dict[str, Any]) -> dict[str, Any]:
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
    ids=[
        "no-operator-type",
        "no-token-list",
        "token-list-for-op-2",
        "account-without-name",
        "token-without-accounts",
        "operator-type-6",
        "operator-type-0",
        "operator-type-string",
        "operator-type-bool",
        "empty-token-list",
        "token-list-string",
        "token-number",
        "token-65-chars",
        "account-type-string",
        "account-type-float",
        "empty-account-list",
        "account-1-char",
        "account-101-chars",
        "account-number",
    ],
)
def test_invalid_bodies_answer_http_200_with_a_code_and_no_result(
    emulator: TpnsEmulator, client: TpnsTestClient, payload: dict[str, Any], code: int
) -> None:
    # GIVEN a body missing a field (1008002) or with an invalid one (1008007)
    # WHEN it is sent
    response = client.post(BATCHOPERATE_PATH, payload)
    # THEN the answer is HTTP 200 with that code, no result, and nothing is applied
    assert response.status_code == 200
    body = response.json()
    assert body["ret_code"] == code
    assert "result" not in body
    assert emulator.bindings(VECTOR_ACCESS_ID) == {}


def test_unknown_path_answers_404(client: TpnsTestClient) -> None:
    # GIVEN a path under /v3/device/account that TPNS does not have
    path = "/v3/device/account/nope"
    # WHEN it is posted to
    response = client.post(path, {"operator_type": 1})
    # THEN the answer is 404
    assert response.status_code == 404


def test_get_on_an_endpoint_is_not_allowed(client: TpnsTestClient) -> None:
    # GIVEN the batchoperate endpoint
    url = client.base_url + BATCHOPERATE_PATH
    # WHEN it is requested with GET
    response = client.session.get(url, timeout=5)
    # THEN the answer is 405
    assert response.status_code == 405
