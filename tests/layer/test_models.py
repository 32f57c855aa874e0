"""Validation of TPNS request bodies: every operator type, every limit, every issue at once."""

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
    """The validation issues of ``body``, which must be invalid."""
    with pytest.raises(RequestValidationError) as caught:
        BatchOperation.from_dict(body, **kwargs)
    return [str(issue) for issue in caught.value.issues]


def bind_body(*token_accounts: dict[str, Any]) -> dict[str, Any]:
    return {"operator_type": 2, "token_accounts": list(token_accounts)}


ACCOUNTS = [{"account": "926@126.com"}]


@pytest.mark.parametrize(
    ("operator", "fields"),
    [
        pytest.param(
            1, {"token_accounts": [{"token": "t1", "account_list": ACCOUNTS}]}, id="1-append"
        ),
        pytest.param(
            2, {"token_accounts": [{"token": "t1", "account_list": ACCOUNTS}]}, id="2-override"
        ),
        pytest.param(
            3,
            {"token_accounts": [{"token": "t1", "account_list": ACCOUNTS}]},
            id="3-unbind-token-accounts",
        ),
        pytest.param(4, {"token_list": ["t1", "t2"]}, id="4-unbind-tokens"),
        pytest.param(
            5,
            {"account_list": [{"account": "926@126.com", "account_type": 1005}]},
            id="5-unbind-accounts",
        ),
    ],
)
def test_every_operator_type_parses_with_its_list_field(
    operator: int, fields: dict[str, Any]
) -> None:
    # GIVEN a body of the operator type with its list field
    body = {"operator_type": operator, **fields}
    # WHEN parsed
    operation = BatchOperation.from_dict(body)
    # THEN it keeps the operator type and reads that list field
    assert operation.operator_type == operator
    assert operation.list_field in fields


def test_operator_type_1_is_sent_as_2() -> None:
    # GIVEN a body of the disused append type
    body = {
        "operator_type": 1,
        "token_accounts": [{"token": "t1", "account_list": [{"account": "ab"}]}],
    }
    # WHEN parsed and serialised
    operation = BatchOperation.from_dict(body)
    sent = operation.to_dict()
    # THEN it is an append, and TPNS receives an override
    assert operation.operator_type is OperatorType.APPEND
    assert sent["operator_type"] == 2


def test_an_account_without_a_type_stays_without_one() -> None:
    # GIVEN the vendor's own op 5 sample shape: an account without account_type
    body = {"operator_type": 5, "account_list": [{"account": "ab"}]}
    # WHEN parsed
    operation = BatchOperation.from_dict(body)
    # THEN no type is invented, neither in the items nor in what is sent
    assert operation.items == (Account("ab", None),)
    assert operation.to_dict() == {"operator_type": 5, "account_list": [{"account": "ab"}]}
    # AND where TPNS must pick a type, it is TPNS's default
    assert operation.items[0].effective_type == 0


def test_top_level_account_type_types_every_element_without_one() -> None:
    # GIVEN the documented top-level account_type, and one element with a type of its own
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
    # GIVEN a top-level account_type that TPNS does not define
    body = {"operator_type": 4, "account_type": 2000, "token_list": ["t1"]}
    # WHEN validated
    (issue,) = issues_of(body)
    # THEN the one issue names the field and says it is not a TPNS type
    assert issue.startswith("account_type: 2000 is not a TPNS account type")


def test_one_cjk_character_is_an_account_of_three_bytes() -> None:
    # GIVEN the documented "greater than 1 byte", and a one-character account of 3 bytes
    body = {"operator_type": 5, "account_list": [{"account": "张"}]}
    # WHEN parsed
    operation = BatchOperation.from_dict(body)
    # THEN it is valid
    assert operation.items == (Account("张"),)


def test_token_longer_than_64_characters_names_the_field() -> None:
    # GIVEN three good tokens and a fourth of 65 characters
    body = bind_body(
        *[{"token": f"t{i}", "account_list": [{"account": "ab"}]} for i in range(3)],
        {"token": "x" * 65, "account_list": [{"account": "ab"}]},
    )
    # WHEN validated
    issues = issues_of(body)
    # THEN the one issue names the fourth token's field and its length
    assert issues == ["token_accounts[3].token: must be 1-64 bytes, got 65"]


