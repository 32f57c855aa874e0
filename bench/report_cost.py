"""Report section 4 and the cost tables: peak memory, and the memory defaults against the cost
model (bulk: GB-s per binding; API: cold start and GB-s by size)."""

from __future__ import annotations

import math
import statistics

from bench import ledger_calls, ledger_cost
from bench.cells import (
    API_COLD_BUDGET_MS,
    MEMORY_SIZES,
    SMALLEST_MB,
    Verdict,
    cold_seconds,
    mark,
)
from bench.config import ITEMS_PER_CALL
from bench.lambda_env import FULL_VCPU_MB, share_of
from bench.results import Results

COST_TIE = 1.05  # sizes within 5% of the cheapest GB-s count as equally cheap


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
        lines.append(f"| {name} | {peak:.0f} | {peak / SMALLEST_MB:.0%} | {mark(ok)} |")
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
        cold_ms = statistics.median(cold_seconds(cold["function"])) * 1000 if cold else math.nan
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
        if statistics.median(cold_seconds(measured[mb]["function"])) * 1000 <= API_COLD_BUDGET_MS
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


def cost_sections(results: Results, verdicts: list[Verdict]) -> list[list[str]]:
    sections = [memory_table(results, verdicts)]
    if results.bulk:
        sections.append(bulk_cost_table(results, verdicts))
    if results.shares:
        sections.append(api_cost_table(results, verdicts))
    requests = ledger_calls.requests_table(results)
    if ledger_calls.paths(results):
        sections.extend([requests, ledger_cost.cost_table(results)])
    return sections
