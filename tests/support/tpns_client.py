"""A tiny signing TPNS client for the emulator tests, over plain ``requests``.

It is written here from the vendor's documented algorithm (not imported from the project), so
the emulator's verification is checked against an independent implementation. It speaks for
the test-vector app unless told otherwise.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import requests

from tests.support.vector import VECTOR_ACCESS_ID, VECTOR_SECRET_KEY

BATCHOPERATE_PATH = "/v3/device/account/batchoperate"
QUERY_PATH = "/v3/device/account/query"

AccountSpec = str | tuple[str, int]


def acc(*accounts: AccountSpec) -> list[dict[str, Any]]:
    """Account elements: ``"a"`` -> type 0, ``("a", 1005)`` -> that type."""
    out: list[dict[str, Any]] = []
    for item in accounts:
        name, account_type = (item, 0) if isinstance(item, str) else item
        out.append({"account": name, "account_type": account_type})
    return out


class TpnsTestClient:
    """Signs and posts TPNS calls with plain ``requests``."""

    def __init__(
        self,
        base_url: str,
        access_id: str = VECTOR_ACCESS_ID,
        secret: str = VECTOR_SECRET_KEY,
    ) -> None:
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
        """POST ``payload`` as JSON (or ``raw`` bytes), signed unless ``headers`` are given."""
        body = raw if raw is not None else json.dumps(payload).encode()
        return self.session.post(
            self.base_url + path,
            data=body,
            headers=headers if headers is not None else self.signed_headers(body),
            timeout=timeout,
        )

    def batch(self, payload: Any, **kwargs: Any) -> dict[str, Any]:
        """A batchoperate call that must answer HTTP 200; its JSON."""
        response = self.post(BATCHOPERATE_PATH, payload, **kwargs)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def query(self, payload: Any, **kwargs: Any) -> dict[str, Any]:
        """A query call that must answer HTTP 200; its JSON."""
        response = self.post(QUERY_PATH, payload, **kwargs)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def bind(self, token: str, *accounts: AccountSpec) -> dict[str, Any]:
        """operator_type 2 for one token."""
        item = {"token": token, "account_list": acc(*accounts)}
        return self.batch({"operator_type": 2, "token_accounts": [item]})

    def admin(self, method: str, route: str, payload: Any = None) -> requests.Response:
        """A call to the emulator's admin API (no auth)."""
        url = f"{self.base_url}/_emulator/{route}"
        if method == "GET":
            return self.session.get(url, timeout=5)
        return self.session.post(url, json=payload if payload is not None else {}, timeout=5)

    def close(self) -> None:
        self.session.close()


# make_client(access_id=..., secret=...) -> another client (other app, key or connection).
MakeTestClient = Callable[..., TpnsTestClient]
