"""Warm overhead: one process serves the same request many times, in blocks alternating with the
bare call it makes upstream (``bench/child.py warm``); LedgerMode off, and on for some."""

from __future__ import annotations

from typing import Any

from bench.config import API_EVENTS
from bench.events import items_of
from bench.measure import Bench
from bench.results import Results, WarmSample
from bench.servers import ROOT


def warm(bench: Bench, results: Results, progress: Any) -> None:
    """At the template's settings, LedgerMode off, and on for ``ledger_functions``; the
    QPS pacing applies as deployed (per call, for the API functions)."""
    config = bench.config
    cases = [(f, False) for f in config.functions]
    cases += [(f, True) for f in config.ledger_functions if f in config.functions]
    for run in range(config.runs):
        for function, ledger in cases if run % 2 == 0 else cases[::-1]:
            event = ROOT / "events" / "api" / API_EVENTS[function]
            results.api_items[function] = items_of(event)
            _, result, _ = bench.child(
                "warm",
                {
                    "handler": str(bench.handler_file(function)),
                    "event": str(event),
                    "warmup": config.warm_warmup,
                    "blocks": config.warm_blocks,
                    "block_size": config.warm_block_size,
                },
                bench.function_env(function, ledger=ledger),
            )
            runs = results.warm_ledger if ledger else results.warm
            runs.setdefault(function, []).append(WarmSample(**result))
            bench.keep_queues_small()
        progress(f"warm run {run + 1}/{config.runs}")
