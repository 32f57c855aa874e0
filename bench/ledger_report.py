"""The tables of what jobs and the ledger cost: warm latency, bulk throughput, the DynamoDB and
SQS requests of each path, and a cost table at list prices.

moto is not DynamoDB: it serves one DynamoDB request at a time (``local_stack.aws``), in
Python, on the same two cores as everything else. Every latency and throughput figure that
involves DynamoDB is therefore moto-bound and says so; request counts and request units are
not (they are what the code asks for, whoever answers).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from bench.lambda_env import share_of
from bench.measure import ITEMS_PER_CALL, BulkSample, BulkScenario, Results, WarmSample
from bench.report import Verdict, mark, pct
from bench.stats import Spread

LEDGER_WARM_MS = 3.0  # the ledger's added warm latency on the sync bind, in moto
JOBS_FRACTION = 0.90  # job bookkeeping costs the bulk path at most 10% of its throughput
LEDGER_FRACTION = 0.85  # the ledger keeps at least 85% of it

# List prices, us-east-1 (aws.amazon.com/dynamodb/pricing/on-demand, /sqs/pricing,
# /lambda/pricing; DynamoDB's since its 1 November 2024 on-demand cut, as listed through 2025;
# not re-checked from this offline machine).
PRICE_WRU = 0.625 / 1e6  # $ per on-demand write request unit
PRICE_RRU = 0.125 / 1e6  # $ per on-demand read request unit
PRICE_SQS = 0.40 / 1e6  # $ per standard-queue request (64 KB chunk), beyond the free 1M a month
PRICE_GBS = 0.0000133334  # $ per Lambda GB-second, arm64, first 7.5 billion GB-s a month
PRICE_INVOKE = 0.20 / 1e6  # $ per Lambda request
PRICES_NOTE = (
    "List prices, us-east-1: DynamoDB on-demand $0.625 per million write request units and "
    "$0.125 per million read request units (since DynamoDB's 1 November 2024 price cut); SQS "
    "standard queue $0.40 per million requests (64 KB chunks; the first million a month free); "
    "Lambda arm64 $0.0000133334 per GB-second (the first 7.5 billion a month) and $0.20 per "
    "million requests. Sources: aws.amazon.com/dynamodb/pricing/on-demand/, "
    "aws.amazon.com/sqs/pricing/, aws.amazon.com/lambda/pricing/, as listed in 2025; this "
    "machine is offline, so they were not re-checked on the day of the run."
)
# For the AWS estimate of the sync routes' latency (assumed, not measured: moto is not
# DynamoDB). DynamoDB promises single-digit milliseconds; a transaction runs two phases.
ASSUMED_WRITE_MS = 5.0  # a PutItem, BatchWriteItem or SendMessage from Lambda, same region
ASSUMED_TRANSACTION_MS = 10.0  # a TransactWriteItems
ASSUMED_TPNS_MS = 50.0  # TPNS's answer (the emulator's latency in the bulk runs)


# -- per-path AWS calls -------------------------------------------------------------------------


@dataclass(frozen=True)
class Calls:
    """AWS calls of one path, per unit (a request, a message), medians over the runs."""

    operations: dict[str, dict[str, float]]  # "service:Operation" -> per-unit figures
    units: int  # units per sample (requests, messages)
    items_per_unit: float  # bindings (or targets) per unit

    @classmethod
    def of(cls, samples: Iterable[dict[str, dict[str, float]]], units: int, items: float) -> Calls:
        runs = list(samples)
        names = sorted({name for run in runs for name in run})
        operations = {}
        for name in names:
            figures = [run.get(name, {}) for run in runs]
            operations[name] = {
                key: statistics.median(f.get(key, 0.0) for f in figures) / units
                for key in ("calls", "items", "wru", "rru", "billed", "seconds")
            }
        return cls(operations, units, items)

    def total(self, key: str, service: str = "") -> float:
        return sum(v[key] for k, v in self.operations.items() if k.startswith(service))

    def per_item(self, key: str, service: str = "") -> float:
        return self.total(key, service) / self.items_per_unit if self.items_per_unit else 0.0


def _warm_calls(samples: list[WarmSample], items: int) -> Calls:
    return Calls.of((s.aws for s in samples), len(samples[0].handler_s), items)


def _bulk_calls(samples: list[BulkSample], messages: int, items_per_message: float) -> Calls:
    return Calls.of((s.aws for s in samples), messages, items_per_message)


def _scenario(
    results: Results, *, ledger: bool, job: bool, memory_mb: int | None = None
) -> BulkScenario | None:
    """The defaults batch with that ledger mode and kind of message: on a full CPU, or (with
    ``memory_mb``) on that size's CPU share."""
    for scenario in results.bulk:
        if scenario.memory_mb != memory_mb or (memory_mb is None and not scenario.at_defaults):
            continue
        if (scenario.ledger, scenario.job) == (ledger, job):
            return scenario
    return None


