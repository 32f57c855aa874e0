"""Operations become request bodies: chunks of at most 20 items, compact UTF-8, warnings."""

from __future__ import annotations

import json

import pytest

from tpns_account import Account, BatchOperation, Query, SettingsError, TokenAccounts
from tpns_account.payload import BATCHOPERATE_PATH, QUERY_PATH, chunks, override_warnings


def test_45_tokens_split_into_20_20_5_in_input_order() -> None:
    # GIVEN an unbind of 45 tokens
    tokens = [f"token-{i:02d}" for i in range(45)]
    operation = BatchOperation.unbind_all_accounts(tokens)
    # WHEN it is chunked
    parts = list(chunks(operation))
    # THEN there are chunks of 20, 20 and 5, starting at 0, 20 and 40, in input order
    assert [p.size for p in parts] == [20, 20, 5]
    assert [p.start for p in parts] == [0, 20, 40]
    sent = [t for p in parts for t in json.loads(p.body)["token_list"]]
    assert sent == tokens


def test_chunk_size_is_configurable() -> None:
    # GIVEN an unbind of 7 tokens
    operation = BatchOperation.unbind_all_accounts([f"t{i}" for i in range(7)])
    # WHEN it is chunked by 3
    parts = list(chunks(operation, 3))
    # THEN the chunks hold 3, 3 and 1 tokens
    assert [p.size for p in parts] == [3, 3, 1]


def test_chunk_size_is_never_above_20() -> None:
    # GIVEN an unbind of 7 tokens
    operation = BatchOperation.unbind_all_accounts([f"t{i}" for i in range(7)])
    # WHEN it is chunked by 21, above TPNS's limit
    # THEN it is refused
    with pytest.raises(SettingsError):
        list(chunks(operation, 21))


def test_body_is_compact_utf8_and_keeps_non_ascii_accounts() -> None:
    # GIVEN an unbind of a Chinese account name
    operation = BatchOperation.unbind_all_tokens([Account("用户一号", 1005)])
    # WHEN it is chunked
    (part,) = chunks(operation)
    # THEN it goes to batchoperate as compact JSON, the name as UTF-8 (not \u escapes)
    assert part.path == BATCHOPERATE_PATH
    assert (
        part.body
        == (
            '{"operator_type":5,"account_list":[{"account":"用户一号","account_type":1005}]}'
        ).encode()
    )


def test_query_chunks_go_to_the_query_path() -> None:
    # GIVEN a query of the accounts of one token
    query = Query.accounts_of(["t1"])
    # WHEN it is chunked
    (part,) = chunks(query)
    # THEN the chunk goes to the query path with operator_type 2
    assert part.path == QUERY_PATH
    assert json.loads(part.body) == {"operator_type": 2, "token_list": ["t1"]}


def test_subset_resends_only_the_chosen_items() -> None:
    # GIVEN a chunk of three tokens
    (part,) = chunks(BatchOperation.unbind_all_accounts(["a1", "b2", "c3"]))
    # WHEN the first and the last are chosen for a retry
    retry = part.subset([0, 2])
    # THEN the retry holds and sends only those two
    assert retry.items == ("a1", "c3")
    assert json.loads(retry.body) == {"operator_type": 4, "token_list": ["a1", "c3"]}


def test_override_warning_names_the_account_tpns_keeps() -> None:
    # GIVEN the vendor's own sample: two type-0 accounts on token1
    operation = BatchOperation.bind(
        [TokenAccounts("token1", (Account("926@126.com"), Account("1527000000")))]
    )
    # WHEN its override warnings are listed
    warnings = override_warnings(operation)
    # THEN one warning says TPNS keeps only the later account
    assert warnings == [
        "token token1: accounts 926@126.com and 1527000000 share account_type 0; "
        "TPNS keeps only 1527000000"
    ]


def test_no_override_warning_for_accounts_of_different_types() -> None:
    # GIVEN a bind of two accounts of different types on one token
    accounts = (Account("926@126.com", 1005), Account("+8613711112222", 1002))
    operation = BatchOperation.bind([TokenAccounts("t1", accounts)])
    # WHEN its override warnings are listed
    warnings = override_warnings(operation)
    # THEN there are none: TPNS keeps both
    assert warnings == []


def test_no_override_warning_for_unbinds() -> None:
    # GIVEN an unbind of two accounts of the same type from one token
    same_type = (Account("aa"), Account("bb"))
    operation = BatchOperation.unbind([TokenAccounts("t1", same_type)])
    # WHEN its override warnings are listed
    warnings = override_warnings(operation)
    # THEN there are none: an unbind overrides nothing
    assert warnings == []
