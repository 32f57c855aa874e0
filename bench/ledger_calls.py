"""The AWS calls of each path (counted in the measured process), per request or message, and the
table of DynamoDB and SQS requests per path.

moto is not DynamoDB: it serves one DynamoDB request at a time (``local_stack.aws``), in
Python; request counts and request units are what the code asks for, whoever answers, so they
hold; latencies in AWS are estimated here from assumed DynamoDB latencies, not measured.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from bench.results import BulkSample, BulkScenario, Results, WarmSample

# For the AWS estimate of the sync routes' latency (assumed, not measured: moto is not
# DynamoDB). DynamoDB promises single-digit milliseconds; a transaction runs two phases.
ASSUMED_WRITE_MS = 5.0  # a PutItem, BatchWriteItem or SendMessage from Lambda, same region
ASSUMED_TRANSACTION_MS = 10.0  # a TransactWriteItems
ASSUMED_TPNS_MS = 50.0  # TPNS's answer (the emulator's latency in the bulk runs)


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


def warm_calls(samples: list[WarmSample], items: int) -> Calls:
    return Calls.of((s.aws for s in samples), len(samples[0].handler_s), items)


def bulk_calls(samples: list[BulkSample], messages: int, items_per_message: float) -> Calls:
    return Calls.of((s.aws for s in samples), messages, items_per_message)


def defaults_scenario(
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


def messages_of(scenario: BulkScenario, results: Results) -> int:
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
                (f"{what}, LedgerMode on", f"request ({items} items)", warm_calls(samples, items))
            )
    jobs = results.warm.get("jobs")
    if jobs:
        items = results.api_items.get("jobs", 1)
        found.append(("POST /v1/jobs", f"request ({items} items)", warm_calls(jobs, items)))
    for ledger in (False, True):
        scenario = defaults_scenario(results, ledger=ledger, job=True)
        if scenario is not None and scenario.samples:
            mode = "on" if ledger else "off"
            found.append(
                (
                    f"bulk: a job's message, LedgerMode {mode}",
                    f"message ({config.bulk_items:,} bindings)",
                    bulk_calls(scenario.samples, messages_of(scenario, results), config.bulk_items),
                )
            )
    if results.verify:
        per_message = results.verify_targets / config.verify_messages
        found.append(
            (
                "verify: a verification message",
                f"message ({per_message:,.0f} targets)",
                bulk_calls(results.verify, config.verify_messages, per_message),
            )
        )
    return found


def aws_estimate_ms(calls: Calls) -> float:
    """What the ledger's calls would add in AWS: its transactions one after another, then the
    writes after TPNS's answer, which run concurrently (the longest counts)."""
    transactions = calls.operations.get("dynamodb:TransactWriteItems", {}).get("calls", 0.0)
    after = [n for n in calls.operations if n != "dynamodb:TransactWriteItems"]
    return transactions * ASSUMED_TRANSACTION_MS + (ASSUMED_WRITE_MS if after else 0.0)


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
