"""The client's HTTP transport: connections kept alive, replaced when the server closed them,
and TLS that verifies the certificate and its host name."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.http_server import LocalCa, full_listener, loopback_server, make_ca
from tpns_account import UpstreamTimeoutError, UpstreamUnavailableError
from tpns_account.transport import HttpClientTransport

BATCH_PATH = "/v3/device/account/batchoperate"
BODY = b'{"operator_type": 4, "token_list": ["t1"]}'
HEADERS = {"Content-Type": "application/json"}
TIMEOUT = (2.0, 5.0)


def test_calls_in_turn_share_one_kept_alive_connection(transport: HttpClientTransport) -> None:
    # GIVEN a transport and a server that keeps connections alive
    with loopback_server() as server:
        # WHEN three calls are made one after another
        answers = [transport.post(server.url + BATCH_PATH, BODY, HEADERS, TIMEOUT) for _ in "abc"]
    # THEN each is answered, over the same connection
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].headers.get("content-type") == "application/json"
    assert server.connections == 1


def test_connections_send_the_body_without_waiting_for_the_headers_to_be_acknowledged(
    transport: HttpClientTransport,
) -> None:
    # GIVEN a transport that made a call (http.client writes headers and body apart)
    with loopback_server() as server:
        transport.post(server.url + BATCH_PATH, BODY, HEADERS, TIMEOUT)
        # WHEN its kept-alive connection is looked at
        (connection,) = [c for idle in transport._idle.values() for c in idle]
        # THEN Nagle's algorithm is off on it, as urllib3 turns it off
        assert connection.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_not_failed(
    transport: HttpClientTransport,
) -> None:
    # GIVEN a kept-alive connection the server has since closed, without saying it would
    with loopback_server(close_after_answer=True) as server:
        transport.post(server.url + BATCH_PATH, BODY, HEADERS, TIMEOUT)
        server.wait_closed()
        # WHEN the next call is made
        answer = transport.post(server.url + BATCH_PATH, BODY, HEADERS, TIMEOUT)
    # THEN it is answered, on a new connection
    assert answer.status_code == 200
    assert server.connections == 2


def test_a_request_the_server_closed_its_connection_on_is_sent_again_on_a_new_one(
    transport: HttpClientTransport,
) -> None:
    # GIVEN a server that closes each connection a moment after its answer, reading nothing more
    with loopback_server(close_after_answer=True, close_delay_s=0.3) as server:
        transport.post(server.url + BATCH_PATH, BODY, HEADERS, TIMEOUT)
        # WHEN the next call goes out on the kept-alive connection before it is closed
        answer = transport.post(server.url + BATCH_PATH, BODY, HEADERS, TIMEOUT)
    # THEN it is answered all the same, sent again on a new connection
    assert answer.status_code == 200
    assert server.connections == 2


def test_a_server_that_never_accepts_the_connection_is_a_timeout(
    transport: HttpClientTransport,
) -> None:
    # GIVEN a listener whose queue of connections is full, so a new one is never accepted
    # WHEN the transport calls it, with a short connect timeout
    # THEN it is a timeout, as requests reports a connect timeout
    with full_listener() as port, pytest.raises(UpstreamTimeoutError):
        transport.post(f"http://127.0.0.1:{port}{BATCH_PATH}", BODY, HEADERS, (0.3, 5.0))


def test_an_answer_cut_short_is_unreachable_named_as_requests_names_it(
    transport: HttpClientTransport,
) -> None:
    # GIVEN a server whose answer stops halfway through the length it announced
    # WHEN the transport calls it
    # THEN TPNS is unreachable, the broken answer named as requests names it
    broken = pytest.raises(UpstreamUnavailableError, match=r"\(ChunkedEncodingError\)")
    with loopback_server(cut_answer_short=True) as server, broken:
        transport.post(server.url + BATCH_PATH, BODY, HEADERS, TIMEOUT)


def test_a_certificate_no_trusted_ca_signed_is_refused(
    tmp_path: Path, transport: HttpClientTransport
) -> None:
    # GIVEN a TLS server whose certificate a CA of the test's own signed
    tls = make_ca(tmp_path, "127.0.0.1")
    refused = pytest.raises(UpstreamUnavailableError, match=r"could not reach TPNS \(SSLError\)")
    # WHEN the transport calls it
    # THEN TPNS is unreachable, and the error says why
    with loopback_server(tls=tls) as server, refused:
        transport.post(server.url + BATCH_PATH, BODY, HEADERS, TIMEOUT)


def test_a_trusted_certificate_for_the_host_is_accepted(
    transport: HttpClientTransport, trusted_ca: Callable[[str], LocalCa]
) -> None:
    # GIVEN a TLS server for 127.0.0.1 whose CA the trust store holds
    tls = trusted_ca("127.0.0.1")
    with loopback_server(tls=tls) as server:
        # WHEN the transport calls it
        answer = transport.post(server.url + BATCH_PATH, BODY, HEADERS, TIMEOUT)
    # THEN it is answered
    assert answer.status_code == 200


def test_a_trusted_certificate_for_another_host_is_refused(
    transport: HttpClientTransport, trusted_ca: Callable[[str], LocalCa]
) -> None:
    # GIVEN a TLS server at 127.0.0.1 whose trusted certificate names another host
    tls = trusted_ca("api.tpns.example")
    # WHEN the transport calls it
    # THEN TPNS is unreachable: the host name is checked, not only the signature
    with loopback_server(tls=tls) as server, pytest.raises(UpstreamUnavailableError, match="SSL"):
        transport.post(server.url + BATCH_PATH, BODY, HEADERS, TIMEOUT)
