"""Turn raw samples into the tables: every figure beside its same-run baseline, as a ratio, with
the targets checked; and the cost model behind the template's memory sizes."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.lambda_env import FULL_VCPU_MB, share_of
from bench.measure import (
    CACHED,
    ITEMS_PER_CALL,
    NOPYC,
    SHIPPED,
    BulkScenario,
    ColdSample,
    Config,
    Results,
    bulk_label,
)
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


def _ms(spread: Spread) -> str:
    return spread.show("{:,.0f}")


def _x(spread: Spread) -> str:
    return spread.show("{:.2f}", "×")


def _pct(spread: Spread) -> str:
    return spread.scaled(100).show("{:.0f}", "%")


def _mark(met: bool) -> str:
    return "met" if met else "**not met**"


mark, pct = _mark, _pct


def _seconds(samples: Iterable[ColdSample]) -> list[float]:
    return [s.seconds for s in samples]


def _ratio(top: list[float], bottom: list[float]) -> Spread:
    """Per-run ratios (runs are paired: same run, back to back), summarised."""
    return Spread.of(t / b for t, b in zip(top, bottom, strict=True))


def _spread_ms(values: list[float]) -> Spread:
    return Spread.of(v * 1000 for v in values)


def _compiled(samples: list[ColdSample]) -> str:
    return f"{statistics.median(s.compiled for s in samples):.0f}"


# -- 1. cold start ----------------------------------------------------------------------------


def cold_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    shipped, nopyc, cached = (results.cold.get(m, {}) for m in (SHIPPED, NOPYC, CACHED))
    lines = [
        "### 1. Cold start: spawn → first answer (ms), fresh process each",
        "",
        f"*As shipped*: from the `sam build` artifact as Lambda has it ({results.readonly_note}; "
        "`PYTHONDONTWRITEBYTECODE=1`). *Without .pyc*: the same artifact without its "
        "`__pycache__`, as `sam build` shipped it before. *Cached*: the old figure, from the "
        "source tree with bytecode caches written by a discarded first run. Every handler is "
        "beside the floor run the same way. The handler columns are `LedgerMode=off`; *ledger "
        "on* is the same artifact with the template's `LedgerMode=on` environment (the "
        "default: jobs and ledger tables, verify queue), and *+ledger* what that adds, per run, "
        "as a share of that run's floor.",
        "",
        "| function | as shipped | floor | ÷ floor | target ≤1.10× floor"
        " | ledger on | +ledger, of floor | target ≤+15%"
        " | without .pyc | floor | ÷ floor | cached (old) | floor | ÷ floor"
        " | modules compiled: shipped / without .pyc |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for function, runs in shipped.items():
        handler, floor = _seconds(runs["function"]), _seconds(runs["floor"])
        ratio = _ratio(handler, floor)
        ok = ratio.median <= COLD_VS_FLOOR
        row = [function, _ms(_spread_ms(handler)), _ms(_spread_ms(floor)), _x(ratio), _mark(ok)]
        verdicts.append(
            Verdict(
                f"cold start {function} as shipped ≤ {COLD_VS_FLOOR:.2f}× floor",
                ok,
                f"{ratio.median:.2f}× (by {ratio.median - COLD_VS_FLOOR:+.2f})",
            )
        )
        row += _ledger_cells(function, runs, verdicts)
        for other in (nopyc.get(function), cached.get(function)):
            if other is None:
                row += ["—"] * 3
                continue
            handler, floor = _seconds(other["function"]), _seconds(other["floor"])
            row += [_ms(_spread_ms(handler)), _ms(_spread_ms(floor)), _x(_ratio(handler, floor))]
        without = nopyc.get(function, {}).get("function")
        row.append(f"{_compiled(runs['function'])} / {_compiled(without) if without else '—'}")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _ledger_cells(
    function: str, runs: dict[str, list[ColdSample]], verdicts: list[Verdict]
) -> list[str]:
    """The ledger-on cold start and what it adds, as a share of the same run's floor."""
    if "ledger" not in runs:
        return ["—"] * 3
    off, on, floor = (_seconds(runs[v]) for v in ("function", "ledger", "floor"))
    extra = Spread.of((n - o) / f for n, o, f in zip(on, off, floor, strict=True))
    ok = extra.median <= LEDGER_EXTRA
    verdicts.append(
        Verdict(
            f"ledger's extra cold start, {function}, ≤ +{LEDGER_EXTRA:.0%} of the floor",
            ok,
            f"{extra.median:+.0%} of the floor ({statistics.median(on) * 1000:,.0f} ms on, "
            f"{statistics.median(off) * 1000:,.0f} ms off)",
        )
    )
    return [_ms(_spread_ms(on)), extra.scaled(100).show("{:+.0f}", "%"), _mark(ok)]