def test_empty_token_is_rejected() -> None:
    # GIVEN an empty token
    body = {"operator_type": 4, "token_list": [""]}
    # WHEN validated
    issues = issues_of(body)
    # THEN it is rejected for its length
    assert issues == ["token_list[0]: must be 1-64 bytes, got 0"]


def test_account_length_limits_are_2_bytes_to_100_characters() -> None:
    # GIVEN an account of 1 byte and one of 101 characters
    body = {"operator_type": 5, "account_list": [{"account": "a"}, {"account": "b" * 101}]}
    # WHEN validated
    issues = issues_of(body)
    # THEN both are rejected, each issue giving the limits and what it got
    assert issues == [
        "account_list[0].account: must be at least 2 bytes of UTF-8 and at most 100 "
        "characters, got 1 bytes in 1 characters",
        "account_list[1].account: must be at least 2 bytes of UTF-8 and at most 100 "
        "characters, got 101 bytes in 101 characters",
    ]


def test_unknown_account_type_is_rejected_with_the_table() -> None:
    # GIVEN an account of a type TPNS does not define
    body = {"operator_type": 5, "account_list": [{"account": "ab", "account_type": 2000}]}
    # WHEN validated
    (issue,) = issues_of(body)
    # THEN the issue names the account's type field
    assert issue.startswith("account_list[0].account_type: 2000 is not a TPNS account type")


@pytest.mark.parametrize("account_type", [0, 1, 16, 991, 992, 997, 998, 999, 1002, 1015])
def test_every_documented_account_type_is_accepted(account_type: int) -> None:
    # GIVEN an account of a documented type
    body = {"operator_type": 5, "account_list": [{"account": "ab", "account_type": account_type}]}
    # WHEN parsed
    operation = BatchOperation.from_dict(body)
    # THEN the account keeps that type
    assert operation.items[0] == Account("ab", account_type)


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
    # GIVEN a body with one thing wrong
    # WHEN validated
    issues = issues_of(body)
    # THEN an issue names the offending field and what is wrong with it
    assert expected in issues


def test_duplicate_tokens_are_rejected_where_the_caller_can_fix_them() -> None:
    # GIVEN a synchronous request naming t1 twice
    body = {"operator_type": 4, "token_list": ["t1", "t2", "t1"]}
    # WHEN validated (duplicates are refused by default)
    issues = issues_of(body)
    # THEN the repeat is refused, pointing at the first occurrence
    assert issues == ["token_list[2]: duplicates token_list[0]; send each item once"]


def test_duplicate_account_in_one_token_is_rejected() -> None:
    # GIVEN one token listing the same account twice
    body = bind_body({"token": "t1", "account_list": [{"account": "ab"}, {"account": "ab"}]})
    # WHEN validated
    issues = issues_of(body)
    # THEN the repeat is refused
    assert issues == [
        "token_accounts[0].account_list[1]: repeats an account already listed for this token"
    ]


def test_duplicates_merge_when_the_caller_cannot_fix_them() -> None:
    # GIVEN a bulk override naming t1 twice
    body = bind_body(
        {"token": "t1", "account_list": [{"account": "aa", "account_type": 1}]},
        {"token": "t2", "account_list": [{"account": "bb"}]},
        {"token": "t1", "account_list": [{"account": "cc"}]},
    )
    # WHEN parsed with duplicates merged
    operation = BatchOperation.from_dict(body, duplicates="merge")
    # THEN the later list wins, at the first position, like TPNS would; the merge is counted
    assert operation.items == (
        TokenAccounts("t1", (Account("cc"),)),
        TokenAccounts("t2", (Account("bb"),)),
    )
    assert operation.merged_duplicates == 1


def test_merged_unbind_of_listed_accounts_unites_the_lists() -> None:
    # GIVEN an unbind of listed accounts naming t1 twice, with overlapping lists
    body = {
        "operator_type": 3,
        "token_accounts": [
            {"token": "t1", "account_list": [{"account": "aa"}]},
            {"token": "t1", "account_list": [{"account": "bb"}, {"account": "aa"}]},
        ],
    }
    # WHEN parsed with duplicates merged
    operation = BatchOperation.from_dict(body, duplicates="merge")
    # THEN t1 is unbound from the union of both lists, each account once
    assert operation.items == (TokenAccounts("t1", (Account("bb"), Account("aa"))),)


