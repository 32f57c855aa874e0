"""Retry backoff and rate pacing: how fast to try again, how fast to call at all."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and by the caller's deadline.

    Throttling backs off from a larger base: hammering a throttled app only extends the
    throttle. A server's ``Retry-After`` is a floor, never shortened by jitter.
    """

    max_attempts: int = 6
    base_delay: float = 0.1
    throttle_base_delay: float = 0.5
    max_delay: float = 5.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(
        self, attempt: int, *, throttled: bool = False, retry_after: float | None = None
    ) -> float:
        base = self.throttle_base_delay if throttled else self.base_delay
        ceiling = min(self.max_delay, base * (2 ** (attempt - 1)))
        jittered = self.rng.uniform(ceiling / 2, ceiling)
        return max(jittered, retry_after or 0.0)


class RateLimiter:
    """Paces calls to at most ``qps`` per second across threads (one slot every 1/qps s).

    Pacing rather than bursting keeps an upstream QPS window from ever seeing more than the
    cap, whatever the window's alignment.
    """

    def __init__(self, qps: float) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        self.interval = 1.0 / qps
        self._next = 0.0
        self._lock = threading.Lock()

    def reserve(self, deadline: float) -> float | None:
        """Reserve the next slot; returns its monotonic time, or None if past ``deadline``."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            if slot > deadline:
                return None
            self._next = slot + self.interval
            return slot

    def acquire(self, deadline: float) -> bool:
        slot = self.reserve(deadline)
        if slot is None:
            return False
        wait = slot - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        return True
