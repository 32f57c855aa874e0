"""What jobs and the ledger cost at list prices: DynamoDB, SQS and Lambda per million bindings."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.lambda_env import share_of
from bench.ledger_calls import (
    ASSUMED_TPNS_MS,
    aws_estimate_ms,
    bulk_calls,
    defaults_scenario,
    messages_of,
    warm_calls,
)
from bench.results import Results

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
        calls = warm_calls(samples, items)
        cpu_ms = (
            statistics.median(s.handler_cpu_s for s in samples)
            * 1000
            / min(1.0, share_of(int(memory)))
        )
        extra = aws_estimate_ms(calls) if ledger else 0.0
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
        full = defaults_scenario(results, ledger=ledger, job=True)
        shared = defaults_scenario(results, ledger=ledger, job=ledger, memory_mb=memory)
        if full is None or not full.samples:
            continue
        calls = bulk_calls(full.samples, messages_of(full, results), config.bulk_items)
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
        calls = bulk_calls(results.verify, config.verify_messages, targets / config.verify_messages)
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