def naive_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    lines = [
        "#### Against the naive handler (cached: the naive handler's dependencies are not in "
        "any artifact)",
        "",
        "| function | handler | floor | naive | handler ÷ naive | floor ÷ naive"
        " | target ≤0.5× naive |",
        "|---|---|---|---|---|---|---|",
    ]
    for function, runs in results.cold.get(CACHED, {}).items():
        handler, floor = _seconds(runs["function"]), _seconds(runs["floor"])
        naive = _seconds(runs["naive"])
        vs_naive = _ratio(handler, naive)
        floor_naive = _ratio(floor, naive)
        ok = vs_naive.median <= COLD_VS_NAIVE
        lines.append(
            f"| {function} | {_ms(_spread_ms(handler))} | {_ms(_spread_ms(floor))}"
            f" | {_ms(_spread_ms(naive))} | {_x(vs_naive)} | {_x(floor_naive)} | {_mark(ok)} |"
        )
        verdicts.append(
            Verdict(
                f"cold start {function} ≤ {COLD_VS_NAIVE}× naive (cached)",
                ok,
                f"{vs_naive.median:.2f}× (by {vs_naive.median - COLD_VS_NAIVE:+.2f}); the floor "
                f"itself is {floor_naive.median:.2f}× naive",
            )
        )
    return lines


def share_table(results: Results) -> list[str]:
    lines = [
        "### 1a. Cold start on a Lambda-sized CPU share (as shipped, ms)",
        "",
    ]
    if results.share_note is not None:
        return [
            *lines,
            f"Not measured: {results.share_note}. The cost model below scales the "
            "full-CPU figures instead.",
        ]
    lines += [
        "Each process runs in a cgroup whose CPU quota is the memory size ÷ 1,769 MB of a CPU "
        "(a 20 ms CFS period), as Lambda allocates CPU; moto and the emulator run outside it "
        "(Secrets Manager and TPNS are not on the function's CPU either).",
        "",
        "| memory | CPU share | function | handler | floor | handler ÷ floor | modules compiled |",
        "|---|---|---|---|---|---|---|",
    ]
    for mb, functions in sorted(results.shares.items()):
        for function, runs in functions.items():
            handler, floor = _seconds(runs["function"]), _seconds(runs["floor"])
            lines.append(
                f"| {mb} MB | {share_of(mb):.1%} | {function} | {_ms(_spread_ms(handler))}"
                f" | {_ms(_spread_ms(floor))} | {_x(_ratio(handler, floor))}"
                f" | {_compiled(runs['function'])} |"
            )
    return lines


def phases_table(results: Results) -> list[str]:
    lines = [
        "#### Where the time goes, as shipped (ms, medians)",
        "",
        "*Start*: spawn until the interpreter runs the benchmark's child script; *import*: the "
        "handler module; *first request*: the handler's first answer (for the functions this "
        "is where boto3 is imported: the layer reads the secret through Powertools parameters "
        "on first use; the floor imports boto3 at module top).",
        "",
        "| function | handler: start | import | first request"
        " | floor: start | import | first request |",
        "|---|---|---|---|---|---|---|",
    ]
    for function, runs in results.cold.get(SHIPPED, {}).items():
        cells = []
        for variant in ("function", "floor"):
            samples = runs[variant]
            start = statistics.median(s.startup_s for s in samples) * 1000
            imported = statistics.median(s.import_s for s in samples) * 1000
            request = (
                statistics.median(s.seconds - s.startup_s - s.import_s for s in samples) * 1000
            )
            cells += [f"{start:.0f}", f"{imported:.0f}", f"{request:.0f}"]
        lines.append(f"| {function} | " + " | ".join(cells) + " |")
    return lines


