"""Waiting for what happens asynchronously (TPNS applies binds later, queues deliver later)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout_s: float = 30, every_s: float = 0.3) -> T:
    """Poll ``check`` until it returns something truthy, or the timeout passes; its last result."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every_s)
