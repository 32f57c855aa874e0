"""Turn raw samples into the table: every figure beside its same-run baseline, as a ratio, with
the issue's targets checked; and the cost model behind the template's memory size."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.measure import ITEMS_PER_CALL, BulkScenario, Results
from bench.stats import Spread

if TYPE_CHECKING:
    from bench.measure import Config

LAMBDA_MB = 128
FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB, proportionally less below
TEMPLATE_QPS = 50.0  # TpnsMaxQps default
TEMPLATE_CONCURRENCY = 8  # TpnsMaxConcurrency default
MEMORY_SIZES = (128, 256, 512, 1024)
COLD_VS_FLOOR = 1.3
COLD_VS_NAIVE = 0.5
WARM_ADDED_US = 1000.0
WARM_RATIO = 1.15
BULK_FRACTION = 0.9
CAP_FRACTION = 0.9


@dataclass
class Verdict:
    target: str
    met: bool
    detail: str


def _ms(spread: Spread) -> str:
    return spread.show("{:.0f}")


def _x(spread: Spread) -> str:
    return spread.show("{:.2f}", "×")


def _pct(spread: Spread) -> str:
    return spread.scaled(100).show("{:.0f}", "%")


def _mark(met: bool) -> str:
    return "met" if met else "**not met**"


def cold_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    lines = [
        "### 1. Cold start: spawn → first answer (ms), fresh process each",
        "",
        "| function | handler | floor | naive | handler ÷ floor | handler ÷ naive | floor ÷ naive"
        " | target ≤1.3× floor, ≤0.5× naive |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for function, variants in results.cold.items():
        runs = zip(variants["function"], variants["floor"], variants["naive"], strict=True)
        triples = [(f.seconds, fl.seconds, n.seconds) for f, fl, n in runs]
        vs_floor = Spread.of(f / fl for f, fl, _ in triples)
        vs_naive = Spread.of(f / n for f, _, n in triples)
        floor_naive = Spread.of(fl / n for _, fl, n in triples)
        ok_floor = vs_floor.median <= COLD_VS_FLOOR
        ok_naive = vs_naive.median <= COLD_VS_NAIVE
        lines.append(
            f"| {function} | {_ms(Spread.of(t[0] * 1000 for t in triples))}"
            f" | {_ms(Spread.of(t[1] * 1000 for t in triples))}"
            f" | {_ms(Spread.of(t[2] * 1000 for t in triples))}"
            f" | {_x(vs_floor)} | {_x(vs_naive)} | {_x(floor_naive)}"
            f" | floor {_mark(ok_floor)}, naive {_mark(ok_naive)} |"
        )
        verdicts.append(
            Verdict(
                f"cold start {function} ≤ {COLD_VS_FLOOR}× floor",
                ok_floor,
                f"{vs_floor.median:.2f}× (by {vs_floor.median - COLD_VS_FLOOR:+.2f})",
            )
        )
        verdicts.append(
            Verdict(
                f"cold start {function} ≤ {COLD_VS_NAIVE}× naive",
                ok_naive,
                f"{vs_naive.median:.2f}× (by {vs_naive.median - COLD_VS_NAIVE:+.2f}); the floor "
                f"itself is {floor_naive.median:.2f}× naive",
            )
        )
    return lines


def warm_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    lines = [
        "### 2. Warm overhead per request (µs, median of each run's requests)",
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
            f"| {function} | {_ms(Spread.of(handler))} | {_ms(Spread.of(bare))}"
            f" | {added.show('{:+.0f}')} | {_x(ratio)}"
            f" | {_ms(Spread.of(s.handler_cpu_s * 1e6 for s in samples))}"
            f" | {_ms(Spread.of(s.bare_cpu_s * 1e6 for s in samples))}"
            f" | {samples[0].bare_kind} | {_mark(ok)} |"
        )
        verdicts.append(
            Verdict(
                f"warm overhead {function} ≤ 1 ms and ≤ {WARM_RATIO}×",
                ok,
                f"{added.median:+.0f} µs, {ratio.median:.2f}×",
            )
        )
    return lines


def _ideal_calls(scenario: BulkScenario, config: Config) -> float:
    rate = min(scenario.concurrency / config.latency_s, scenario.client_qps)
    return min(rate, scenario.emulator_cap) if scenario.emulator_cap else rate


def bulk_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    config = results.config
    bindings = results.bindings_per_batch
    sequential = Spread.of(results.sequential_bps)
    lines = [
        f"### 3. Bulk throughput: one SQS batch of {config.bulk_messages} messages × "
        f"{config.bulk_items:,} bindings, emulator latency {config.latency_s * 1000:g} ms/call",
        "",
        f"Sequential baseline (one bare call at a time, {ITEMS_PER_CALL} bindings each): "
        f"{sequential.show('{:,.0f}')} bindings/s.",
        "",
        "| scenario | bindings/s | ÷ sequential | ideal | of ideal | admitted calls/s"
        " | of emulator cap | throttled calls | target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for scenario in results.bulk:
        samples = scenario.samples
        rate = Spread.of(bindings / s.seconds for s in samples)
        speedup = Spread.of(
            bindings / s.seconds / q for s, q in zip(samples, results.sequential_bps, strict=False)
        )
        ideal = _ideal_calls(scenario, config) * ITEMS_PER_CALL
        fraction = Spread.of(bindings / s.seconds / ideal for s in samples)
        admitted = Spread.of((s.calls - s.throttled) / s.seconds for s in samples)
        throttled = Spread.of(s.throttled for s in samples)
        failed = sum(s.failed_messages for s in samples)
        cap = scenario.emulator_cap
        of_cap = (
            Spread.of((s.calls - s.throttled) / s.seconds / cap for s in samples) if cap else None
        )
        if cap is None:
            ok = fraction.median >= BULK_FRACTION
            target = f"≥90% of ideal: {_mark(ok)}"
            detail = f"{fraction.median:.0%} of ideal"
        elif scenario.client_qps < cap:
            ok = throttled.high == 0
            target = f"no throttles: {_mark(ok)}"
            detail = f"{throttled.high:.0f} throttled calls at most"
        else:
            assert of_cap is not None
            ok = of_cap.median >= CAP_FRACTION
            target = f"≥90% of cap: {_mark(ok)}"
            detail = f"{of_cap.median:.0%} of the cap, {throttled.median:.0f} throttled calls"
        ok = ok and failed == 0
        lines.append(
            f"| {scenario.name} (concurrency {scenario.concurrency}, TPNS_MAX_QPS "
            f"{scenario.client_qps:g}) | {rate.show('{:,.0f}')} | {_x(speedup)}"
            f" | {ideal:,.0f} | {_pct(fraction)} | {admitted.show('{:.0f}')}"
            f" | {_pct(of_cap) if of_cap else '—'} | {throttled.show('{:.0f}')} | {target} |"
        )
        verdicts.append(
            Verdict(
                f"bulk: {scenario.name}, concurrency {scenario.concurrency}",
                ok,
                detail + (f", {failed} messages failed" if failed else ""),
            )
        )
    return lines


def emulator_table(results: Results) -> list[str]:
    config = results.config
    needed = max(config.concurrencies) / config.latency_s
    lines = [
        "### Emulator alone: clients that only post pre-built, pre-signed calls",
        "",
        f"The fastest bulk scenario needs {needed:.0f} calls/s "
        f"({max(config.concurrencies)} in flight × {config.latency_s * 1000:g} ms).",
        "",
        "| no-op client | calls/s | of ideal (threads ÷ latency) |",
        "|---|---|---|",
    ]
    for threads, rates in results.noop_cps.items():
        spread = Spread.of(rates)
        ideal = threads / config.latency_s
        lines.append(
            f"| {threads} threads, {config.latency_s * 1000:g} ms latency"
            f" | {spread.show('{:,.0f}')} | {_pct(spread.scaled(1 / ideal))} |"
        )
    zero = Spread.of(results.noop_zero_cps)
    lines.append(f"| 4 threads, no latency | {zero.show('{:,.0f}')} | — |")
    top = max(config.concurrencies)
    unlimited = [s for s in results.bulk if s.concurrency == top and s.emulator_cap is None]
    if unlimited and top in results.noop_cps:
        bulk_cps = statistics.median(s.calls / s.seconds for s in unlimited[0].samples)
        noop = statistics.median(results.noop_cps[top])
        lines += [
            "",
            f"At concurrency {top} the bulk function makes {bulk_cps:.0f} calls/s, "
            f"{bulk_cps / noop:.0%} of the {noop:.0f} calls/s the emulator serves to the no-op "
            f"client at the same concurrency; the emulator serves {2 * top} no-op threads at "
            f"{statistics.median(results.noop_cps.get(2 * top, [0.0])):.0f} calls/s, so it has "
            "room above what the benchmark asks of it.",
        ]
    return lines


def memory_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    lines = [
        "### 4. Memory: peak RSS of each process (MB, max over every run above)",
        "",
        "| process | peak RSS | of 128 MB | target ≤128 MB |",
        "|---|---|---|---|",
    ]
    peaks: dict[str, float] = {}
    for function, variants in results.cold.items():
        for variant, samples in variants.items():
            name = function if variant == "function" else f"{variant} baseline"
            peaks[name] = max(peaks.get(name, 0.0), *(s.rss_kb / 1024 for s in samples))
    for function, warm in results.warm.items():
        peaks[function] = max(peaks.get(function, 0.0), *(s.rss_kb / 1024 for s in warm))
    bulk = [s.rss_kb / 1024 for scenario in results.bulk for s in scenario.samples]
    if bulk:
        peaks["bulk"] = max(bulk)
    for name, peak in peaks.items():
        ok = peak <= LAMBDA_MB
        lines.append(f"| {name} | {peak:.0f} | {peak / LAMBDA_MB:.0%} | {_mark(ok)} |")
        if "baseline" not in name:
            verdicts.append(Verdict(f"peak RSS {name} ≤ 128 MB", ok, f"{peak:.0f} MB"))
    return lines


def cost_table(results: Results) -> list[str]:
    """GB-seconds per million bindings through the bulk function, by memory size."""
    config = results.config
    default = [s for s in results.bulk if s.concurrency == TEMPLATE_CONCURRENCY]
    samples = default[0].samples if default else results.bulk[0].samples
    cpu_per_binding = statistics.median(s.cpu_s for s in samples) / results.bindings_per_batch
    calls_per_s = min(TEMPLATE_CONCURRENCY / config.latency_s, TEMPLATE_QPS)
    upstream_s = 1e6 / ITEMS_PER_CALL / calls_per_s
    cpu_s = cpu_per_binding * 1e6
    lines = [
        "### Cost: GB-seconds per million bindings (bulk function, template defaults)",
        "",
        f"Measured CPU: {cpu_per_binding * 1e6:.1f} µs per binding ({cpu_s:.0f} CPU-s per "
        f"million). At TPNS_MAX_QPS {TEMPLATE_QPS:g} and concurrency {TEMPLATE_CONCURRENCY} a "
        f"million bindings take {upstream_s:.0f} s of upstream calls. Lambda gives "
        f"memory ÷ {FULL_VCPU_MB} MB of a vCPU, so an invocation lasts about "
        "max(upstream time, CPU time × 1769 ÷ memory).",
        "",
        "| memory | CPU share | duration per million | bound by | GB-s per million |",
        "|---|---|---|---|---|",
    ]
    for mb in MEMORY_SIZES:
        cpu_wall = cpu_s * FULL_VCPU_MB / mb
        duration = max(upstream_s, cpu_wall)
        bound = "upstream (QPS)" if upstream_s >= cpu_wall else "CPU"
        lines.append(
            f"| {mb} MB | {min(1.0, mb / FULL_VCPU_MB):.1%} | {duration:,.0f} s | {bound}"
            f" | {duration * mb / 1024:,.0f} |"
        )
    return lines


def render(results: Results) -> tuple[str, list[Verdict]]:
    verdicts: list[Verdict] = []
    sections: list[list[str]] = []
    if results.cold:
        sections.append(cold_table(results, verdicts))
    if results.warm:
        sections.append(warm_table(results, verdicts))
    if results.bulk:
        sections.append(bulk_table(results, verdicts))
    if results.noop_cps:
        sections.append(emulator_table(results))
    sections.append(memory_table(results, verdicts))
    if results.bulk:
        sections.append(cost_table(results))
    summary = [
        "### Targets",
        "",
        "| target | result | measured |",
        "|---|---|---|",
        *(f"| {v.target} | {_mark(v.met)} | {v.detail} |" for v in verdicts),
    ]
    sections.append(summary)
    return "\n\n".join("\n".join(section) for section in sections) + "\n", verdicts
