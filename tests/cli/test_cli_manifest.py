"""Submit files read line by line: the cleanup manifest formats, bind rows, bad lines kept."""

from __future__ import annotations

import pytest

from tpns_account import limits
from tpns_cli.errors import InputError
from tpns_cli.manifest import BadLine, parse_manifest


def test_bind_rows_of_one_token_become_one_item_with_all_their_accounts() -> None:
    # GIVEN a bind CSV where one token has two rows, apart from each other
    data = (
        b"token,account,account_type\n"
        b"t1,alice@example.com,0\n"
        b"t2,bob@example.com,0\n"
        b"t1,alice-work@example.com,1\n"
    )

    # WHEN it is read for a bind
    manifest = parse_manifest(data, "bind")

    # THEN each token is one token_accounts item, listing every account of its rows in order
    assert manifest.bad == []
    assert manifest.items("token_accounts") == [
        {
            "token": "t1",
            "account_list": [
                {"account": "alice@example.com", "account_type": 0},
                {"account": "alice-work@example.com", "account_type": 1},
            ],
        },
        {"token": "t2", "account_list": [{"account": "bob@example.com", "account_type": 0}]},
    ]


def test_bad_lines_are_kept_with_their_numbers_and_the_apis_reasons() -> None:
    # GIVEN a bind CSV with a bad token, an unknown account type, a short row, no account
    data = (
        b"token,account,account_type\n"
        b"t1,alice@example.com,0\n"
        b"not a token!,bob@example.com,0\n"
        b"t3,carol@example.com,77777\n"
        b"t4,dave@example.com\n"
        b"t5,,1\n"
    )

    # WHEN it is read
    manifest = parse_manifest(data, "bind")

    # THEN each bad line is listed with its number and the validators' words, the rest is kept
    assert manifest.bad == [
        BadLine(3, "token: must contain only letters, digits and _ : . + / = -"),
        BadLine(4, f"account_type: 77777 is not a TPNS account type ({limits.ACCOUNT_TYPES_TEXT})"),
        BadLine(5, "has 2 fields, the header 3"),
        BadLine(6, "a bind line needs a token and an account"),
    ]
    assert manifest.valid_lines == 1 and list(manifest.token_accounts) == ["t1"]


def test_cleanup_json_lines_become_token_and_account_unbinds() -> None:
    # GIVEN a cleanup manifest in JSON lines: a token, a typed account, an untyped account
    data = (
        b'{"token": "t1"}\n'
        b'{"account": "926@126.com", "account_type": 1005}\n'
        b"\n"
        b'{"account": "alice@example.com"}\n'
    )

    # WHEN it is read for an unbind
    manifest = parse_manifest(data, "unbind")

    # THEN the token unbinds all its accounts and the accounts all their tokens, types as given
    assert manifest.format == "jsonl" and manifest.bad == []
    assert manifest.items("token_list") == ["t1"]
    assert manifest.items("account_list") == [
        {"account": "926@126.com", "account_type": 1005},
        {"account": "alice@example.com"},
    ]


def test_a_cleanup_csv_is_read_with_columns_in_any_order_and_case() -> None:
    # GIVEN a cleanup CSV with its columns reordered, upper case, and an extra column
    data = b"Note,ACCOUNT_TYPE,Token,Account\nx,,t1,\ny,1005,,926@126.com\nz,,,bob@example.com\n"

    # WHEN it is read for an unbind
    manifest = parse_manifest(data, "unbind")

    # THEN rows fill a token or an account; an empty account_type is 0, as the cleanup reads it
    assert manifest.bad == []
    assert manifest.items("token_list") == ["t1"]
    assert manifest.items("account_list") == [
        {"account": "926@126.com", "account_type": 1005},
        {"account": "bob@example.com", "account_type": 0},
    ]


def test_a_token_and_account_line_unbinds_just_that_pair() -> None:
    # GIVEN an unbind line naming both a token and an account
    data = b'{"token": "t1", "account": "alice@example.com", "account_type": 0}\n'

    # WHEN it is read for an unbind
    manifest = parse_manifest(data, "unbind")

    # THEN it is a token_accounts item (operator type 3), not an unbind of the whole token
    assert manifest.items("token_accounts") == [
        {"token": "t1", "account_list": [{"account": "alice@example.com", "account_type": 0}]}
    ]
    assert manifest.items("token_list") == []


