"""Turn raw samples into the tables: every figure beside its same-run baseline, as a ratio, with
the targets checked; and the cost model behind the template's memory sizes."""

from __future__ import annotations

from pathlib import Path

from bench import ledger_report
from bench.cells import (
    Verdict,
    mark,
)
from bench.report_cold import cold_sections, imports_table
from bench.report_cost import cost_sections
from bench.report_runs import bulk_table, emulator_table, warm_table
from bench.results import Results


def render(results: Results, charts: Path | None = None) -> tuple[str, list[Verdict]]:
    """The results block; ``charts`` is where the charts go, relative to the output file."""
    verdicts: list[Verdict] = []
    sections: list[list[str]] = []

    def chart(name: str, title: str) -> list[str]:
        return ["", f"![{title}]({(charts / name).as_posix()})"] if charts else []

    if results.cold:
        sections.extend(cold_sections(results, verdicts, chart))
    if results.imports:
        sections.append(imports_table(results))
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
    sections.extend(cost_sections(results, verdicts))
    summary = [
        "### Targets",
        "",
        "| target | result | measured |",
        "|---|---|---|",
        *(f"| {v.target} | {mark(v.met)} | {v.detail} |" for v in verdicts),
    ]
    sections.append(summary)
    return "\n\n".join("\n".join(section) for section in sections) + "\n", verdicts
