"""HTTP plumbing: keep-alive, Content-Length, lifecycle, loopback binding."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from tests.support.tpns_client import BATCHOPERATE_PATH, TpnsTestClient
from tests.support.vector import VECTOR_ACCESS_ID, VECTOR_SECRET_KEY
from tpns_emulator import TpnsEmulator


def test_one_connection_serves_many_requests_with_content_length(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN one raw HTTP/1.1 connection
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    body = json.dumps({"operator_type": 4, "token_list": ["t1"]}).encode()
    try:
        for _ in range(3):
            # WHEN several requests go over it
            conn.request("POST", BATCHOPERATE_PATH, body, client.signed_headers(body))
            response = conn.getresponse()
            payload = response.read()
            # THEN each answer is framed by Content-Length and the connection stays open
            assert response.status == 200
            assert int(response.headers["Content-Length"]) == len(payload)
            assert response.headers.get("Connection") != "close"
            assert response.headers["Content-Type"].startswith("application/json")
        assert conn.sock is not None
    finally:
        conn.close()


def test_connection_close_is_honoured(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN a request asking for Connection: close
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    body = b'{"operator_type": 4, "token_list": ["t1"]}'
    headers = {**client.signed_headers(body), "Connection": "close"}
    try:
        # WHEN it is sent
        conn.request("POST", BATCHOPERATE_PATH, body, headers)
        response = conn.getresponse()
        response.read()
        # THEN the answer says the connection closes
        assert response.headers["Connection"] == "close"
    finally:
        conn.close()


def test_unknown_path_is_counted_as_not_found(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a TPNS path the emulator does not serve
    path = "/v3/push/app"
    # WHEN it is posted to
    client.post(path, {})
    # THEN the request is counted as not found
    assert emulator.stats.by_outcome == {"not_found": 1}


def test_listens_on_loopback_only(emulator: TpnsEmulator) -> None:
    # GIVEN an emulator started on a free port
    # WHEN its URL is read
    url = emulator.url
    # THEN it is on 127.0.0.1
    assert url == f"http://127.0.0.1:{emulator.port}"


def test_start_on_a_busy_port_raises_oserror() -> None:
    # GIVEN a port some other socket listens on
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        emu = TpnsEmulator(apps={VECTOR_ACCESS_ID: VECTOR_SECRET_KEY}, port=busy.getsockname()[1])
        # WHEN an emulator starts on it
        # THEN it raises an OSError saying the port is in use
        with pytest.raises(OSError, match="in use"):
            emu.start()


def test_start_twice_is_an_error(emulator: TpnsEmulator) -> None:
    # GIVEN a started emulator
    # WHEN it is started again
    # THEN it refuses
    with pytest.raises(RuntimeError, match="already started"):
        emulator.start()


def test_stop_is_idempotent() -> None:
    # GIVEN a started emulator, stopped once
    emu = TpnsEmulator(apps={VECTOR_ACCESS_ID: VECTOR_SECRET_KEY}).start()
    emu.stop()
    # WHEN it is stopped again
    emu.stop()
    # THEN nothing happens: no error, and it stays stopped
    with pytest.raises(RuntimeError):
        _ = emu.url
