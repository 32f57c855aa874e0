from __future__ import annotations

from typing import Any

import pytest

from tpns_account import (
    Account,
    BatchOperation,
    OperatorType,
    Query,
    QueryType,
    RequestValidationError,
    TokenAccounts,
)


def issues_of(body: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(RequestValidationError) as caught:
        BatchOperation.from_dict(body, **kwargs)
    return [str(issue) for issue in caught.value.issues]


def bind_body(*token_accounts: dict[str, Any]) -> dict[str, Any]:
    return {"operator_type": 2, "token_accounts": list(token_accounts)}


def test_every_operator_type_parses_with_its_list_field() -> None:
    accounts = [{"account": "926@126.com"}]
    bodies = {
        1: {"token_accounts": [{"token": "t1", "account_list": accounts}]},
        2: {"token_accounts": [{"token": "t1", "account_list": accounts}]},
        3: {"token_accounts": [{"token": "t1", "account_list": accounts}]},
        4: {"token_list": ["t1", "t2"]},
        5: {"account_list": [{"account": "926@126.com", "account_type": 1005}]},
    }
    for operator, fields in bodies.items():
        operation = BatchOperation.from_dict({"operator_type": operator, **fields})
        assert operation.operator_type == operator
        assert operation.list_field in fields


def test_operator_type_1_is_sent_as_2() -> None:
    # GIVEN the disused append type WHEN serialised THEN TPNS receives an override
    operation = BatchOperation.from_dict(
        {
            "operator_type": 1,
            "token_accounts": [{"token": "t1", "account_list": [{"account": "ab"}]}],
        }
    )
    assert operation.operator_type is OperatorType.APPEND
    assert operation.to_dict()["operator_type"] == 2


def test_an_account_without_a_type_stays_without_one() -> None:
    # GIVEN the vendor's own op 5 sample shape WHEN parsed THEN no type is invented
    operation = BatchOperation.from_dict({"operator_type": 5, "account_list": [{"account": "ab"}]})
    assert operation.items == (Account("ab", None),)
    assert operation.to_dict() == {"operator_type": 5, "account_list": [{"account": "ab"}]}
    # AND where TPNS must pick a type, it is TPNS's default
    assert operation.items[0].effective_type == 0


def test_top_level_account_type_types_every_element_without_one() -> None:
    # GIVEN the documented top-level account_type
    body = {
        "operator_type": 2,
        "account_type": 1005,
        "token_accounts": [
            {"token": "t1", "account_list": [{"account": "a@b.cn"}]},
            {"token": "t2", "account_list": [{"account": "13800", "account_type": 1002}]},
        ],
    }
    # WHEN parsed
    operation = BatchOperation.from_dict(body)
    # THEN it is the type of the untyped element only, and is sent per element
    assert operation.items == (
        TokenAccounts("t1", (Account("a@b.cn", 1005),)),
        TokenAccounts("t2", (Account("13800", 1002),)),
    )
    assert operation.to_dict()["token_accounts"][0]["account_list"] == [
        {"account": "a@b.cn", "account_type": 1005}
    ]


def test_top_level_account_type_must_be_a_tpns_type() -> None:
    body = {"operator_type": 4, "account_type": 2000, "token_list": ["t1"]}
    (issue,) = issues_of(body)
    assert issue.startswith("account_type: 2000 is not a TPNS account type")


def test_one_cjk_character_is_an_account_of_three_bytes() -> None:
    # GIVEN "greater than 1 byte" WHEN a one-character account of 3 bytes is sent THEN it is valid
    operation = BatchOperation.from_dict({"operator_type": 5, "account_list": [{"account": "张"}]})
    assert operation.items == (Account("张"),)


def test_token_longer_than_64_characters_names_the_field() -> None:
    body = bind_body(
        *[{"token": f"t{i}", "account_list": [{"account": "ab"}]} for i in range(3)],
        {"token": "x" * 65, "account_list": [{"account": "ab"}]},
    )
    assert issues_of(body) == ["token_accounts[3].token: must be 1-64 bytes, got 65"]


def test_empty_token_is_rejected() -> None:
    assert issues_of({"operator_type": 4, "token_list": [""]}) == [
        "token_list[0]: must be 1-64 bytes, got 0"
    ]


def test_account_length_limits_are_2_bytes_to_100_characters() -> None:
    body = {"operator_type": 5, "account_list": [{"account": "a"}, {"account": "b" * 101}]}
    assert issues_of(body) == [
        "account_list[0].account: must be at least 2 bytes of UTF-8 and at most 100 "
        "characters, got 1 bytes in 1 characters",
        "account_list[1].account: must be at least 2 bytes of UTF-8 and at most 100 "
        "characters, got 101 bytes in 101 characters",
    ]


def test_unknown_account_type_is_rejected_with_the_table() -> None:
    body = {"operator_type": 5, "account_list": [{"account": "ab", "account_type": 2000}]}
    (issue,) = issues_of(body)
    assert issue.startswith("account_list[0].account_type: 2000 is not a TPNS account type")


@pytest.mark.parametrize("account_type", [0, 1, 16, 991, 992, 997, 998, 999, 1002, 1015])
def test_every_documented_account_type_is_accepted(account_type: int) -> None:
    body = {"operator_type": 5, "account_list": [{"account": "ab", "account_type": account_type}]}
    assert BatchOperation.from_dict(body).items[0] == Account("ab", account_type)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([], "must be a JSON object, got array"),
        ({}, "operator_type: is required (one of 1, 2, 3, 4, 5)"),
        (
            {"operator_type": "2"},
            "operator_type: must be an integer (one of 1, 2, 3, 4, 5), got string",
        ),
        (
            {"operator_type": True},
            "operator_type: must be an integer (one of 1, 2, 3, 4, 5), got boolean",
        ),
        ({"operator_type": 6}, "operator_type: must be one of 1, 2, 3, 4, 5, got 6"),
        ({"operator_type": 4}, "token_list: is required"),
        ({"operator_type": 4, "token_list": []}, "token_list: must not be empty"),
        ({"operator_type": 4, "token_list": "t1"}, "token_list: must be an array, got string"),
        ({"operator_type": 4, "token_list": [7]}, "token_list[0]: must be a string, got number"),
        (
            {"operator_type": 4, "token_list": ["t1"], "account_list": [{"account": "ab"}]},
            "account_list: is not accepted with operator_type 4; send token_list",
        ),
        (
            {"operator_type": 4, "token_list": ["to ken"]},
            "token_list[0]: must contain only letters, digits and _ : . + / = -",
        ),
        (
            {"operator_type": 5, "account_list": [{"account": "ab", "account_type": "0"}]},
            "account_list[0].account_type: must be an integer, got string",
        ),
        (
            {"operator_type": 5, "account_list": [{"account": "a\x00b"}]},
            "account_list[0].account: must be valid text, not blank, without control characters",
        ),
        (
            {"operator_type": 2, "token_accounts": [{"token": "t1", "account_list": []}]},
            "token_accounts[0].account_list: must not be empty",
        ),
        (
            {"operator_type": 2, "token_accounts": [{"token": "t1", "accounts": []}]},
            "token_accounts[0].accounts: is not a known field (token, account_list)",
        ),
        (
            {"operator_type": 2, "platform": "web", "token_accounts": []},
            "platform: must be 'android' or 'ios' when given (it is optional)",
        ),
    ],
)
def test_invalid_bodies_name_the_offending_field(body: Any, expected: str) -> None:
    assert expected in issues_of(body)


