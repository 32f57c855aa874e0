"""The pieces every report section shares: the targets, a verdict, and how figures are shown."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from bench.results import ColdSample
from bench.stats import Spread

SMALLEST_MB = 128  # Lambda's smallest size: every function should fit it
MEMORY_SIZES = (128, 256, 512, 1024)
COLD_VS_FLOOR = 1.10
LEDGER_EXTRA = 0.15
COLD_VS_NAIVE = 0.5
WARM_ADDED_US = 1000.0
WARM_RATIO = 1.15
BULK_FRACTION = 0.93
NOOP_FRACTION = 0.97
CAP_FRACTION = 0.9
API_COLD_BUDGET_MS = 1000.0  # the API default: the smallest size whose cold start is within it
TOP_PACKAGES = 14
TOP_MODULES = 12


@dataclass
class Verdict:
    target: str
    met: bool
    detail: str


def fmt_ms(spread: Spread) -> str:
    return spread.show("{:,.0f}")


def fmt_x(spread: Spread) -> str:
    return spread.show("{:.2f}", "×")


def pct(spread: Spread) -> str:
    return spread.scaled(100).show("{:.0f}", "%")


def mark(met: bool) -> str:
    return "met" if met else "**not met**"


def cold_seconds(samples: Iterable[ColdSample]) -> list[float]:
    return [s.seconds for s in samples]


def paired_ratio(top: list[float], bottom: list[float]) -> Spread:
    """Per-run ratios (runs are paired: same run, back to back), summarised."""
    return Spread.of(t / b for t, b in zip(top, bottom, strict=True))


def spread_ms(values: list[float]) -> Spread:
    return Spread.of(v * 1000 for v in values)


def compiled_cell(samples: list[ColdSample]) -> str:
    return f"{statistics.median(s.compiled for s in samples):.0f}"


def table_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def judge(verdicts: list[Verdict], target: str, ok: bool, detail: str) -> str:
    """Record ``target``'s verdict for the Targets table; returns its cell in this table."""
    verdicts.append(Verdict(target, ok, detail))
    return mark(ok)