def _messages(scenario: BulkScenario, results: Results) -> int:
    return scenario.messages or results.config.bulk_messages


def paths(results: Results) -> list[tuple[str, str, Calls]]:
    """(path, per what, its calls) for every path measured."""
    config = results.config
    found: list[tuple[str, str, Calls]] = []
    for function, what in (("bind", "POST /v1/bind"), ("unbind", "POST /v1/unbind")):
        samples = results.warm_ledger.get(function)
        if samples:
            items = results.api_items.get(function, 1)
            found.append(
                (f"{what}, LedgerMode on", f"request ({items} items)", _warm_calls(samples, items))
            )
    jobs = results.warm.get("jobs")
    if jobs:
        items = results.api_items.get("jobs", 1)
        found.append(("POST /v1/jobs", f"request ({items} items)", _warm_calls(jobs, items)))
    for ledger in (False, True):
        scenario = _scenario(results, ledger=ledger, job=True)
        if scenario is not None and scenario.samples:
            mode = "on" if ledger else "off"
            found.append(
                (
                    f"bulk: a job's message, LedgerMode {mode}",
                    f"message ({config.bulk_items:,} bindings)",
                    _bulk_calls(scenario.samples, _messages(scenario, results), config.bulk_items),
                )
            )
    if results.verify:
        per_message = results.verify_targets / config.verify_messages
        found.append(
            (
                "verify: a verification message",
                f"message ({per_message:,.0f} targets)",
                _bulk_calls(results.verify, config.verify_messages, per_message),
            )
        )
    return found


