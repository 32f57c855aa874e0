"""The benchmark's charts (PNG, matplotlib): drawn from the same results as the tables."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from bench.cells import API_COLD_BUDGET_MS, COLD_VS_FLOOR
from bench.config import CACHED, ITEMS_PER_CALL, NOPYC, SHIPPED
from bench.lambda_env import share_of
from bench.report_runs import ideal_calls
from bench.results import ColdSample, Results

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CHARTS_DIR = Path("docs") / "benchmarks"
COLOURS = {
    "floor": "#7f7f7f",
    "handler": "#1f77b4",
    "ledger": "#2ca02c",
    "nopyc": "#ff7f0e",
    "naive": "#d62728",
}


def _save(figure: Figure, path: Path) -> None:
    """Lay the chart out, write it and free it (pyplot keeps every open figure)."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _ms(samples: list[ColdSample]) -> tuple[float, float, float]:
    """(median, down, up) in ms: the bar and its min–max whiskers."""
    values = [s.seconds * 1000 for s in samples]
    median = statistics.median(values)
    return median, median - min(values), max(values) - median


def _bars(
    axes: Axes, groups: list[str], series: list[tuple[str, str, list[list[ColdSample]]]]
) -> None:
    width = 0.8 / len(series)
    for i, (label, colour, per_group) in enumerate(series):
        stats = [_ms(samples) for samples in per_group]
        positions = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        axes.bar(
            positions,
            [s[0] for s in stats],
            width,
            yerr=[[s[1] for s in stats], [s[2] for s in stats]],
            label=label,
            color=colour,
            capsize=2,
        )
    axes.set_xticks(range(len(groups)), groups)
    axes.set_ylabel("spawn → first answer (ms)")
    axes.grid(axis="y", alpha=0.3)


def cold_chart(results: Results, path: Path) -> None:
    import matplotlib.pyplot as plt

    shipped, nopyc, cached = (results.cold.get(m, {}) for m in (SHIPPED, NOPYC, CACHED))
    functions = list(shipped)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    _bars(
        left,
        functions,
        [
            ("floor (stdlib + boto3)", COLOURS["floor"], [shipped[f]["floor"] for f in functions]),
            ("handler, with .pyc", COLOURS["handler"], [shipped[f]["function"] for f in functions]),
            *(
                [
                    (
                        "the same, ledger on",
                        COLOURS["ledger"],
                        [shipped[f]["ledger"] for f in functions],
                    )
                ]
                if all("ledger" in shipped[f] for f in functions)
                else []
            ),
            ("handler, without .pyc", COLOURS["nopyc"], [nopyc[f]["function"] for f in functions]),
        ],
    )
    for g, function in enumerate(functions):
        target = COLD_VS_FLOOR * _ms(shipped[function]["floor"])[0]
        left.hlines(target, g - 0.4, g + 0.4, colors="black", linestyles="dashed", linewidth=1)
    left.set_title(
        "As Lambda runs it: the sam build artifact, read-only\n"
        "(LedgerMode off unless said; dashed: 1.10× floor)"
    )
    left.legend(loc="lower right", fontsize=8)
    if cached:
        _bars(
            right,
            functions,
            [
                ("floor", COLOURS["floor"], [cached[f]["floor"] for f in functions]),
                ("handler", COLOURS["handler"], [cached[f]["function"] for f in functions]),
                ("naive Powertools", COLOURS["naive"], [cached[f]["naive"] for f in functions]),
            ],
        )
        right.set_title("Old method: source tree, bytecode cache already written")
        right.legend(loc="lower right", fontsize=8)
    _save(figure, path)