def _package(module: str) -> str:
    return module.split(".")[0]


def _per_package(runs: dict[str, list[float]]) -> dict[str, float]:
    """Median over runs of each top-level package's summed self time (ms)."""
    count = max(len(v) for v in runs.values())
    totals: dict[str, list[float]] = {}
    for module, values in runs.items():
        per_run = totals.setdefault(_package(module), [0.0] * count)
        for i, value in enumerate(values):
            per_run[i] += value / 1000
    return {package: statistics.median(v) for package, v in totals.items()}


def imports_table(results: Results) -> list[str]:
    labels = list(results.imports)
    packages = {label: _per_package(results.imports[label]) for label in labels}
    lead = "bind" if "bind" in packages else labels[-1]
    ranked = sorted(packages[lead], key=lambda p: -packages[lead][p])[:TOP_PACKAGES]
    lines = [
        "### 1b. Where the cold start goes: import self time by top-level package (ms)",
        "",
        "`python -X importtime` of each cold start as shipped (median of the runs; the tracing "
        "itself inflates every figure a little). The floor column is what any boto3 function "
        "pays; the rest is what the handler adds.",
        "",
        "| package | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for package in ranked:
        cells = [f"{packages[label].get(package, 0.0):.1f}" for label in labels]
        lines.append(f"| `{package}` | " + " | ".join(cells) + " |")
    others = [
        f"{sum(v for p, v in packages[label].items() if p not in ranked):.1f}" for label in labels
    ]
    totals = [f"{sum(packages[label].values()):.1f}" for label in labels]
    lines.append("| everything else | " + " | ".join(others) + " |")
    lines.append("| **all imports** | " + " | ".join(f"**{t}**" for t in totals) + " |")
    floor = results.imports.get("floor", {})
    extra = {m: v for m, v in results.imports.get(lead, {}).items() if m not in floor}
    if extra:
        without = results.imports.get(f"{lead} without .pyc", {})
        lines += [
            "",
            f"Modules {lead} imports that the floor does not, by self time (ms):",
            "",
            "| module | as shipped | without .pyc |",
            "|---|---|---|",
        ]
        for module in sorted(extra, key=lambda m: -statistics.median(extra[m]))[:TOP_MODULES]:
            nopyc = without.get(module)
            lines.append(
                f"| `{module}` | {statistics.median(extra[module]) / 1000:.1f}"
                f" | {statistics.median(nopyc) / 1000 if nopyc else 0.0:.1f} |"
            )
    return lines


# -- 2. warm ----------------------------------------------------------------------------------


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
            f"| {function} | {_ms(Spread.of(handler))} | {_ms(Spread.of(bare))}"
            f" | {added.show('{:+,.0f}')} | {_x(ratio)}"
            f" | {_ms(Spread.of(s.handler_cpu_s * 1e6 for s in samples))}"
            f" | {_ms(Spread.of(s.bare_cpu_s * 1e6 for s in samples))}"
            f" | {samples[0].bare_kind} | {_mark(ok)} |"
        )
        verdicts.append(
            Verdict(
                f"warm overhead {function} ≤ 1 ms and ≤ {WARM_RATIO}×",
                ok,
                f"{added.median:+,.0f} µs, {ratio.median:.2f}×",
            )
        )
    return lines