def test_merged_token_list_keeps_first_positions() -> None:
    # GIVEN a token list naming t2 first and last
    body = {"operator_type": 4, "token_list": ["t2", "t1", "t2"]}
    # WHEN parsed with duplicates merged
    tokens = BatchOperation.from_dict(body, duplicates="merge")
    # THEN t2 stays first, once
    assert tokens.items == ("t2", "t1")


def test_merged_account_list_treats_no_type_as_type_0() -> None:
    # GIVEN an account list naming ab without a type, then as type 0
    body = {
        "operator_type": 5,
        "account_list": [{"account": "ab"}, {"account": "ab", "account_type": 0}],
    }
    # WHEN parsed with duplicates merged
    accounts = BatchOperation.from_dict(body, duplicates="merge")
    # THEN they are one account, kept as first given
    assert accounts.items == (Account("ab"),)


def test_same_account_with_another_type_is_not_a_duplicate() -> None:
    # GIVEN account ab without a type, then as type 1
    body = {
        "operator_type": 5,
        "account_list": [{"account": "ab"}, {"account": "ab", "account_type": 1}],
    }
    # WHEN parsed
    operation = BatchOperation.from_dict(body)
    # THEN they are two accounts
    assert len(operation.items) == 2


def test_every_issue_is_reported_at_once() -> None:
    # GIVEN a list with three bad tokens and a good one
    body = {"operator_type": 4, "token_list": ["", 5, "ok", "y" * 70]}
    # WHEN validated
    issues = issues_of(body)
    # THEN all three issues are reported together
    assert len(issues) == 3


def test_typed_constructors_validate_like_json_bodies() -> None:
    # GIVEN a token of 65 characters
    tokens = ["x" * 65]
    # WHEN a typed constructor is given it
    # THEN it is refused with the field named like in a JSON body
    with pytest.raises(RequestValidationError, match=r"token_list\[0\]"):
        BatchOperation.unbind_all_accounts(tokens)


def test_typed_constructors_serialise_like_json_bodies() -> None:
    # GIVEN a bind built from typed items
    operation = BatchOperation.bind([TokenAccounts("t1", (Account("926@126.com"),))])
    # WHEN serialised
    sent = operation.to_dict()
    # THEN it is the JSON body TPNS documents, no type invented
    assert sent == {
        "operator_type": 2,
        "token_accounts": [{"token": "t1", "account_list": [{"account": "926@126.com"}]}],
    }


def test_platform_is_passed_through_when_given() -> None:
    # GIVEN a body naming its platform in another case
    body = {"operator_type": 4, "platform": "Android", "token_list": ["t1"]}
    # WHEN parsed and serialised
    sent = BatchOperation.from_dict(body).to_dict()
    # THEN the platform is sent, lowercased
    assert sent["platform"] == "android"


def test_query_type_1_takes_an_account_list() -> None:
    # GIVEN a query of type 1 with an account list
    body = {"operator_type": 1, "account_list": [{"account": "ab"}]}
    # WHEN parsed
    by_account = Query.from_dict(body)
    # THEN it asks for the tokens of those accounts
    assert by_account.operator_type is QueryType.TOKENS_BY_ACCOUNT


def test_query_type_2_takes_a_token_list() -> None:
    # GIVEN a query of type 2 with a token list
    body = {"operator_type": 2, "token_list": ["t1"]}
    # WHEN parsed
    by_token = Query.from_dict(body)
    # THEN its items are those tokens
    assert by_token.items == ("t1",)


def test_query_rejects_the_wrong_list_field() -> None:
    # GIVEN a query of type 1 sending a token list instead of an account list
    body = {"operator_type": 1, "token_list": ["t1"]}
    # WHEN parsed
    with pytest.raises(RequestValidationError) as caught:
        Query.from_dict(body)
    # THEN the issues say which field it takes and that it is missing
    assert [str(i) for i in caught.value.issues] == [
        "token_list: is not accepted with query operator_type 1; send account_list",
        "account_list: is required",
    ]


def test_validation_errors_are_value_errors_for_plain_python_callers() -> None:
    # GIVEN an empty body
    body: dict[str, Any] = {}
    # WHEN parsed
    # THEN the error is a ValueError naming the missing field
    with pytest.raises(ValueError, match="operator_type"):
        BatchOperation.from_dict(body)
