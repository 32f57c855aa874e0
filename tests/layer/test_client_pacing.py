"""QPS pacing: per call for the API (no request waits for another's slot), shared and adaptive
for a sustained consumer (bulk). On a fake clock, so the timings are exact and instant."""

from __future__ import annotations

import pytest

from tpns_account import pacing
from tpns_account.pacing import RateLimiter, WindowLimiter


class FakeClock:
    """``time.monotonic`` and ``time.sleep`` for the pacing module: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(pacing, "time", fake)
    return fake


def starts(limiter: WindowLimiter | RateLimiter, clock: FakeClock, calls: int) -> list[float]:
    """When each of ``calls`` calls was let through, from the first."""
    began = clock.now
    times = []
    for _ in range(calls):
        assert limiter.acquire(deadline=clock.now + 60)
        times.append(clock.now - began)
    return times


def most_in_one_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


def test_per_call_window_lets_a_requests_first_calls_go_at_once(clock: FakeClock) -> None:
    # GIVEN the per-call pacer of a 100-item request (5 calls) at the default TPNS_MAX_QPS 50
    limiter = WindowLimiter(50)
    # WHEN its 5 calls ask for slots
    times = starts(limiter, clock, 5)
    # THEN none waits: 5 calls are far under 50 in a second
    assert times == [0.0] * 5


def test_per_call_window_never_lets_more_than_max_qps_into_one_second(clock: FakeClock) -> None:
    # GIVEN a per-call pacer at 2 calls/s
    limiter = WindowLimiter(2)
    # WHEN a request's 5 calls ask for slots
    times = starts(limiter, clock, 5)
    # THEN no one-second window holds more than 2 of them, so they span 2 s
    assert most_in_one_second(times) == 2
    assert times == [0.0, 0.0, 1.0, 1.0, 2.0]


def test_per_call_window_gives_up_at_the_deadline(clock: FakeClock) -> None:
    # GIVEN a per-call pacer at 1 call/s whose slot is taken
    limiter = WindowLimiter(1)
    assert limiter.acquire(deadline=clock.now + 10)
    # WHEN the next call may wait only half a second
    # THEN it gets no slot (and did not sleep past its deadline)
    assert not limiter.acquire(deadline=clock.now + 0.5)
    assert clock.now == 1000.0


def test_shared_pacing_spaces_every_call_of_the_client(clock: FakeClock) -> None:
    # GIVEN the bulk function's shared pacer at 10 calls/s
    limiter = RateLimiter(10)
    # WHEN 21 calls (from any number of messages) ask for slots
    times = starts(limiter, clock, 21)
    # THEN they are paced one every 0.1 s, never more than 10 in a second
    assert times[-1] == pytest.approx(2.0)
    assert most_in_one_second(times) == 10


def test_shared_pacing_backs_off_under_throttling_and_recovers(clock: FakeClock) -> None:
    # GIVEN the shared pacer at 100 calls/s, of which TPNS admitted 60 in the last second
    limiter = RateLimiter(100)
    for _ in range(60):
        limiter.admitted()
    # WHEN TPNS throttles a call
    limiter.throttled()
    # THEN the pace drops a little under what was admitted (90% of 60)
    assert limiter.qps == pytest.approx(54)
    # AND a second throttle within the same window changes nothing
    limiter.throttled()
    assert limiter.qps == pytest.approx(54)
    # AND without throttling it climbs back 2% of the ceiling a second, never past it
    clock.now += 10
    limiter.reserve(deadline=clock.now + 1)
    assert limiter.qps == pytest.approx(74)
    clock.now += 100
    limiter.reserve(deadline=clock.now + 1)
    assert limiter.qps == pytest.approx(100)