# -- 3. bulk ----------------------------------------------------------------------------------


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
            f"≥{BULK_FRACTION:.0%} of ideal, ≥{NOOP_FRACTION:.0%} of no-op: {_mark(ok)}",
            f"{fraction.median:.0%} of ideal{noop_text}",
        )
    if scenario.client_qps < cap:
        ok = throttled.high == 0
        return ok, f"no throttles: {_mark(ok)}", f"{throttled.high:.0f} throttled calls at most"
    assert of_cap is not None
    ok = of_cap.median >= CAP_FRACTION
    return (
        ok,
        f"≥{CAP_FRACTION:.0%} of cap: {_mark(ok)}",
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
            f"| {bulk_label(scenario)} | {rate.show('{:,.0f}')} | {_x(speedup)}"
            f" | {ideal_cps * ITEMS_PER_CALL:,.0f} | {_pct(fraction)} | {_ms(first)}"
            f" | {_pct(steady) if cap is None else '—'} | {admitted.show('{:.0f}')}"
            f" | {_pct(of_cap) if of_cap else '—'} | {throttled.show('{:.0f}')} | {target} |"
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
            f" | {spread.show('{:,.0f}')} | {_pct(spread.scaled(1 / ideal))} | {vs} |"
        )
    zero = Spread.of(results.noop_zero_cps)
    lines.append(f"| 4 threads, no latency | {zero.show('{:,.0f}')} | — | — |")
    return lines


# -- 4. memory and cost -----------------------------------------------------------------------


def _peaks(results: Results) -> dict[str, float]:
    """Each process's peak RSS in MB, over every run that measured it."""
    peaks: dict[str, float] = {}
    for mode in results.cold.values():
        for function, variants in mode.items():
            for variant, samples in variants.items():
                name = {"function": function, "ledger": f"{function}, ledger on"}.get(
                    variant, f"{variant} baseline"
                )
                peaks[name] = max(peaks.get(name, 0.0), *(s.rss_kb / 1024 for s in samples))
    for function, warm in results.warm.items():
        peaks[function] = max(peaks.get(function, 0.0), *(s.rss_kb / 1024 for s in warm))
    for function, warm in results.warm_ledger.items():
        name = f"{function}, ledger on"
        peaks[name] = max(peaks.get(name, 0.0), *(s.rss_kb / 1024 for s in warm))
    for ledger in (False, True):
        bulk = [s.rss_kb / 1024 for x in results.bulk if x.ledger == ledger for s in x.samples]
        if bulk:
            peaks[f"bulk, LedgerMode {'on' if ledger else 'off'}"] = max(bulk)
    if results.verify:
        peaks["verify"] = max(s.rss_kb / 1024 for s in results.verify)
    return peaks


def memory_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    lines = [
        "### 4. Memory: peak RSS of each process (MB, max over every run above)",
        "",
        "| process | peak RSS | of 128 MB | target ≤128 MB |",
        "|---|---|---|---|",
    ]
    peaks = _peaks(results)
    for name, peak in peaks.items():
        ok = peak <= SMALLEST_MB
        lines.append(f"| {name} | {peak:.0f} | {peak / SMALLEST_MB:.0%} | {_mark(ok)} |")
        if "baseline" not in name:
            verdicts.append(Verdict(f"peak RSS {name} ≤ 128 MB", ok, f"{peak:.0f} MB"))
    return lines


def _default_mark(mb: int, default: float) -> str:
    return f"**{mb} MB** (default)" if mb == int(default) else f"{mb} MB"


