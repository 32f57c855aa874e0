"""Fixtures of the layer's transport tests: a transport closed after the test, and a CA the
trust store holds for the test alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import certifi
import pytest

from tests.support.http_server import LocalCa, make_ca
from tpns_account.transport import HttpClientTransport


@pytest.fixture
def transport() -> Iterator[HttpClientTransport]:
    made = HttpClientTransport(pool_size=4)
    yield made
    made.close()


@pytest.fixture
def trusted_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], LocalCa]:
    """trusted_ca(host): a CA and a certificate it signed for ``host``; the CA is the only one
    the transport trusts during the test."""

    def make(host: str) -> LocalCa:
        tls = make_ca(tmp_path, host)
        monkeypatch.setattr(certifi, "where", lambda: str(tls.ca_file))
        return tls

    return make
