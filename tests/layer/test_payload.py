from __future__ import annotations

import json

import pytest

from tpns_account import Account, BatchOperation, Query, SettingsError, TokenAccounts
from tpns_account.payload import BATCHOPERATE_PATH, QUERY_PATH, chunks, override_warnings


def test_45_tokens_split_into_20_20_5_in_input_order() -> None:
    tokens = [f"token-{i:02d}" for i in range(45)]
    parts = list(chunks(BatchOperation.unbind_all_accounts(tokens)))
    assert [p.size for p in parts] == [20, 20, 5]
    assert [p.start for p in parts] == [0, 20, 40]
    sent = [t for p in parts for t in json.loads(p.body)["token_list"]]
    assert sent == tokens


def test_chunk_size_is_configurable_but_never_above_20() -> None:
    operation = BatchOperation.unbind_all_accounts([f"t{i}" for i in range(7)])
    assert [p.size for p in chunks(operation, 3)] == [3, 3, 1]
    with pytest.raises(SettingsError):
        list(chunks(operation, 21))


def test_body_is_compact_utf8_and_keeps_non_ascii_accounts() -> None:
    operation = BatchOperation.unbind_all_tokens([Account("用户一号", 1005)])
    (part,) = chunks(operation)
    assert part.path == BATCHOPERATE_PATH
    assert (
        part.body
        == (
            '{"operator_type":5,"account_list":[{"account":"用户一号","account_type":1005}]}'
        ).encode()
    )


def test_query_chunks_go_to_the_query_path() -> None:
    (part,) = chunks(Query.accounts_of(["t1"]))
    assert part.path == QUERY_PATH
    assert json.loads(part.body) == {"operator_type": 2, "token_list": ["t1"]}


def test_subset_resends_only_the_chosen_items() -> None:
    (part,) = chunks(BatchOperation.unbind_all_accounts(["a1", "b2", "c3"]))
    retry = part.subset([0, 2])
    assert retry.items == ("a1", "c3")
    assert json.loads(retry.body) == {"operator_type": 4, "token_list": ["a1", "c3"]}


def test_override_warning_names_the_account_tpns_keeps() -> None:
    # GIVEN the vendor's own sample: two type-0 accounts on token1
    operation = BatchOperation.bind(
        [TokenAccounts("token1", (Account("926@126.com"), Account("1527000000")))]
    )
    assert override_warnings(operation) == [
        "token token1: accounts 926@126.com and 1527000000 share account_type 0; "
        "TPNS keeps only 1527000000"
    ]


def test_no_warning_for_accounts_of_different_types_or_for_unbinds() -> None:
    accounts = (Account("926@126.com", 1005), Account("+8613711112222", 1002))
    assert override_warnings(BatchOperation.bind([TokenAccounts("t1", accounts)])) == []
    same_type = (Account("aa"), Account("bb"))
    assert override_warnings(BatchOperation.unbind([TokenAccounts("t1", same_type)])) == []
