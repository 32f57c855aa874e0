"""``python -m bench``: measure, print the table, and write it into BENCHMARKS.md.

The figures go between the ``bench:begin``/``bench:end`` markers of the output file; the
method and the analysis around them are kept. The charts go to ``docs/benchmarks/`` beside the
output file. ``--smoke`` runs tiny sizes in seconds (the figures then mean nothing; ``make test``
uses it, writing to a temporary file, so the benchmark cannot rot). Cold starts run from the
``sam build`` artifact, which must hold the tree's code (``make bench`` builds it first).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

from bench.bulk import bulk
from bench.charts import CHARTS_DIR, draw
from bench.cold import cold_start, imports
from bench.config import FUNCTIONS, BenchError, Config
from bench.emulator_alone import emulator_alone
from bench.measure import Bench, servers
from bench.report import render
from bench.results import Results
from bench.servers import ROOT
from bench.warm import warm

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
STAGES = {
    "cold": cold_start,
    "imports": imports,
    "warm": warm,
    "bulk": bulk,
    "emulator": emulator_alone,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, help="cold-start and warm runs (default 5)")
    parser.add_argument("--bulk-runs", type=int, help="bulk and emulator runs (default 3)")
    parser.add_argument(
        "--share-runs", type=int, help="cold-start runs at each CPU share (default 3)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument(
        "--only", action="append", choices=tuple(STAGES), help="run only these stages (repeatable)"
    )
    parser.add_argument(
        "--function", action="append", choices=FUNCTIONS, help="API functions to measure"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=ROOT / "BENCHMARKS.md",
        help="file to write the table into (default BENCHMARKS.md)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser


def _config(args: argparse.Namespace) -> Config:
    config = Config.smoke() if args.smoke else Config()
    changes: dict[str, object] = {}
    if args.runs:
        changes["runs"] = args.runs
    if args.bulk_runs:
        changes["bulk_runs"] = args.bulk_runs
    if args.share_runs:
        changes["share_runs"] = args.share_runs
    if args.function:
        changes["functions"] = tuple(args.function)
    return Config(**{**config.__dict__, **changes}) if changes else config


def run(config: Config, stages: tuple[str, ...]) -> Results:
    results = Results(config)
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    with servers(lifetime_s=3600) as (moto, emulator, scratch):
        bench = Bench(config, moto, emulator, scratch)
        results.settings = bench.settings
        try:
            for stage in stages:
                STAGES[stage](bench, results, progress)
        finally:
            bench.close()
    results.seconds = time.monotonic() - started
    return results


def heading(config: Config, results: Results, argv: list[str]) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Run of {now}: `{' '.join(['python -m bench', *argv])}` — "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs; {config.runs} cold/warm runs, {config.share_runs} runs per "
        f"CPU share, {config.bulk_runs} bulk runs; "
        f"took {results.seconds:.0f} s. Figures are `median [min–max]` over the runs; each "
        "ratio is taken within a run, then summarised."
    )


def write(path: Path, block: str) -> None:
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
    else:
        head = text or "# Benchmarks\n\nWritten by `make bench` (`python -m bench`).\n\n"
        tail = "\n"
    path.write_text(f"{head}{BEGIN}\n{block}{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    config = _config(args)
    stages = tuple(args.only) if args.only else tuple(STAGES)
    try:
        results = run(config, stages)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    charts_dir = args.output.parent / CHARTS_DIR
    table, verdicts = render(results, charts_dir.relative_to(args.output.parent))
    block = heading(config, results, argv) + "\n\n" + table
    print(block)
    if not args.no_write:
        write(args.output, block)
        for chart in draw(results, charts_dir):
            print(f"chart {chart}", file=sys.stderr)
        print(f"written to {args.output}", file=sys.stderr)
    unmet = [v.target for v in verdicts if not v.met]
    if unmet:
        print(f"{len(unmet)} target(s) not met: {'; '.join(unmet)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
