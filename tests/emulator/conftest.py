"""Fixtures for the TPNS emulator tests: a fresh emulator per test and a tiny signing client.

The client is written here from the vendor's documented algorithm (not imported from the
project), so the emulator's verification is checked against an independent implementation.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tpns_emulator import TpnsEmulator

ACCESS_ID = "1500001048"
SECRET = "1452fcebae9f3115ba794fb0fff2fd73"
BATCH = "/v3/device/account/batchoperate"
QUERY = "/v3/device/account/query"


class TpnsTestClient:
    """Signs and posts TPNS calls with plain ``requests``."""

    def __init__(self, base_url: str, access_id: str = ACCESS_ID, secret: str = SECRET) -> None:
        self.base_url = base_url
        self.access_id = access_id
        self.secret = secret
        self.session = requests.Session()

    @staticmethod
    def sign(secret: str, timestamp: str, access_id: str, body: bytes) -> str:
        digest = hmac.new(secret.encode(), timestamp.encode() + access_id.encode() + body, "sha256")
        return base64.b64encode(digest.hexdigest().encode()).decode()

    def signed_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "Content-Type": "application/json",
            "AccessId": self.access_id,
            "TimeStamp": ts,
            "Sign": self.sign(self.secret, ts, self.access_id, body),
        }

    def basic_headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.access_id}:{self.secret}".encode()).decode()
        return {"Content-Type": "application/json", "Authorization": f"Basic {token}"}

    def post(
        self,
        path: str,
        payload: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
    ) -> requests.Response:
        body = raw if raw is not None else json.dumps(payload).encode()
        return self.session.post(
            self.base_url + path,
            data=body,
            headers=headers if headers is not None else self.signed_headers(body),
            timeout=timeout,
        )

    def batch(self, payload: Any, **kwargs: Any) -> dict[str, Any]:
        response = self.post(BATCH, payload, **kwargs)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def query(self, payload: Any, **kwargs: Any) -> dict[str, Any]:
        response = self.post(QUERY, payload, **kwargs)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def bind(self, token: str, *accounts: str | tuple[str, int]) -> dict[str, Any]:
        """operator_type 2 for one token."""
        item = {"token": token, "account_list": acc(*accounts)}
        return self.batch({"operator_type": 2, "token_accounts": [item]})

    def admin(self, method: str, route: str, payload: Any = None) -> requests.Response:
        url = f"{self.base_url}/_emulator/{route}"
        if method == "GET":
            return self.session.get(url, timeout=5)
        return self.session.post(url, json=payload if payload is not None else {}, timeout=5)

    def close(self) -> None:
        self.session.close()


def acc(*accounts: str | tuple[str, int]) -> list[dict[str, Any]]:
    """Account elements: ``"a"`` -> type 0, ``("a", 1005)`` -> that type."""
    out: list[dict[str, Any]] = []
    for item in accounts:
        name, account_type = (item, 0) if isinstance(item, str) else item
        out.append({"account": name, "account_type": account_type})
    return out


@pytest.fixture
def emulator() -> Iterator[TpnsEmulator]:
    """A running emulator on a free loopback port, knowing the test-vector app."""
    emu = TpnsEmulator(apps={ACCESS_ID: SECRET}, port=0)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def client(emulator: TpnsEmulator) -> Iterator[TpnsTestClient]:
    """A signing client for the test-vector app."""
    c = TpnsTestClient(emulator.url)
    yield c
    c.close()


@pytest.fixture
def make_client(emulator: TpnsEmulator) -> Iterator[Any]:
    """Factory for extra clients (other apps, other keys, separate connections)."""
    made: list[TpnsTestClient] = []

    def factory(access_id: str = ACCESS_ID, secret: str = SECRET) -> TpnsTestClient:
        c = TpnsTestClient(emulator.url, access_id, secret)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()


@pytest.fixture
def accounts() -> Any:
    """The ``acc`` helper, as a fixture so test modules need not import conftest."""
    return acc
