"""The HTTP API sends what the caller gave: top-level account_type, untyped accounts, CJK."""

from __future__ import annotations

from typing import Any

from tests.support.api_events import api_event
from tests.support.apps import ACCESS_ID
from tpns_emulator import TpnsEmulator


def test_a_top_level_account_type_types_the_untyped_accounts_of_a_bind(
    api: Any, emulator: TpnsEmulator
) -> None:
    # GIVEN a bind with the documented top-level account_type
    body = {
        "account_type": 1005,
        "token_accounts": [{"token": "t1", "account_list": [{"account": "a@b.cn"}]}],
    }
    # WHEN it is posted
    answer = api("bind", api_event("bind", body))
    # THEN TPNS binds the account as an email
    assert answer.status == 200, answer
    assert emulator.bindings(ACCESS_ID) == {"t1": [("a@b.cn", 1005)]}


def test_an_unbind_sends_untyped_accounts_without_a_type(api: Any, emulator: TpnsEmulator) -> None:
    # GIVEN the vendor's op 5 body: accounts without a type
    body = {"account_list": [{"account": "926@126.com"}, {"account": "1527000000"}]}
    # WHEN it is posted
    answer = api("unbind", api_event("unbind-account-list", body))
    # THEN TPNS gets them as given, and the answer does not call them type 0
    assert answer.status == 200, answer
    assert emulator.stats.calls[-1].body == {"operator_type": 5, **body}
    assert [r["account_type"] for r in answer.body["results"]] == [None, None]


def test_a_one_character_cjk_account_is_accepted(api: Any, emulator: TpnsEmulator) -> None:
    # GIVEN an account of one character, 3 bytes of UTF-8
    body = {"token_accounts": [{"token": "t1", "account_list": [{"account": "张"}]}]}
    # WHEN it is bound THEN it is valid and bound
    answer = api("bind", api_event("bind", body))
    assert answer.status == 200, answer
    assert emulator.bindings(ACCESS_ID) == {"t1": [("张", 0)]}


def test_the_vendors_short_answer_is_accepted_not_a_502(api: Any, emulator: TpnsEmulator) -> None:
    # GIVEN TPNS answers a two-token bind with one code, as its own sample does
    emulator.faults.add("reply", body={"ret_code": 0, "err_msg": "NO_ERROR", "result": ["0"]})
    body = {
        "token_accounts": [
            {"token": "t1", "account_list": [{"account": "aa"}]},
            {"token": "t2", "account_list": [{"account": "bb"}]},
        ]
    }
    # WHEN posted THEN both items are accepted
    answer = api("bind", api_event("bind", body))
    assert answer.status == 200, answer
    assert answer.body["accepted"] == 2