def test_duplicate_tokens_are_rejected_where_the_caller_can_fix_them() -> None:
    body = {"operator_type": 4, "token_list": ["t1", "t2", "t1"]}
    assert issues_of(body) == ["token_list[2]: duplicates token_list[0]; send each item once"]


def test_duplicate_account_in_one_token_is_rejected() -> None:
    body = bind_body({"token": "t1", "account_list": [{"account": "ab"}, {"account": "ab"}]})
    assert issues_of(body) == [
        "token_accounts[0].account_list[1]: repeats an account already listed for this token"
    ]


def test_duplicates_merge_when_the_caller_cannot_fix_them() -> None:
    # GIVEN a bulk override naming t1 twice WHEN merged THEN the later list wins, like TPNS would
    body = bind_body(
        {"token": "t1", "account_list": [{"account": "aa", "account_type": 1}]},
        {"token": "t2", "account_list": [{"account": "bb"}]},
        {"token": "t1", "account_list": [{"account": "cc"}]},
    )
    operation = BatchOperation.from_dict(body, duplicates="merge")
    assert operation.items == (
        TokenAccounts("t1", (Account("cc"),)),
        TokenAccounts("t2", (Account("bb"),)),
    )
    assert operation.merged_duplicates == 1


def test_merged_unbind_of_listed_accounts_unites_the_lists() -> None:
    body = {
        "operator_type": 3,
        "token_accounts": [
            {"token": "t1", "account_list": [{"account": "aa"}]},
            {"token": "t1", "account_list": [{"account": "bb"}, {"account": "aa"}]},
        ],
    }
    operation = BatchOperation.from_dict(body, duplicates="merge")
    assert operation.items == (TokenAccounts("t1", (Account("bb"), Account("aa"))),)


