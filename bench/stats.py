"""Median, min and max of a few runs: the only summary that survives a shared, noisy machine."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Spread:
    median: float
    low: float
    high: float
    count: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        data = sorted(values)
        if not data:
            raise ValueError("no values to summarise")
        return cls(statistics.median(data), data[0], data[-1], len(data))

    def scaled(self, factor: float) -> Spread:
        return Spread(self.median * factor, self.low * factor, self.high * factor, self.count)

    def show(self, fmt: str = "{:.2f}", unit: str = "") -> str:
        """``median [min–max]``; a single run shows just its value."""
        median = fmt.format(self.median) + unit
        if self.count == 1:
            return median
        return f"{median} [{fmt.format(self.low)}–{fmt.format(self.high)}]"