def share_chart(results: Results, path: Path) -> None:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.2))
    sizes = sorted(results.shares)
    functions = sorted({f for runs in results.shares.values() for f in runs})
    for function in functions:
        for variant, colour, label in (
            ("function", COLOURS["handler"], function),
            ("floor", COLOURS["floor"], f"floor ({function}'s event)"),
        ):
            stats = [_ms(results.shares[mb][function][variant]) for mb in sizes]
            axes.errorbar(
                sizes,
                [s[0] for s in stats],
                yerr=[[s[1] for s in stats], [s[2] for s in stats]],
                marker="o",
                color=colour,
                label=label,
                capsize=3,
            )
    axes.axhline(API_COLD_BUDGET_MS, color="black", linestyle="dashed", linewidth=1)
    axes.axvline(results.settings["api_memory_mb"], color="green", linestyle="dotted")
    axes.set_xscale("log", base=2)
    axes.set_xticks(sizes, [f"{mb} MB\n{share_of(mb):.0%} CPU" for mb in sizes])
    axes.set_ylabel("cold start, as shipped (ms)")
    axes.set_title("Cold start on each memory size's CPU share\n(dashed: 1 s; dotted: the default)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    _save(figure, path)


def bulk_chart(results: Results, path: Path) -> None:
    import matplotlib.pyplot as plt

    config = results.config
    unlimited = sorted(
        (s for s in results.bulk if s.unlimited),
        key=lambda s: s.concurrency,
    )
    figure, axes = plt.subplots(figsize=(7, 4.2))
    levels = [s.concurrency for s in unlimited]
    rates = [[x.bindings / x.seconds for x in s.samples] for s in unlimited]
    medians = [statistics.median(r) for r in rates]
    axes.errorbar(
        levels,
        medians,
        yerr=[
            [m - min(r) for m, r in zip(medians, rates, strict=True)],
            [max(r) - m for m, r in zip(medians, rates, strict=True)],
        ],
        marker="o",
        color=COLOURS["handler"],
        label="bulk function",
        capsize=3,
    )
    axes.plot(
        levels,
        [ideal_calls(s, config) * ITEMS_PER_CALL for s in unlimited],
        color="black",
        linestyle="dashed",
        label=f"ideal: concurrency ÷ {config.latency_s * 1000:g} ms × {ITEMS_PER_CALL}",
    )
    noop = [c for c in levels if c in results.noop_cps]
    if noop:
        axes.plot(
            noop,
            [statistics.median(results.noop_cps[c]) * ITEMS_PER_CALL for c in noop],
            color=COLOURS["floor"],
            marker="s",
            label="no-op client, same emulator",
        )
    axes.set_xscale("log", base=2)
    axes.set_xticks(levels, [str(c) for c in levels])
    axes.set_ylim(bottom=0)
    axes.set_xlabel("concurrent upstream calls (TPNS_MAX_CONCURRENCY)")
    axes.set_ylabel("bindings/s")
    axes.set_title(
        f"Bulk: {config.bulk_messages} messages × {config.bulk_items:,} bindings, QPS unlimited"
    )
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    _save(figure, path)


def warm_chart(results: Results, path: Path) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda value, _: f"{value:g}")
    # Minor ticks labelled at 2 and 5 only, so a decade stays readable.
    sparse = FuncFormatter(lambda value, _: f"{value:g}" if f"{value:g}"[0] in "25" else "")

    functions = list(results.warm)
    columns = 2
    rows = (len(functions) + columns - 1) // columns
    figure, grid = plt.subplots(rows, columns, figsize=(11, 3.2 * rows), squeeze=False)
    for index, function in enumerate(functions):
        axes = grid[index // columns][index % columns]
        samples = results.warm[function]
        ledger = results.warm_ledger.get(function, [])
        lines = [
            ([t for s in samples for t in s.handler_s], COLOURS["handler"], "handler"),
            ([t for s in samples for t in s.bare_s], COLOURS["floor"], samples[0].bare_kind),
        ]
        if ledger:
            lines.insert(
                1,
                ([t for s in ledger for t in s.handler_s], COLOURS["ledger"], "handler, ledger on"),
            )
        for values, colour, label in lines:
            ordered = sorted(v * 1000 for v in values)
            fractions = [(i + 1) / len(ordered) for i in range(len(ordered))]
            axes.step(ordered, fractions, where="post", color=colour, label=label)
        axes.set_xscale("log")
        axes.xaxis.set_major_formatter(plain)
        axes.xaxis.set_minor_formatter(sparse)
        axes.set_title(function)
        axes.set_xlabel("request latency (ms, log)")
        axes.set_ylabel("fraction of requests")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8, loc="lower right")
    for index in range(len(functions), rows * columns):
        grid[index // columns][index % columns].set_visible(False)
    figure.suptitle(
        f"Warm requests back to back at the template's defaults "
        f"(TPNS_MAX_QPS {results.settings.get('qps', 0):g}; LedgerMode off unless said)"
    )
    _save(figure, path)


def ledger_bulk_chart(results: Results, path: Path) -> None:
    """Bindings/s of the defaults batches: plain, a job's, the ledger on; full CPU and share."""
    import matplotlib.pyplot as plt

    chosen = [s for s in results.bulk if s.at_defaults or s.memory_mb is not None]
    figure, axes = plt.subplots(figsize=(9, 4.2))
    labels, medians, lows, highs, colours = [], [], [], [], []
    for scenario in chosen:
        rates = [x.bindings / x.seconds for x in scenario.samples]
        median = statistics.median(rates)
        share = f"\n{scenario.memory_mb} MB's CPU" if scenario.memory_mb else "\nfull CPU"
        what = ("ledger on" if scenario.ledger else "ledger off") + (
            ", job" if scenario.job else ", plain"
        )
        labels.append(what + share)
        medians.append(median)
        lows.append(median - min(rates))
        highs.append(max(rates) - median)
        colours.append(COLOURS["ledger"] if scenario.ledger else COLOURS["handler"])
    axes.bar(range(len(chosen)), medians, yerr=[lows, highs], color=colours, capsize=3)
    ideal = results.settings.get("qps", 0.0) * ITEMS_PER_CALL
    axes.axhline(ideal, color="black", linestyle="dashed", linewidth=1)
    axes.set_xticks(range(len(chosen)), labels, fontsize=8)
    axes.set_ylim(bottom=0)
    axes.set_ylabel("bindings/s")
    axes.set_title(
        f"Bulk at the template's defaults (dashed: TPNS_MAX_QPS × {ITEMS_PER_CALL});\n"
        "ledger runs are moto-bound (one DynamoDB request at a time)"
    )
    axes.grid(axis="y", alpha=0.3)
    _save(figure, path)


def draw(results: Results, directory: Path) -> list[Path]:
    """Every chart the results have data for; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    directory.mkdir(parents=True, exist_ok=True)
    charts = []
    if results.cold.get(SHIPPED):
        charts.append(("cold-start.png", cold_chart))
    if results.shares:
        charts.append(("cpu-share.png", share_chart))
    if any(s.unlimited for s in results.bulk):
        charts.append(("bulk-throughput.png", bulk_chart))
    if results.warm:
        charts.append(("warm-latency.png", warm_chart))
    if any(s.at_defaults for s in results.bulk):
        charts.append(("bulk-ledger.png", ledger_bulk_chart))
    written = []
    for name, chart in charts:
        chart(results, directory / name)
        written.append(directory / name)
    return written