def test_merged_token_and_account_lists_keep_first_positions() -> None:
    tokens = BatchOperation.from_dict(
        {"operator_type": 4, "token_list": ["t2", "t1", "t2"]}, duplicates="merge"
    )
    assert tokens.items == ("t2", "t1")
    accounts = BatchOperation.from_dict(
        {
            "operator_type": 5,
            "account_list": [{"account": "ab"}, {"account": "ab", "account_type": 0}],
        },
        duplicates="merge",
    )
    assert accounts.items == (Account("ab"),)


def test_same_account_with_another_type_is_not_a_duplicate() -> None:
    body = {
        "operator_type": 5,
        "account_list": [{"account": "ab"}, {"account": "ab", "account_type": 1}],
    }
    assert len(BatchOperation.from_dict(body).items) == 2


def test_every_issue_is_reported_at_once() -> None:
    body = {"operator_type": 4, "token_list": ["", 5, "ok", "y" * 70]}
    assert len(issues_of(body)) == 3


def test_typed_constructors_validate_like_json_bodies() -> None:
    with pytest.raises(RequestValidationError, match=r"token_list\[0\]"):
        BatchOperation.unbind_all_accounts(["x" * 65])
    operation = BatchOperation.bind([TokenAccounts("t1", (Account("926@126.com"),))])
    assert operation.to_dict() == {
        "operator_type": 2,
        "token_accounts": [{"token": "t1", "account_list": [{"account": "926@126.com"}]}],
    }


def test_platform_is_passed_through_when_given() -> None:
    body = {"operator_type": 4, "platform": "Android", "token_list": ["t1"]}
    assert BatchOperation.from_dict(body).to_dict()["platform"] == "android"


def test_query_types_take_their_list_fields() -> None:
    by_account = Query.from_dict({"operator_type": 1, "account_list": [{"account": "ab"}]})
    by_token = Query.from_dict({"operator_type": 2, "token_list": ["t1"]})
    assert by_account.operator_type is QueryType.TOKENS_BY_ACCOUNT
    assert by_token.items == ("t1",)


def test_query_rejects_the_wrong_list_field() -> None:
    with pytest.raises(RequestValidationError) as caught:
        Query.from_dict({"operator_type": 1, "token_list": ["t1"]})
    assert [str(i) for i in caught.value.issues] == [
        "token_list: is not accepted with query operator_type 1; send account_list",
        "account_list: is required",
    ]


def test_validation_errors_are_value_errors_for_plain_python_callers() -> None:
    with pytest.raises(ValueError, match="operator_type"):
        BatchOperation.from_dict({})
