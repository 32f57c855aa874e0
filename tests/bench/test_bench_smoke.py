"""The benchmark cannot rot: a smoke run (tiny sizes, seconds) must produce well-formed tables
and charts.

No timing is asserted: on a shared machine the figures of a smoke run mean nothing. Cold starts
run from the sam build artifact, which ``make test`` builds before running the tests.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (
    "### 1. Cold start",
    "#### Where the time goes",
    "#### Against the naive handler",
    "### 1a. Cold start on a Lambda-sized CPU share",
    "### 1b. Where the cold start goes",
    "### 2. Warm overhead",
    "#### The ledger on the sync routes",
    "### 3. Bulk throughput",
    "#### Jobs and the ledger on the bulk path",
    "### Emulator alone",
    "### 4. Memory",
    "### Cost: the bulk function",
    "### Cost and latency: the API functions",
    "### 5. DynamoDB and SQS requests per path",
    "### Cost: DynamoDB, SQS and Lambda per million bindings",
    "### Targets",
)
CHARTS = (
    "cold-start.png",
    "cpu-share.png",
    "warm-latency.png",
    "bulk-throughput.png",
    "bulk-ledger.png",
)
PNG = b"\x89PNG\r\n\x1a\n"


def _tables(text: str) -> list[list[str]]:
    tables: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def test_a_smoke_run_prints_and_writes_a_well_formed_table(tmp_path: Path) -> None:
    # GIVEN an existing notes file with the result markers
    output = tmp_path / "BENCHMARKS.md"
    output.write_text(
        "# Notes\n\nmethod\n\n<!-- bench:begin -->\nPREVIOUS-FIGURES\n<!-- bench:end -->\n\nafter\n"
    )
    # WHEN the benchmark runs at smoke sizes
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # THEN it succeeds and prints every section
    assert done.returncode == 0, done.stderr[-3000:]
    for section in SECTIONS:
        assert section in done.stdout
    # AND every table row has as many cells as its header, and a separator row (section 1b
    # has two tables)
    tables = _tables(done.stdout)
    assert len(tables) == len(SECTIONS) + 1
    for table in tables:
        width = table[0].count("|")
        assert re.fullmatch(r"\|(---\|)+", table[1])
        assert all(row.count("|") == width for row in table), table
        assert len(table) > 2
    # AND the figures replaced only what sat between the markers
    written = output.read_text()
    assert written.startswith("# Notes\n\nmethod\n\n<!-- bench:begin -->\n")
    assert written.endswith("<!-- bench:end -->\n\nafter\n")
    assert "PREVIOUS-FIGURES" not in written
    assert "### Targets" in written
    # AND the charts are drawn beside it, and linked from it
    for chart in CHARTS:
        assert (tmp_path / "docs" / "benchmarks" / chart).read_bytes().startswith(PNG)
        assert f"](docs/benchmarks/{chart})" in written
