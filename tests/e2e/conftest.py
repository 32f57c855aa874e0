"""The local stack as a user runs it, shared by the tests of a module (see tests.support)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.emulator_admin import EmulatorAdmin
from tests.support.local_stack import RunningStack, stack_for_module
from tests.support.stack_jobs import JOBS_STACK_OPTIONS, LEDGER_STACK_OPTIONS, idle_and_reset


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """One running stack for the module's tests, stopped with Ctrl-C at the end."""
    yield from stack_for_module(tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="module")
def jobs_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack for the jobs tests (``JOBS_STACK_OPTIONS``: TPNS calls one at a time, two
    receives before the DLQ, short delays), shared by the module's tests."""
    yield from stack_for_module(tmp_path_factory.mktemp("jobs-stack"), *JOBS_STACK_OPTIONS)


@pytest.fixture
def jobs_tpns(jobs_stack: RunningStack) -> EmulatorAdmin:
    """The jobs stack with nothing left to do from earlier tests, its emulator reset."""
    return idle_and_reset(jobs_stack)


@pytest.fixture(scope="module")
def ledger_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack for the ledger tests (``LEDGER_STACK_OPTIONS``: short verify and apply delays),
    shared by the module's tests."""
    yield from stack_for_module(tmp_path_factory.mktemp("ledger-stack"), *LEDGER_STACK_OPTIONS)


@pytest.fixture
def ledger_tpns(ledger_stack: RunningStack) -> EmulatorAdmin:
    """The ledger stack with nothing left to do from earlier tests, its emulator reset."""
    return idle_and_reset(ledger_stack)
