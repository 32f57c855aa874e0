"""What jobs and the ledger cost in time: warm latency on the sync routes and throughput on the
bulk path (the requests per path: ``bench.ledger_calls``; at list prices: ``bench.ledger_cost``).

moto is not DynamoDB: it serves one DynamoDB request at a time (``local_stack.aws``), in
Python, on the same two cores as everything else. Every latency and throughput figure that
involves DynamoDB is therefore moto-bound and says so; request counts and request units are
not (they are what the code asks for, whoever answers).
"""

from __future__ import annotations

import statistics

from bench.cells import Verdict, judge, mark, pct, table_row
from bench.config import ITEMS_PER_CALL
from bench.lambda_env import share_of
from bench.ledger_calls import (
    ASSUMED_TRANSACTION_MS,
    ASSUMED_WRITE_MS,
    aws_estimate_ms,
    defaults_scenario,
    warm_calls,
)
from bench.results import BulkScenario, Results, WarmSample
from bench.stats import Spread

LEDGER_WARM_MS = 3.0  # the ledger's added warm latency on the sync bind, in moto
JOBS_FRACTION = 0.90  # job bookkeeping costs the bulk path at most 10% of its throughput
LEDGER_FRACTION = 0.85  # the ledger keeps at least 85% of it


def _median_us(samples: list[WarmSample]) -> list[float]:
    return [statistics.median(s.handler_s) * 1e6 for s in samples]


def ledger_warm_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    lines = [
        "#### The ledger on the sync routes: warm requests, LedgerMode on beside off (µs)",
        "",
        "Same run, same event (each request stamped anew, so each is the newest and written "
        "blind), back to back. *Added by the ledger* is on − off, per run. It is moto-bound: "
        "moto serves DynamoDB in Python, one request at a time. *In AWS, estimated*: the "
        f"ledger's calls at assumed DynamoDB latencies ({ASSUMED_TRANSACTION_MS:g} ms a "
        f"transaction, {ASSUMED_WRITE_MS:g} ms a write or SendMessage; the writes after TPNS's "
        "answer run concurrently), not measured.",
        "",
        "| function | LedgerMode off | on | added by the ledger | of which in AWS calls (moto)"
        " | AWS calls per request | in AWS, estimated | target ≤3 ms added (moto) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for function, on_samples in results.warm_ledger.items():
        off_samples = results.warm.get(function)
        if not off_samples:
            continue
        on, off = _median_us(on_samples), _median_us(off_samples)
        added = Spread.of(n - o for n, o in zip(on, off, strict=False))
        calls = warm_calls(on_samples, results.api_items.get(function, 1))
        in_calls = calls.total("seconds") * 1e6
        names = ", ".join(
            f"{v['calls']:.0f} `{k.split(':')[1]}`" for k, v in calls.operations.items()
        )
        ok = added.median <= LEDGER_WARM_MS * 1000
        estimate = aws_estimate_ms(calls)
        figures = [Spread.of(off).show("{:,.0f}"), Spread.of(on).show("{:,.0f}")]
        figures += [added.show("{:+,.0f}"), f"{in_calls:,.0f}", names, f"+{estimate:.0f} ms"]
        target = f"sync bind: the ledger adds ≤ {LEDGER_WARM_MS:g} ms warm (moto)"
        detail = (
            f"{added.median / 1000:+.1f} ms ({in_calls / 1000:.1f} ms of it in moto's "
            f"calls: {names}); in AWS about +{estimate:.0f} ms (assumed latencies)"
        )
        cell = judge(verdicts, target, ok, detail) if function == "bind" else mark(ok)
        lines.append(table_row([function, *figures, cell]))
    return lines


def _rates(scenario: BulkScenario) -> list[float]:
    return [s.bindings / s.seconds for s in scenario.samples]


def _cpu_us(scenario: BulkScenario) -> float:
    return statistics.median(s.cpu_s / s.bindings for s in scenario.samples) * 1e6


def ledger_bulk_table(results: Results, verdicts: list[Verdict]) -> list[str]:
    qps = results.settings.get("qps", 0.0)
    ideal = qps * ITEMS_PER_CALL
    lines = [
        "#### Jobs and the ledger on the bulk path, at the template's defaults",
        "",
        f"The batch of section 3 at `TPNS_MAX_CONCURRENCY` "
        f"{results.settings.get('concurrency', 0):g} and `TPNS_MAX_QPS` {qps:g} (so at most "
        f"{ideal:,.0f} bindings/s), as plain messages (another producer's: no job) and as a "
        "job's (`job_id`, `part`, `offset`, `issued_at`, as `/v1/jobs` writes them, after the "
        "job's record), with `LedgerMode` off and on; ratios per run against the same run's "
        "baseline. With the ledger on, the DynamoDB work is moto-bound (one request at a time, "
        "in Python).",
        "",
        "| scenario | bindings/s | of the QPS-bound rate | CPU µs per binding | against"
        " | ratio | target |",
        "|---|---|---|---|---|---|---|",
    ]
    off_plain = defaults_scenario(results, ledger=False, job=False)
    off_job = defaults_scenario(results, ledger=False, job=True)
    comparisons: list[
        tuple[BulkScenario | None, BulkScenario | None, str, tuple[str, float] | None]
    ] = [
        (off_plain, None, "", None),
        (
            off_job,
            off_plain,
            "plain messages, LedgerMode off",
            ("job bookkeeping costs ≤ 10% of bulk throughput", JOBS_FRACTION),
        ),
        (
            defaults_scenario(results, ledger=True, job=True),
            off_job,
            "a job's messages, LedgerMode off",
            ("bulk with the ledger on ≥ 85% of LedgerMode off", LEDGER_FRACTION),
        ),
    ]
    shares = sorted({s.memory_mb for s in results.bulk if s.memory_mb is not None})
    for mb in shares:
        comparisons.append(
            (defaults_scenario(results, ledger=False, job=False, memory_mb=mb), None, "", None)
        )
    for mb in shares:
        plain = defaults_scenario(results, ledger=False, job=False, memory_mb=shares[0])
        comparisons.append(
            (
                defaults_scenario(results, ledger=True, job=True, memory_mb=mb),
                plain,
                f"LedgerMode off, plain messages, {shares[0]} MB",
                None,
            )
        )
    for scenario, baseline, against, target in comparisons:
        if scenario is None or not scenario.samples:
            continue
        rates = _rates(scenario)
        cells = ["—", "—", "—"]
        if baseline is not None and baseline.samples:
            ratio = Spread.of(r / b for r, b in zip(rates, _rates(baseline), strict=False))
            ok = target is None or ratio.median >= target[1]
            cells = [against, pct(ratio), mark(ok) if target else "(how it is deployed)"]
            if target is not None:
                verdicts.append(Verdict(target[0], ok, f"{ratio.median:.0%} ({against} = 100%)"))
        size = (
            f" ({scenario.memory_mb} MB's CPU share, {share_of(scenario.memory_mb):.1%})"
            if scenario.memory_mb
            else ""
        )
        lines.append(
            f"| {scenario.name}{size} | {Spread.of(rates).show('{:,.0f}')}"
            f" | {pct(Spread.of(r / ideal for r in rates))} | {_cpu_us(scenario):.0f}"
            f" | {' | '.join(cells)} |"
        )
    return lines
