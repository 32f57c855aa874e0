"""What the emulator counts: requests by path and outcome, concurrency, throttling, calls."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any

MAX_CALL_RECORDS = 10_000


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One handled TPNS call, as tests and benchmarks want to see it."""

    path: str
    access_id: str | None
    operator_type: int | None
    item_count: int | None
    ret_code: int | None
    http_status: int
    outcome: str
    at: float
    #: The request body as parsed (None when it was not a JSON object): what was really sent.
    body: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class EmulatorStats:
    """A consistent snapshot of the counters; also readable as ``stats["requests"]``."""

    requests: int
    by_path: dict[str, int]
    by_outcome: dict[str, int]
    peak_concurrency: int
    in_flight: int
    throttled: int
    faults_fired: dict[str, int]
    pending_mutations: int
    calls: list[CallRecord]

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["calls"] = [c.as_dict() for c in self.calls]
        return data


class RequestCounters:
    """Request counters and the throttling window, under one small lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.by_path: Counter[str] = Counter()
        self.by_outcome: Counter[str] = Counter()
        self.faults_fired: Counter[str] = Counter()
        self.in_flight = 0
        self.peak = 0
        self.throttled = 0
        self.calls: deque[CallRecord] = deque(maxlen=MAX_CALL_RECORDS)
        self.window: deque[float] = deque()

    def reset(self) -> None:
        with self.lock:
            self.requests = 0
            self.by_path.clear()
            self.by_outcome.clear()
            self.faults_fired.clear()
            self.peak = self.in_flight
            self.throttled = 0
            self.calls.clear()
            self.window.clear()

    def snapshot(self, pending_mutations: int) -> EmulatorStats:
        with self.lock:
            return EmulatorStats(
                requests=self.requests,
                by_path=dict(self.by_path),
                by_outcome=dict(self.by_outcome),
                peak_concurrency=self.peak,
                in_flight=self.in_flight,
                throttled=self.throttled,
                faults_fired=dict(self.faults_fired),
                pending_mutations=pending_mutations,
                calls=list(self.calls),
            )

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def detach(self) -> None:
        """A stalled request's client hung up: it no longer counts as in flight."""
        with self.lock:
            self.in_flight -= 1

    def leave(
        self, record: CallRecord | None, fired: tuple[str, ...] = (), *, detached: bool = False
    ) -> None:
        with self.lock:
            if not detached:
                self.in_flight -= 1
            if record is None:
                return
            self.requests += 1
            self.by_path[record.path] += 1
            self.by_outcome[record.outcome] += 1
            if record.outcome == "throttled":
                self.throttled += 1
            for kind in fired:
                self.faults_fired[kind] += 1
            self.calls.append(record)

    def admit(self, cap: float | None) -> bool:
        """Sliding one-second window across all apps; only admitted requests count."""
        if cap is None:
            return True
        now = time.monotonic()
        with self.lock:
            window = self.window
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= cap:
                return False
            window.append(now)
            return True