def bulk_cost_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    """GB-seconds per million bindings through the bulk function, by memory size."""
    config = results.config
    qps, concurrency = results.settings["qps"], results.settings["concurrency"]
    default = results.settings["bulk_memory_mb"]
    # The deployed default path (LedgerMode on, a job's messages), else the plain one.
    default_path = [s for s in results.bulk if s.at_defaults and s.ledger]
    unlimited = [s for s in results.bulk if s.unlimited]
    chosen = default_path or [s for s in unlimited if s.concurrency == concurrency] or unlimited
    samples = chosen[0].samples
    what = "LedgerMode on, a job's messages" if default_path else "LedgerMode off"
    cpu_per_binding = statistics.median(s.cpu_s / s.bindings for s in samples)
    calls_per_s = min(concurrency / config.latency_s, qps)
    upstream_s = 1e6 / ITEMS_PER_CALL / calls_per_s
    cpu_s = cpu_per_binding * 1e6
    lines = [
        "### Cost: the bulk function (GB-seconds per million bindings)",
        "",
        f"Measured CPU ({what}, as deployed by default, on a full CPU): {cpu_s:.1f} µs per "
        f"binding ({cpu_s:.0f} CPU-s per million; the verify function's is in *DynamoDB, SQS "
        "and Lambda per million bindings*). At the "
        f"template's TPNS_MAX_QPS {qps:g} and concurrency {concurrency:g} a million bindings "
        f"take {upstream_s:,.0f} s of upstream calls. An invocation lasts about max(upstream "
        f"time, CPU time × {FULL_VCPU_MB} ÷ memory).",
        "",
        "| memory | CPU share | CPU time at that share | duration per million | bound by"
        " | GB-s per million |",
        "|---|---|---|---|---|---|",
    ]
    for mb in MEMORY_SIZES:
        cpu_wall = cpu_s / min(1.0, share_of(mb))
        duration = max(upstream_s, cpu_wall)
        bound = "upstream (QPS)" if upstream_s >= cpu_wall else "CPU"
        lines.append(
            f"| {_default_mark(mb, default)} | {share_of(mb):.1%} | {cpu_wall:,.0f} s"
            f" | {duration:,.0f} s | {bound} | {duration * mb / 1024:,.0f} |"
        )
    lines += _bulk_measured_sizes(results, verdicts, default, calls_per_s)
    return lines


COST_TIE = 1.05  # sizes within 5% of the cheapest GB-s count as equally cheap


def _bulk_measured_sizes(
    results: Results, verdicts: list[Verdict], default: float, calls_per_s: float
) -> list[str]:
    """The default bulk path measured on each size's CPU share: the default must be among the
    cheapest per binding and, among those, the fastest."""
    measured = {
        s.memory_mb: s
        for s in results.bulk
        if s.memory_mb is not None and s.samples and (s.ledger or not s.job)
    }
    on = {mb: s for mb, s in measured.items() if s.ledger}
    chosen = on or measured
    if not chosen:
        return []
    rates = {
        mb: statistics.median(x.bindings / x.seconds for x in s.samples) for mb, s in chosen.items()
    }
    gbs = {mb: 1e6 / rate * mb / 1024 for mb, rate in rates.items()}
    lines = [
        "",
        "Measured on each size's CPU share (section 3, *template defaults*"
        + (", LedgerMode on, a job's messages" if on else "")
        + "):",
        "",
        "| memory | bindings/s | of the QPS-bound rate | GB-s per million bindings |",
        "|---|---|---|---|",
    ]
    for mb in sorted(rates):
        lines.append(
            f"| {_default_mark(mb, default)} | {rates[mb]:,.0f}"
            f" | {rates[mb] / (calls_per_s * ITEMS_PER_CALL):.0%} | {gbs[mb]:,.0f} |"
        )
    cheapest = min(gbs.values())
    ties = [mb for mb in gbs if gbs[mb] <= cheapest * COST_TIE]
    pick = max(ties, key=lambda mb: rates[mb])
    verdicts.append(
        Verdict(
            f"BulkFunctionMemorySize default {default:g} MB is the cheapest per binding (the "
            "fastest of the cheapest)",
            pick == int(default),
            ", ".join(f"{mb} MB {gbs[mb]:,.0f} GB-s at {rates[mb]:,.0f}/s" for mb in sorted(gbs))
            + f"; the pick is {pick} MB",
        )
    )
    return lines


