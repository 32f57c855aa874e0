"""Report sections 1, 1a and 1b: cold starts against the floor and naive baselines, on CPU
shares, and where the time goes."""

from __future__ import annotations

import statistics
from collections.abc import Callable

from bench.cells import (
    COLD_VS_FLOOR,
    COLD_VS_NAIVE,
    LEDGER_EXTRA,
    TOP_MODULES,
    TOP_PACKAGES,
    Verdict,
    cold_seconds,
    compiled_cell,
    fmt_ms,
    fmt_x,
    judge,
    mark,
    paired_ratio,
    spread_ms,
    table_row,
)
from bench.config import CACHED, NOPYC, SHIPPED
from bench.lambda_env import share_of
from bench.results import ColdSample, Results
from bench.stats import Spread


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
        handler, floor = cold_seconds(runs["function"]), cold_seconds(runs["floor"])
        ratio = paired_ratio(handler, floor)
        ok = ratio.median <= COLD_VS_FLOOR
        row = [
            function,
            fmt_ms(spread_ms(handler)),
            fmt_ms(spread_ms(floor)),
            fmt_x(ratio),
            mark(ok),
        ]
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
            handler, floor = cold_seconds(other["function"]), cold_seconds(other["floor"])
            row += [
                fmt_ms(spread_ms(handler)),
                fmt_ms(spread_ms(floor)),
                fmt_x(paired_ratio(handler, floor)),
            ]
        without = nopyc.get(function, {}).get("function")
        row.append(
            f"{compiled_cell(runs['function'])} / {compiled_cell(without) if without else '—'}"
        )
        lines.append(table_row(row))
    return lines


def _ledger_cells(
    function: str, runs: dict[str, list[ColdSample]], verdicts: list[Verdict]
) -> list[str]:
    """The ledger-on cold start and what it adds, as a share of the same run's floor."""
    if "ledger" not in runs:
        return ["—"] * 3
    off, on, floor = (cold_seconds(runs[v]) for v in ("function", "ledger", "floor"))
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
    return [fmt_ms(spread_ms(on)), extra.scaled(100).show("{:+.0f}", "%"), mark(ok)]


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
        handler, floor = cold_seconds(runs["function"]), cold_seconds(runs["floor"])
        naive = cold_seconds(runs["naive"])
        vs_naive = paired_ratio(handler, naive)
        floor_naive = paired_ratio(floor, naive)
        ok = vs_naive.median <= COLD_VS_NAIVE
        detail = (
            f"{vs_naive.median:.2f}× (by {vs_naive.median - COLD_VS_NAIVE:+.2f}); the floor "
            f"itself is {floor_naive.median:.2f}× naive"
        )
        target = f"cold start {function} ≤ {COLD_VS_NAIVE}× naive (cached)"
        cells = [function, *(fmt_ms(spread_ms(s)) for s in (handler, floor, naive))]
        cells += [fmt_x(vs_naive), fmt_x(floor_naive), judge(verdicts, target, ok, detail)]
        lines.append(table_row(cells))
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
            handler, floor = cold_seconds(runs["function"]), cold_seconds(runs["floor"])
            lines.append(
                f"| {mb} MB | {share_of(mb):.1%} | {function} | {fmt_ms(spread_ms(handler))}"
                f" | {fmt_ms(spread_ms(floor))} | {fmt_x(paired_ratio(handler, floor))}"
                f" | {compiled_cell(runs['function'])} |"
            )
    return lines


def phases_table(results: Results) -> list[str]:
    lines = [
        "#### Where the time goes, as shipped (ms, medians)",
        "",
        "*Start*: spawn until the interpreter runs the benchmark's child script; *import*: the "
        "handler module; *first request*: the handler's first answer (for the functions this "
        "is where their AWS clients are made: the layer reads the secret with botocore on "
        "first use and never imports boto3; the floor imports boto3 at module top).",
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


def cold_sections(
    results: Results, verdicts: list[Verdict], chart: Callable[[str, str], list[str]]
) -> list[list[str]]:
    shares = chart("cpu-share.png", "Cold start by memory size") if results.shares else []
    return [
        cold_table(results, verdicts) + chart("cold-start.png", "Cold start"),
        phases_table(results),
        naive_table(results, verdicts),
        share_table(results) + shares,
    ]
