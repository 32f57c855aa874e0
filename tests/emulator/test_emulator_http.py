"""HTTP plumbing: keep-alive, Content-Length, lifecycle, loopback binding."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from tpns_emulator import TpnsEmulator

APP = "1500001048"
SECRET = "1452fcebae9f3115ba794fb0fff2fd73"
BATCH = "/v3/device/account/batchoperate"


def test_one_connection_serves_many_requests_with_content_length(emulator, client):
    # GIVEN one raw HTTP/1.1 connection
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    body = json.dumps({"operator_type": 4, "token_list": ["t1"]}).encode()
    try:
        for _ in range(3):
            # WHEN several requests go over it
            conn.request("POST", BATCH, body, client.signed_headers(body))
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


def test_connection_close_is_honoured(emulator, client):
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    body = b'{"operator_type": 4, "token_list": ["t1"]}'
    headers = {**client.signed_headers(body), "Connection": "close"}
    try:
        conn.request("POST", BATCH, body, headers)
        response = conn.getresponse()
        response.read()
        assert response.headers["Connection"] == "close"
    finally:
        conn.close()


def test_unknown_path_is_counted_as_not_found(emulator, client):
    client.post("/v3/push/app", {})
    assert emulator.stats.by_outcome == {"not_found": 1}


def test_binds_loopback_only(emulator):
    assert emulator.url == f"http://127.0.0.1:{emulator.port}"


def test_start_on_a_busy_port_raises_oserror():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        emu = TpnsEmulator(apps={APP: SECRET}, port=busy.getsockname()[1])
        with pytest.raises(OSError, match="in use"):
            emu.start()


def test_start_twice_is_an_error(emulator):
    with pytest.raises(RuntimeError, match="already started"):
        emulator.start()


def test_stop_is_idempotent():
    emu = TpnsEmulator(apps={APP: SECRET}).start()
    emu.stop()
    emu.stop()
