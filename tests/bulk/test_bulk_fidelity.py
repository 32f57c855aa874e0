"""The bulk queue reads raw TPNS bodies as TPNS documents them, and keeps what TPNS accepted."""

from __future__ import annotations

import json

import pytest

from tests.support.apps import ACCESS_ID
from tests.support.bulk import BulkRig
from tpns_emulator import TpnsEmulator


def test_a_raw_body_with_a_top_level_account_type_binds_that_type(
    bulk: BulkRig, emulator: TpnsEmulator
) -> None:
    # GIVEN a producer's raw TPNS body with the documented top-level account_type
    body = {
        "operator_type": 2,
        "account_type": 1005,
        "token_accounts": [{"token": "t1", "account_list": [{"account": "a@b.cn"}]}],
    }
    # WHEN the bulk function processes it
    _, failed = bulk.invoke([body])
    # THEN TPNS binds the account as an email, nothing is left to redeliver or dead-letter
    assert failed == []
    assert bulk.dead_letters() == []
    assert emulator.bindings(ACCESS_ID) == {"t1": [("a@b.cn", 1005)]}


def test_untyped_accounts_of_a_queued_unbind_reach_tpns_without_a_type(
    bulk: BulkRig, emulator: TpnsEmulator
) -> None:
    # GIVEN a queued op 5 of accounts without a type, one of them one CJK character
    body = {"operation": "unbind", "account_list": [{"account": "926@126.com"}, {"account": "张"}]}
    # WHEN processed
    _, failed = bulk.invoke([body])
    # THEN TPNS gets exactly those elements
    assert failed == []
    assert emulator.stats.calls[-1].body == {
        "operator_type": 5,
        "account_list": body["account_list"],
    }


def test_an_answer_with_ret_code_0_is_never_dead_lettered(
    bulk: BulkRig, emulator: TpnsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN TPNS answers every call with the vendor's short sample answer
    emulator.faults.add("reply", body={"ret_code": 0, "err_msg": "NO_ERROR", "result": ["0"]})
    tokens = [f"t{i}" for i in range(5)]
    # WHEN a five-token unbind is processed
    _, failed = bulk.invoke([{"operation": "unbind", "token_list": tokens}])
    # THEN every item counts as accepted: no redelivery, no dead letter
    assert failed == []
    assert bulk.dead_letters() == []
    metrics = next(
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    )
    assert metrics["ItemsAccepted"] == [5.0]
    assert metrics["ItemsDeadLettered"] == [0.0]
