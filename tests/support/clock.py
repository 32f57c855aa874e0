"""A clock the test moves, for what the code times by ``clock()`` (epoch seconds)."""

from __future__ import annotations


class ManualClock:
    """``clock()`` answers the instant set; ``advance`` moves it on (time never passes else)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
