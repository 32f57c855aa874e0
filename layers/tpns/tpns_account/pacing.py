"""Retry backoff and rate pacing: how fast to try again, how fast to call at all."""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from typing import Literal, Protocol

from tpns_account.errors import SettingsError
from tpns_account.values import Value, field

#: ``shared``: one pace for every call the client makes (a bulk consumer's sustained rate);
#: ``per_call``: each ``batch_operate``/``query`` paces only its own calls, so a request never
#: waits for the previous request's slot (an API function serving requests back to back).
Pacing = Literal["shared", "per_call"]


class RetryPolicy(Value):
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


class Pacer(Protocol):
    """Decides when the next upstream call may start, and hears how the upstream took it."""

    def acquire(self, deadline: float) -> bool:
        """Wait for a slot; False if none comes before ``deadline`` (monotonic)."""
        ...

    def admitted(self) -> None: ...

    def throttled(self) -> None: ...


class WindowLimiter:
    """At most ``qps`` calls in any one-second window, the first ones at once.

    One request's few calls (a 100-item sync request makes 5) go out together, and a request
    never waits for anything but its own earlier calls: the cap TPNS sees still holds, since
    no window ever holds more than ``qps`` of them. Used per call (``Pacing`` ``per_call``).
    """

    def __init__(self, qps: float) -> None:
        if qps <= 0:
            raise SettingsError("max_qps must be positive")
        self.window = max(1.0, 1.0 / qps)
        self.capacity = max(1, math.floor(qps * self.window))
        self._started: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self, deadline: float) -> bool:
        while True:
            with self._lock:
                now = time.monotonic()
                while self._started and self._started[0] <= now - self.window:
                    self._started.popleft()
                if len(self._started) < self.capacity:
                    self._started.append(now)
                    return True
                free_at = self._started[0] + self.window
            if free_at > deadline:
                return False
            time.sleep(max(0.0, free_at - time.monotonic()))

    def admitted(self) -> None:
        """Nothing to learn: a call's own retries back off from throttling."""

    def throttled(self) -> None:
        """Nothing to learn: a call's own retries back off from throttling."""


class RateLimiter:
    """Paces calls to at most ``qps`` per second across threads (one slot every 1/qps s).

    Pacing rather than bursting keeps an upstream QPS window from ever seeing more than the
    cap, whatever the window's alignment.

    ``qps`` is a ceiling, not a target: when the upstream throttles (its quota is lower, or
    other processes share it), ``throttled()`` lowers the pace to a little under what the
    upstream admitted in the last second, and it climbs back towards ``qps`` while calls go
    through. Without this, throttled calls only back off one by one and the rest keep arriving
    too fast, so fewer calls are admitted than the quota allows.
    """

    WINDOW_S = 1.0
    DECREASE = 0.9  # of the calls admitted in the last window
    INCREASE_PER_S = 0.02  # of the ceiling, regained per second without throttling

    def __init__(self, qps: float) -> None:
        if qps <= 0:
            raise SettingsError("max_qps must be positive")
        self.ceiling = qps
        self.qps = qps
        self.interval = 1.0 / qps
        self._next = 0.0
        self._lock = threading.Lock()
        self._admitted: deque[float] = deque()
        self._last_change = 0.0
        self._last_decrease = -self.WINDOW_S

    def reserve(self, deadline: float) -> float | None:
        """Reserve the next slot; returns its monotonic time, or None if past ``deadline``."""
        with self._lock:
            now = time.monotonic()
            if self.qps < self.ceiling:
                self._recover(now)
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

    def admitted(self) -> None:
        """The upstream accepted a call (it was not throttled)."""
        now = time.monotonic()
        with self._lock:
            self._admitted.append(now)
            self._trim(now)

    def throttled(self) -> None:
        """The upstream throttled a call: pace a little under what it admitted in the last
        window (once per window: the answers to calls already in flight say nothing new)."""
        now = time.monotonic()
        with self._lock:
            if now - self._last_decrease < self.WINDOW_S:
                return
            self._trim(now)
            admitted = len(self._admitted) / self.WINDOW_S
            floor = self.ceiling * self.INCREASE_PER_S
            self._set(max(floor, min(self.qps, admitted) * self.DECREASE), now)
            self._last_decrease = now

    def _recover(self, now: float) -> None:
        regained = self.ceiling * self.INCREASE_PER_S * (now - self._last_change)
        self._set(min(self.ceiling, self.qps + regained), now)

    def _set(self, qps: float, now: float) -> None:
        self.qps = qps
        self.interval = 1.0 / qps
        self._last_change = now

    def _trim(self, now: float) -> None:
        while self._admitted and self._admitted[0] <= now - self.WINDOW_S:
            self._admitted.popleft()
