"""How the tests build the layer's ``TpnsClient`` against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tpns_account import RetryPolicy, TpnsClient

# Retries in milliseconds, not seconds: the faults the tests inject clear (or not) quickly.
FAST_RETRY = RetryPolicy(base_delay=0.01, throttle_base_delay=0.02, max_delay=0.1, max_attempts=6)
# Client options for the emulator, each of which a test may override.
CLIENT_DEFAULTS: dict[str, Any] = {"timeout": 1.0, "retry": FAST_RETRY, "time_budget": 5.0}

# make_client(**overrides) -> a client to the emulator (credentials=..., auth=..., timeout=...).
MakeClient = Callable[..., TpnsClient]