def api_cost_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    """Latency and GB-seconds of the API functions by memory size."""
    config = results.config
    default = results.settings["api_memory_mb"]
    bind_warm = results.warm.get("bind")
    cpu_us = statistics.median(s.handler_cpu_s for s in bind_warm) * 1e6 if bind_warm else math.nan
    upstream_ms = config.latency_s * 1000
    measured = {mb: runs["bind"] for mb, runs in results.shares.items() if "bind" in runs}
    lines = [
        "### Cost and latency: the API functions, by memory size",
        "",
        f"Bind's cold start as shipped, measured on each size's CPU share (section 1a); a warm "
        f"request's CPU ({cpu_us:,.0f} µs at a full CPU, section 2) stretched by the share; "
        f"GB-s per million warm requests if TPNS answers in {upstream_ms:g} ms (billed "
        "duration rounds up to the ms); GB-s per cold start (Lambda bills the init phase).",
        "",
        "| memory | CPU share | cold start (bind) | warm CPU latency | GB-s per million warm"
        " requests | GB-s per cold start |",
        "|---|---|---|---|---|---|",
    ]
    for mb in MEMORY_SIZES:
        share = min(1.0, share_of(mb))
        cold = measured.get(mb)
        cold_ms = statistics.median(_seconds(cold["function"])) * 1000 if cold else math.nan
        warm_ms = cpu_us / 1000 / share
        billed = math.ceil(upstream_ms + warm_ms) if not math.isnan(warm_ms) else math.nan
        lines.append(
            f"| {_default_mark(mb, default)} | {share:.1%}"
            f" | {f'{cold_ms:,.0f} ms' if cold else '—'} | {warm_ms:.1f} ms"
            f" | {mb / 1024 * billed / 1000 * 1e6:,.0f}"
            f" | {f'{mb / 1024 * cold_ms / 1000:.2f}' if cold else '—'} |"
        )
    within = [
        mb
        for mb in sorted(measured)
        if statistics.median(_seconds(measured[mb]["function"])) * 1000 <= API_COLD_BUDGET_MS
    ]
    if measured:
        pick = within[0] if within else None
        verdicts.append(
            Verdict(
                f"ApiFunctionMemorySize default {default:g} MB",
                pick == int(default),
                f"the smallest measured size with bind's cold start ≤ {API_COLD_BUDGET_MS:,.0f} "
                f"ms is {f'{pick} MB' if pick else 'none'}",
            )
        )
    return lines


def _cold_sections(
    results: Results, verdicts: list[Verdict], chart: Callable[[str, str], list[str]]
) -> list[list[str]]:
    shares = chart("cpu-share.png", "Cold start by memory size") if results.shares else []
    return [
        cold_table(results, verdicts) + chart("cold-start.png", "Cold start"),
        phases_table(results),
        naive_table(results, verdicts),
        share_table(results) + shares,
    ]


def _cost_sections(results: Results, verdicts: list[Verdict]) -> list[list[str]]:
    from bench import ledger_report

    sections = [memory_table(results, verdicts)]
    if results.bulk:
        sections.append(bulk_cost_table(results, verdicts))
    if results.shares:
        sections.append(api_cost_table(results, verdicts))
    requests = ledger_report.requests_table(results)
    if ledger_report.paths(results):
        sections.extend([requests, ledger_report.cost_table(results)])
    return sections


def render(results: Results, charts: Path | None = None) -> tuple[str, list[Verdict]]:
    """The results block; ``charts`` is where the charts go, relative to the output file."""
    verdicts: list[Verdict] = []
    sections: list[list[str]] = []

    def chart(name: str, title: str) -> list[str]:
        return ["", f"![{title}]({(charts / name).as_posix()})"] if charts else []

    if results.cold:
        sections.extend(_cold_sections(results, verdicts, chart))
    if results.imports:
        sections.append(imports_table(results))
    from bench import ledger_report  # it builds on this module's cells

    if results.warm:
        sections.append(warm_table(results, verdicts) + chart("warm-latency.png", "Warm latency"))
    if results.warm_ledger:
        sections.append(ledger_report.ledger_warm_table(results, verdicts))
    if results.bulk:
        sections.append(
            bulk_table(results, verdicts) + chart("bulk-throughput.png", "Bulk throughput")
        )
        sections.append(
            ledger_report.ledger_bulk_table(results, verdicts)
            + chart("bulk-ledger.png", "Bulk with jobs and the ledger")
        )
    if results.noop_cps:
        sections.append(emulator_table(results))
    sections.extend(_cost_sections(results, verdicts))
    summary = [
        "### Targets",
        "",
        "| target | result | measured |",
        "|---|---|---|",
        *(f"| {v.target} | {_mark(v.met)} | {v.detail} |" for v in verdicts),
    ]
    sections.append(summary)
    return "\n\n".join("\n".join(section) for section in sections) + "\n", verdicts
