"""The local stack as a user runs it, shared by the tests of a module (see tests.support)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.local_stack import RunningStack, start_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """One running stack for the module's tests, stopped with Ctrl-C at the end."""
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    if running.process.poll() is None:
        running.stop()
