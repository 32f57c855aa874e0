"""Response normalisation: both envelope casings, legacy words, string codes, missing fields."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.apps import ACCESS_ID, SECRET_KEY
from tpns_account import (
    Account,
    AppCredentials,
    TokenAccounts,
    TpnsClient,
    UnexpectedResponseError,
)
from tpns_emulator import TpnsEmulator

# canned(reply, status=200) -> a client to a server that answers every call with ``reply``.
Canned = Callable[..., TpnsClient]


def test_current_style_uses_snake_for_batchoperate_and_camel_for_query(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS answering in its current style
    emulator.style = "current"
    # WHEN an untyped account is bound (snake_case answer) and its token queried (camelCase)
    bound = client.bind([TokenAccounts("t1", (Account("aa"),))])
    queried = client.accounts_of(["t1"])
    # THEN both answers are read; TPNS holds a type for every account, an untyped one as 0
    assert bound.ok
    assert queried.items[0].accounts == (Account("aa", 0),)


def test_legacy_ok_words_count_as_success(client: TpnsClient, emulator: TpnsEmulator) -> None:
    # GIVEN a legacy server answering "ok" / "token_not_exists" instead of codes
    emulator.style = "legacy"
    emulator.invalid_tokens.add("bad-token")
    # WHEN binding a good and a bad token
    result = client.bind(
        [
            TokenAccounts("good-token", (Account("aa"),)),
            TokenAccounts("bad-token", (Account("bb"),)),
        ]
    )
    # THEN "ok" is accepted with code 0 and the legacy word becomes the not-found code
    assert [(i.status, i.code) for i in result.items] == [("accepted", 0), ("failed", 10110008)]


def test_query_answers_without_account_type_are_normalised_to_zero(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS leaving out account_type 0 in query answers, and t1 bound to aa (0) and bb
    emulator.omit_default_account_type = True
    client.bind([TokenAccounts("t1", (Account("aa"), Account("bb", 1005)))])
    # WHEN queried by token and by account
    by_token = client.accounts_of(["t1"])
    by_account = client.tokens_of([Account("aa")])
    # THEN the accounts TPNS holds have type 0 where it was left out
    assert by_token.token_accounts[0]["account_list"] == [
        {"account": "aa", "account_type": 0},
        {"account": "bb", "account_type": 1005},
    ]
    # AND the asked account is echoed as asked: no type given, none invented
    assert by_account.account_tokens == [
        {"account": "aa", "account_type": None, "token_list": ["t1"]}
    ]


class _Canned(BaseHTTPRequestHandler):
    """A server answering one fixed body: for shapes the emulator has no reason to produce."""

    protocol_version = "HTTP/1.1"
    reply: bytes = b"{}"
    status: int = 200

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.reply)))
        self.end_headers()
        self.wfile.write(self.reply)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def canned() -> Iterator[Canned]:
    servers: list[ThreadingHTTPServer] = []

    def serve(reply: Any, status: int = 200) -> TpnsClient:
        body = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
        handler = type("Handler", (_Canned,), {"reply": body, "status": status})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return TpnsClient(
            AppCredentials(ACCESS_ID, SECRET_KEY),
            endpoint=f"http://127.0.0.1:{server.server_address[1]}",
            time_budget=2.0,
        )

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_vendors_sample_answers_parse(canned: Canned) -> None:
    # GIVEN TPNS answering with the vendor's sample query answer
    client = canned(
        {
            "retCode": 0,
            "errMsg": "ok",
            "result": ["0", "0"],
            "token_accounts": [
                {
                    "token": "token1",
                    "account_list": [{"account": "926@126.com"}, {"account": "1527000000"}],
                },
                {"token": "token2", "account_list": [{"account": "926@163.com"}]},
            ],
        }
    )
    # WHEN the tokens are queried in another order than the answer's
    result = client.accounts_of(["token2", "token1"])
    # THEN entries are matched by token, not by position; omitted types are TPNS's default, 0
    assert result.items[0].accounts == (Account("926@163.com", 0),)
    assert result.items[1].accounts == (Account("926@126.com", 0), Account("1527000000", 0))


def test_numeric_string_envelope_code_and_integer_item_codes_are_accepted(
    canned: Canned,
) -> None:
    # GIVEN an answer with the envelope code as a string and an item code as an integer
    client = canned({"ret_code": "1008026", "err_msg": "part", "result": [0, "1008029"]})
    # WHEN two tokens are unbound
    result = client.unbind_all_accounts(["t1", "t2"])
    # THEN both codes are read as numbers
    assert [(i.status, i.code) for i in result.items] == [("accepted", 0), ("failed", 1008029)]


def test_success_without_result_list_accepts_every_item(canned: Canned) -> None:
    # GIVEN a success answer without a result list
    client = canned({"ret_code": 0, "err_msg": "NO_ERROR"})
    # WHEN two tokens are unbound
    result = client.unbind_all_accounts(["t1", "t2"])
    # THEN every item is accepted
    assert result.ok


def test_unknown_item_text_is_kept_as_the_reason(canned: Canned) -> None:
    # GIVEN an answer whose second item result is a word the client does not know
    client = canned({"ret_code": 0, "result": ["ok", "weird_state"]})
    # WHEN two tokens are unbound
    result = client.unbind_all_accounts(["t1", "t2"])
    # THEN that item failed, with the word as its reason
    assert result.items[1].status == "failed"
    assert result.items[1].reason == "weird_state"


def test_wrong_number_of_results_with_failures_is_an_unexpected_response(
    canned: Canned,
) -> None:
    # GIVEN a partly failed batch whose result cannot say which items failed
    client = canned({"ret_code": 1008026, "result": ["0"]})
    # WHEN two tokens are unbound
    # THEN the answer cannot be read per item: it is an unexpected response
    with pytest.raises(UnexpectedResponseError, match="1 results for 2 items"):
        client.unbind_all_accounts(["t1", "t2"])


def test_non_json_success_is_an_unexpected_response(canned: Canned) -> None:
    # GIVEN an HTTP 200 answer that is an HTML page (a proxy's), not TPNS's envelope
    client = canned(b"<html>proxy</html>")
    # WHEN a token is unbound
    # THEN it is an unexpected response, saying the envelope is missing
    with pytest.raises(UnexpectedResponseError, match="without a ret_code envelope"):
        client.unbind_all_accounts(["t1"])