def requests_table(results: Results) -> list[str]:
    largest = ", ".join(f"{t} {b:,} bytes" for t, b in results.item_bytes.items())
    lines = [
        "### 5. DynamoDB and SQS requests per path",
        "",
        "Counted in the measured process with botocore's `before-call`/`after-call` hooks on "
        "every call the handler made (medians over the runs, per request or message). Request "
        "units as DynamoDB bills them: a write 1 unit per KB of item (2 in a transaction, "
        "condition checks included), a read 1 per 4 KB (half if eventually consistent). "
        f"Largest items the tables held at the end: {largest or '—'}"
        + (
            " — so every write is 1 unit (2 in a transaction)."
            if results.item_bytes and max(results.item_bytes.values()) <= 1024
            else "."
        )
        + " SQS bills a request per 64 KB of payload. *moto ms*: the call's duration against "
        "moto (moto-bound: DynamoDB answers in single-digit ms).",
        "",
        "| path | per | operation | calls | items | write units | read units | SQS requests"
        " | moto ms per call |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for path, per, calls in paths(results):
        for name, figures in calls.operations.items():
            per_call = figures["seconds"] / figures["calls"] * 1000 if figures["calls"] else 0.0
            sqs = f"{figures['billed']:.2f}" if name.startswith("sqs:") else "—"
            lines.append(
                f"| {path} | {per} | `{name.split(':')[1]}` | {figures['calls']:.2f}"
                f" | {figures['items']:.1f} | {figures['wru']:.1f} | {figures['rru']:.1f}"
                f" | {sqs} | {per_call:.1f} |"
            )
        lines.append(
            f"| {path} | binding | **all** | {calls.per_item('calls'):.3f}"
            f" | — | **{calls.per_item('wru'):.2f}** | **{calls.per_item('rru'):.2f}**"
            f" | {calls.per_item('billed', 'sqs'):.3f} | — |"
        )
    return lines


# -- warm: the ledger on the sync routes --------------------------------------------------------


def _median_us(samples: list[WarmSample]) -> list[float]:
    return [statistics.median(s.handler_s) * 1e6 for s in samples]


def _aws_estimate_ms(calls: Calls) -> float:
    """What the ledger's calls would add in AWS: its transactions one after another, then the
    writes after TPNS's answer, which run concurrently (the longest counts)."""
    transactions = calls.operations.get("dynamodb:TransactWriteItems", {}).get("calls", 0.0)
    after = [n for n in calls.operations if n != "dynamodb:TransactWriteItems"]
    return transactions * ASSUMED_TRANSACTION_MS + (ASSUMED_WRITE_MS if after else 0.0)


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
        calls = _warm_calls(on_samples, results.api_items.get(function, 1))
        in_calls = calls.total("seconds") * 1e6
        names = ", ".join(
            f"{v['calls']:.0f} `{k.split(':')[1]}`" for k, v in calls.operations.items()
        )
        ok = added.median <= LEDGER_WARM_MS * 1000
        estimate = _aws_estimate_ms(calls)
        lines.append(
            f"| {function} | {Spread.of(off).show('{:,.0f}')} | {Spread.of(on).show('{:,.0f}')}"
            f" | {added.show('{:+,.0f}')} | {in_calls:,.0f} | {names} | +{estimate:.0f} ms"
            f" | {mark(ok)} |"
        )
        if function == "bind":
            verdicts.append(
                Verdict(
                    f"sync bind: the ledger adds ≤ {LEDGER_WARM_MS:g} ms warm (moto)",
                    ok,
                    f"{added.median / 1000:+.1f} ms ({in_calls / 1000:.1f} ms of it in moto's "
                    f"calls: {names}); in AWS about +{estimate:.0f} ms (assumed latencies)",
                )
            )
    return lines


# -- bulk: jobs and the ledger ------------------------------------------------------------------


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
    off_plain = _scenario(results, ledger=False, job=False)
    off_job = _scenario(results, ledger=False, job=True)
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
            _scenario(results, ledger=True, job=True),
            off_job,
            "a job's messages, LedgerMode off",
            ("bulk with the ledger on ≥ 85% of LedgerMode off", LEDGER_FRACTION),
        ),
    ]
    shares = sorted({s.memory_mb for s in results.bulk if s.memory_mb is not None})
    for mb in shares:
        comparisons.append(
            (_scenario(results, ledger=False, job=False, memory_mb=mb), None, "", None)
        )
    for mb in shares:
        plain = _scenario(results, ledger=False, job=False, memory_mb=shares[0])
        comparisons.append(
            (
                _scenario(results, ledger=True, job=True, memory_mb=mb),
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


# -- cost ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathCost:
    name: str
    wru: float  # per binding
    rru: float
    sqs: float
    gbs: float
    invocations: float
    how: str  # how the GB-s were found

    def dollars(self) -> tuple[float, float, float]:
        """(DynamoDB, SQS, Lambda) $ per million bindings."""
        return (
            1e6 * (self.wru * PRICE_WRU + self.rru * PRICE_RRU),
            1e6 * self.sqs * PRICE_SQS,
            1e6 * (self.gbs * PRICE_GBS + self.invocations * PRICE_INVOKE),
        )


def _sync_costs(results: Results) -> list[PathCost]:
    """The sync bind, off and on: GB-s from TPNS's latency, the warm CPU on the API size's CPU
    share and (on) the ledger's calls at assumed DynamoDB latencies."""
    memory = results.settings.get("api_memory_mb", 512.0)
    costs = []
    off = results.warm.get("bind")
    on = results.warm_ledger.get("bind")
    items = results.api_items.get("bind", 1)
    for name, samples, ledger in (
        ("sync bind, LedgerMode off", off, False),
        ("sync bind, LedgerMode on", on, True),
    ):
        if not samples:
            continue
        calls = _warm_calls(samples, items)
        cpu_ms = (
            statistics.median(s.handler_cpu_s for s in samples)
            * 1000
            / min(1.0, share_of(int(memory)))
        )
        extra = _aws_estimate_ms(calls) if ledger else 0.0
        duration_ms = ASSUMED_TPNS_MS + cpu_ms + extra
        costs.append(
            PathCost(
                name,
                calls.per_item("wru"),
                calls.per_item("rru"),
                calls.per_item("billed", "sqs"),
                memory / 1024 * duration_ms / 1000 / items,
                1 / items,
                f"{duration_ms:.0f} ms a request at {memory:g} MB (estimated: TPNS "
                f"{ASSUMED_TPNS_MS:g} ms + CPU {cpu_ms:.1f} ms on the share"
                + (f" + ledger {extra:.0f} ms" if ledger else "")
                + f"), {items} bindings a request",
            )
        )
    return costs


def _bulk_costs(results: Results) -> list[PathCost]:
    """Bulk (request units counted on a full CPU; GB-s from the batch on the bulk memory size's
    CPU share, or a full CPU if not measured) and the verify function."""
    config = results.config
    memory = int(results.settings.get("bulk_memory_mb", 128.0))
    costs = []
    for ledger in (False, True):
        full = _scenario(results, ledger=ledger, job=True)
        shared = _scenario(results, ledger=ledger, job=ledger, memory_mb=memory)
        if full is None or not full.samples:
            continue
        calls = _bulk_calls(full.samples, _messages(full, results), config.bulk_items)
        timed = shared if shared is not None and shared.samples else full
        rate = statistics.median(s.bindings / s.seconds for s in timed.samples)
        where = f"{memory} MB's CPU share" if timed is shared else "a full CPU"
        costs.append(
            PathCost(
                f"bulk, a job's messages, LedgerMode {'on' if ledger else 'off'}",
                calls.per_item("wru"),
                calls.per_item("rru"),
                calls.per_item("billed", "sqs"),
                memory / 1024 / rate,
                1 / timed.samples[0].bindings,
                f"measured: {rate:,.0f} bindings/s on {where} ({memory} MB)",
            )
        )
    if results.verify:
        targets = results.verify_targets
        calls = _bulk_calls(
            results.verify, config.verify_messages, targets / config.verify_messages
        )
        rate = statistics.median(s.bindings / s.seconds for s in results.verify)
        verify_mb = results.settings.get("verify_memory_mb", memory)
        costs.append(
            PathCost(
                "verify (LedgerMode on), per binding verified once",
                calls.per_item("wru"),
                calls.per_item("rru"),
                calls.per_item("billed", "sqs"),
                verify_mb / 1024 / rate,
                1 / targets,
                f"measured: {rate:,.0f} targets/s on a full CPU, billed at {verify_mb:g} MB "
                "(moto-bound: its ledger reads)",
            )
        )
    return costs


def cost_table(results: Results) -> list[str]:
    costs = _sync_costs(results) + _bulk_costs(results)
    if not costs:
        return []
    lines = [
        "### Cost: DynamoDB, SQS and Lambda per million bindings",
        "",
        PRICES_NOTE
        + " Request units and SQS requests are counted (section 5); Lambda GB-s as each row "
        "says. With the ledger on, a binding costs its bulk (or sync) write *and* one "
        "verification (more if TPNS lost it: re-pushed, checked again). SQS requests count the "
        "functions' sends; the event source mappings' receives and deletes add about 0.2 per "
        "message received (batches of 10) and their polling a fixed monthly amount.",
        "",
        "| path | write units | read units | SQS requests | Lambda GB-s | DynamoDB $ | SQS $"
        " | Lambda $ | total $ | Lambda duration from |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cost in costs:
        dynamo, sqs, lam = cost.dollars()
        lines.append(
            f"| {cost.name} | {cost.wru * 1e6:,.0f} | {cost.rru * 1e6:,.0f}"
            f" | {cost.sqs * 1e6:,.0f} | {cost.gbs * 1e6:,.0f} | {dynamo:,.2f} | {sqs:,.2f}"
            f" | {lam:,.2f} | **{dynamo + sqs + lam:,.2f}** | {cost.how} |"
        )
    by_name = {c.name: c for c in costs}
    on = [
        c
        for n, c in by_name.items()
        if n.startswith(("bulk, a job's messages, LedgerMode on", "verify"))
    ]
    if len(on) == 2:
        total = sum(sum(c.dollars()) for c in on)
        off = by_name.get("bulk, a job's messages, LedgerMode off")
        lines += [
            "",
            f"A million bindings through `/v1/jobs` with the ledger on (the default), bulk and "
            f"verification: **${total:,.2f}**"
            + (f", against ${sum(off.dollars()):,.2f} with `LedgerMode=off`." if off else "."),
        ]
    return lines
