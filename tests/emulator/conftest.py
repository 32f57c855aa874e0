"""Fixtures for the TPNS emulator tests: a fresh emulator per test and a tiny signing client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.tpns_client import MakeTestClient, TpnsTestClient
from tests.support.vector import VECTOR_ACCESS_ID, VECTOR_SECRET_KEY
from tpns_emulator import TpnsEmulator


@pytest.fixture
def emulator() -> Iterator[TpnsEmulator]:
    """A running emulator on a free loopback port, knowing the test-vector app."""
    emu = TpnsEmulator(apps={VECTOR_ACCESS_ID: VECTOR_SECRET_KEY}, port=0)
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
def make_client(emulator: TpnsEmulator) -> Iterator[MakeTestClient]:
    """Factory for extra clients (other apps, other keys, separate connections)."""
    made: list[TpnsTestClient] = []

    def factory(
        access_id: str = VECTOR_ACCESS_ID, secret: str = VECTOR_SECRET_KEY
    ) -> TpnsTestClient:
        c = TpnsTestClient(emulator.url, access_id, secret)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()
