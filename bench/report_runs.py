"""Report sections 2 and 3: warm overhead, bulk throughput, and the emulator alone."""

from __future__ import annotations

import statistics

from bench.cells import (
    BULK_FRACTION,
    CAP_FRACTION,
    NOOP_FRACTION,
    WARM_ADDED_US,
    WARM_RATIO,
    Verdict,
    fmt_ms,
    fmt_x,
    mark,
    pct,
)
from bench.config import ITEMS_PER_CALL, Config
from bench.results import BulkScenario, Results, bulk_label
from bench.stats import Spread


def warm_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    qps = results.settings.get("qps", 0.0)
    lines = [
        "### 2. Warm overhead per request (µs, median of each run's requests)",
        "",
        f"At the template's defaults (`TPNS_MAX_QPS` {qps:g}): the QPS pacer is not lifted, so "
        "back-to-back requests wait for it as they would when deployed.",
        "",
        "| function | handler | bare call | added | handler ÷ bare | handler CPU | bare CPU"
        " | bare call is | target ≤1 ms added, ≤1.15× |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for function, samples in results.warm.items():
        handler = [statistics.median(s.handler_s) * 1e6 for s in samples]
        bare = [statistics.median(s.bare_s) * 1e6 for s in samples]
        added = Spread.of(h - b for h, b in zip(handler, bare, strict=True))
        ratio = Spread.of(h / b for h, b in zip(handler, bare, strict=True))
        ok = added.median <= WARM_ADDED_US and ratio.median <= WARM_RATIO
        lines.append(
            f"| {function} | {fmt_ms(Spread.of(handler))} | {fmt_ms(Spread.of(bare))}"
            f" | {added.show('{:+,.0f}')} | {fmt_x(ratio)}"
            f" | {fmt_ms(Spread.of(s.handler_cpu_s * 1e6 for s in samples))}"
            f" | {fmt_ms(Spread.of(s.bare_cpu_s * 1e6 for s in samples))}"
            f" | {samples[0].bare_kind} | {mark(ok)} |"
        )
        verdicts.append(
            Verdict(
                f"warm overhead {function} ≤ 1 ms and ≤ {WARM_RATIO}×",
                ok,
                f"{added.median:+,.0f} µs, {ratio.median:.2f}×",
            )
        )
    return lines


def ideal_calls(scenario: BulkScenario, config: Config) -> float:
    rate = min(scenario.concurrency / config.latency_s, scenario.client_qps)
    return min(rate, scenario.emulator_cap) if scenario.emulator_cap else rate


def _bulk_verdict(
    scenario: BulkScenario, results: Results, fraction: Spread, of_cap: Spread | None
) -> tuple[bool, str, str]:
    """(met, the target cell, the summary detail) for one scenario."""
    samples = scenario.samples
    throttled = Spread.of(s.throttled for s in samples)
    cap = scenario.emulator_cap
    if cap is None:
        noop = results.noop_cps.get(scenario.concurrency)
        vs_noop = (
            statistics.median(s.calls / s.seconds for s in samples) / statistics.median(noop)
            if noop
            else None
        )
        ok = fraction.median >= BULK_FRACTION and (vs_noop is None or vs_noop >= NOOP_FRACTION)
        noop_text = f", {vs_noop:.0%} of no-op" if vs_noop is not None else ""
        return (
            ok,
            f"≥{BULK_FRACTION:.0%} of ideal, ≥{NOOP_FRACTION:.0%} of no-op: {mark(ok)}",
            f"{fraction.median:.0%} of ideal{noop_text}",
        )
    if scenario.client_qps < cap:
        ok = throttled.high == 0
        return ok, f"no throttles: {mark(ok)}", f"{throttled.high:.0f} throttled calls at most"
    assert of_cap is not None
    ok = of_cap.median >= CAP_FRACTION
    return (
        ok,
        f"≥{CAP_FRACTION:.0%} of cap: {mark(ok)}",
        f"{of_cap.median:.0%} of the cap, {throttled.median:.0f} throttled calls",
    )


def bulk_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    config = results.config
    sequential = Spread.of(results.sequential_bps)
    lines = [
        f"### 3. Bulk throughput: one SQS batch of {config.bulk_messages} messages × "
        f"{config.bulk_items:,} bindings, emulator latency {config.latency_s * 1000:g} ms/call",
        "",
        f"Sequential baseline (one bare connection, one call at a time, {ITEMS_PER_CALL} "
        f"bindings each): {sequential.show('{:,.0f}')} bindings/s. *First answer*: when the "
        "emulator answered the batch's first call, from the handler's start (the parsing done "
        "before any call goes out, plus one latency). *Steady*: calls/s between the first and "
        "the last answer, of the ideal.",
        "",
        "| scenario | bindings/s | ÷ sequential | ideal | of ideal | first answer (ms)"
        " | steady | admitted calls/s | of emulator cap | throttled calls | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scenario in results.bulk:
        samples = scenario.samples
        rate = Spread.of(s.bindings / s.seconds for s in samples)
        speedup = Spread.of(
            s.bindings / s.seconds / q
            for s, q in zip(samples, results.sequential_bps, strict=False)
        )
        ideal_cps = ideal_calls(scenario, config)
        fraction = Spread.of(s.bindings / s.seconds / (ideal_cps * ITEMS_PER_CALL) for s in samples)
        admitted = Spread.of((s.calls - s.throttled) / s.seconds for s in samples)
        throttled = Spread.of(s.throttled for s in samples)
        first = Spread.of(s.first_answer_s * 1000 for s in samples)
        steady = Spread.of(s.steady_cps / ideal_cps for s in samples)
        failed = sum(s.failed_messages for s in samples)
        cap = scenario.emulator_cap
        of_cap = (
            Spread.of((s.calls - s.throttled) / s.seconds / cap for s in samples) if cap else None
        )
        if scenario.at_defaults:
            target = "see *Jobs and the ledger* below"
        elif scenario.memory_mb is None:
            ok, target, detail = _bulk_verdict(scenario, results, fraction, of_cap)
            verdicts.append(
                Verdict(
                    f"bulk: {scenario.name}, concurrency {scenario.concurrency}",
                    ok and failed == 0,
                    detail + (f", {failed} messages failed" if failed else ""),
                )
            )
        else:
            target = "the memory size's cost: see *Cost* below"
        lines.append(
            f"| {bulk_label(scenario)} | {rate.show('{:,.0f}')} | {fmt_x(speedup)}"
            f" | {ideal_cps * ITEMS_PER_CALL:,.0f} | {pct(fraction)} | {fmt_ms(first)}"
            f" | {pct(steady) if cap is None else '—'} | {admitted.show('{:.0f}')}"
            f" | {pct(of_cap) if of_cap else '—'} | {throttled.show('{:.0f}')} | {target} |"
        )
    return lines


def emulator_table(results: Results) -> list[str]:
    config = results.config
    top = max(config.concurrencies)
    batch_calls = config.bulk_messages * config.bulk_items // ITEMS_PER_CALL
    lines = [
        "### Emulator alone: clients that only post pre-built, pre-signed calls",
        "",
        f"Each thread posts on its own keep-alive `http.client` connection; together they make "
        f"a bulk batch's {batch_calls:,} calls, timed like it. The fastest bulk scenario needs "
        f"{top / config.latency_s:.0f} calls/s ({top} in flight × {config.latency_s * 1000:g} ms).",
        "",
        "| no-op client | calls/s | of ideal (threads ÷ latency) | bulk function at that"
        " concurrency, of no-op |",
        "|---|---|---|---|",
    ]
    unlimited = {s.concurrency: s for s in results.bulk if s.unlimited}
    for threads, rates in sorted(results.noop_cps.items()):
        spread = Spread.of(rates)
        ideal = threads / config.latency_s
        bulk = unlimited.get(threads)
        vs = (
            f"{statistics.median(s.calls / s.seconds for s in bulk.samples) / spread.median:.0%}"
            if bulk
            else "—"
        )
        lines.append(
            f"| {threads} threads, {config.latency_s * 1000:g} ms latency"
            f" | {spread.show('{:,.0f}')} | {pct(spread.scaled(1 / ideal))} | {vs} |"
        )
    zero = Spread.of(results.noop_zero_cps)
    lines.append(f"| 4 threads, no latency | {zero.show('{:,.0f}')} | — | — |")
    return lines