def test_repeated_lines_are_sent_once_and_counted_as_merged() -> None:
    # GIVEN a file repeating a token line and a bind row
    unbinds = b'{"token": "t1"}\n{"token": "t2"}\n{"token": "t1"}\n'
    binds = b"token,account\nt1,alice@example.com\nt1,alice@example.com\n"

    # WHEN both are read
    unbind = parse_manifest(unbinds, "unbind")
    bind = parse_manifest(binds, "bind")

    # THEN each item is there once, and the repeats are counted
    assert unbind.items("token_list") == ["t1", "t2"] and unbind.merged == 1
    assert len(bind.items("token_accounts")[0]["account_list"]) == 1 and bind.merged == 1


def test_a_bind_line_without_an_account_is_bad() -> None:
    # GIVEN a JSON line naming only a token, read for a bind
    manifest = parse_manifest(b'{"token": "t1"}\n', "bind")

    # THEN it is a bad line (a token-only line would unbind, never bind)
    assert manifest.bad == [BadLine(1, "a bind line needs a token and an account")]


def test_an_unbind_row_with_a_type_but_no_account_is_bad_not_a_token_unbind() -> None:
    # GIVEN an unbind CSV row naming a token and an account_type, its account left empty
    manifest = parse_manifest(b"token,account,account_type\nt1,,1005\n", "unbind")

    # THEN it is a bad line: read as a token unbind it would unbind every account of t1
    assert manifest.bad == [BadLine(2, "account_type: is given without an account")]
    assert manifest.items("token_list") == []


def test_json_lines_are_checked_for_types_and_fields() -> None:
    # GIVEN JSON lines (after a good first one) that are not JSON, not objects, mistyped, with
    # unknown fields, or not UTF-8
    data = b'{"token": "ok"}\nnot json\n[1]\n{"token": 5}\n{"token": "t1", "colour": "red"}\n\xff\n'

    # WHEN they are read
    manifest = parse_manifest(data, "unbind")

    # THEN every one is a bad line saying why, and the good one is kept
    assert manifest.items("token_list") == ["ok"]
    assert [(bad.line, bad.reason) for bad in manifest.bad] == [
        (2, "not valid JSON"),
        (3, "must be a JSON object with a token or an account"),
        (4, "token: must be a string, got number"),
        (5, "colour: is not a known field (token, account, account_type)"),
        (6, "not valid UTF-8"),
    ]


def test_a_token_beyond_its_100th_account_makes_the_extra_line_bad() -> None:
    # GIVEN one token bound to one account more than one operation takes for a token
    limit = limits.MAX_ACCOUNTS_PER_TOKEN_ENTRY
    rows = [f"t1,user{i}@example.com,0" for i in range(limit + 1)]
    data = ("token,account,account_type\n" + "\n".join(rows) + "\n").encode()

    # WHEN it is read
    manifest = parse_manifest(data, "bind")

    # THEN the first 100 are kept and the 101st line is bad
    assert len(manifest.token_accounts["t1"]) == limit
    assert [bad.line for bad in manifest.bad] == [limit + 2]


@pytest.mark.parametrize(
    ("data", "operation"),
    [
        (b"email,kind\nalice@example.com,0\n", "unbind"),
        (b"token\nt1\n", "bind"),
        (b"token,Token\nt1,t2\n", "unbind"),
        (b"\n\n", "unbind"),
    ],
    ids=["no known column", "bind without an account column", "column twice", "empty"],
)
def test_a_file_without_a_usable_header_is_refused_as_a_whole(data: bytes, operation: str) -> None:
    # GIVEN a file whose header cannot be read for the operation (or no lines at all)
    # WHEN it is read
    # THEN nothing is read: the file is refused, saying what is missing
    with pytest.raises(InputError):
        parse_manifest(data, operation)  # type: ignore[arg-type]
