"""The local stack for the CLI's end-to-end tests, one per module, as a user runs it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.local_stack import RunningStack, stack_for_module


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The stack as deployed by default (ledger on), stopped with Ctrl-C at the end."""
    yield from stack_for_module(tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="module")
def stack_without_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The stack with ``LedgerMode=off``: v1.0's pass-through, jobs kept, no verification
    (moto serves one DynamoDB call at a time: 20,000 ledger writes would take a minute)."""
    yield from stack_for_module(
        tmp_path_factory.mktemp("stack"), "--parameter-overrides", "LedgerMode=off"
    )
