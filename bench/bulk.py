"""Bulk throughput: SQS batches through the bulk function in fresh processes, per scenario
(concurrency, QPS caps, the template's defaults with jobs and the ledger, CPU shares), and the
verify function on the verification messages a ledger run leaves."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from bench.config import CHILD, BenchError
from bench.emulator_alone import sequential
from bench.events import queue_event, sqs_event
from bench.lambda_env import CpuShare, cpu_share_support
from bench.measure import Bench
from bench.results import DEFAULTS, BulkSample, BulkScenario, Results, bulk_label


def _bulk_scenarios(bench: Bench) -> list[BulkScenario]:
    config = bench.config
    scenarios = [
        BulkScenario("QPS unlimited", c, config.unlimited_qps, None) for c in config.concurrencies
    ]
    scenarios += [
        BulkScenario(
            f"QPS {config.qps_below:g} < emulator cap {config.qps_cap:g}",
            config.throttle_concurrency,
            config.qps_below,
            config.qps_cap,
        ),
        BulkScenario(
            f"QPS {config.qps_above:g} > emulator cap {config.qps_cap:g}",
            config.throttle_concurrency,
            config.qps_above,
            config.qps_cap,
        ),
    ]
    concurrency, qps = int(bench.settings["concurrency"]), bench.settings["qps"]
    for ledger, job, what in (
        (False, False, "LedgerMode off, plain messages"),
        (False, True, "LedgerMode off, a job's messages"),
        (True, True, "LedgerMode on, a job's messages"),
    ):
        scenarios.append(
            BulkScenario(
                f"{DEFAULTS}: {what}",
                concurrency,
                qps,
                None,
                ledger=ledger,
                job=job,
                messages=config.defaults_messages,
            )
        )
    if config.bulk_shares and cpu_share_support() is None:
        scenarios.append(
            BulkScenario(
                "template defaults, LedgerMode off",
                concurrency,
                qps,
                None,
                int(bench.settings["bulk_memory_mb"]),
                messages=config.share_messages,
            )
        )
        scenarios += [
            BulkScenario(
                "template defaults",
                concurrency,
                qps,
                None,
                mb,
                ledger=True,
                job=True,
                messages=config.share_messages,
            )
            for mb in config.bulk_share_sizes
        ]
    return scenarios


def bulk(bench: Bench, results: Results, progress: Any) -> None:
    config = bench.config
    results.bindings_per_batch = config.bulk_messages * config.bulk_items
    results.bulk = _bulk_scenarios(bench)
    for run in range(config.bulk_runs):
        bench.emulator.configure(latency_s=config.latency_s)
        results.sequential_bps.append(sequential(bench, config.seq_calls))
        for number, scenario in enumerate(results.bulk):
            bench.emulator.configure(latency_s=config.latency_s, qps_cap=scenario.emulator_cap)
            scenario.samples.append(_bulk_batch(bench, scenario, f"{run}-{number}"))
            if scenario.ledger and scenario.memory_mb is None:
                # The verification of what it just sent, while the emulator still holds it.
                results.verify.append(_verify(bench, results, f"{run}-{number}"))
            bench.stack.purge("VerifyQueue", "BulkDeadLetterQueue")
            progress(f"bulk run {run + 1}/{config.bulk_runs}: {bulk_label(scenario)}")
    bench.emulator.configure()
    results.item_bytes = bench.stack.largest_items("JobsTable", "LedgerTable")


def _bulk_batch(bench: Bench, scenario: BulkScenario, tag: str) -> BulkSample:
    """One batch through the bulk function, in a fresh process (after a warm-up batch)."""
    config = bench.config
    messages = scenario.messages or config.bulk_messages
    job_id = _new_job(bench, scenario, tag, messages) if scenario.job else None
    prefix = "-ledger" if scenario.ledger else ""
    event = sqs_event(messages, config.bulk_items, tag, job_id, prefix)
    event_file = bench.scratch / f"bulk-event-{tag}.json"
    event_file.write_text(json.dumps(event))
    warmup_file = bench.scratch / f"bulk-warmup-{tag}.json"
    warmup_file.write_text(json.dumps(sqs_event(1, 1, f"warmup-{tag}", prefix="-warmup")))
    env = {
        **bench.function_env("bulk", ledger=scenario.ledger),
        "TPNS_MAX_CONCURRENCY": str(scenario.concurrency),
        "TPNS_MAX_QPS": f"{scenario.client_qps:g}",
    }
    spec = {
        "handler": str(bench.handler_file("bulk")),
        "event": str(event_file),
        "warmup_event": str(warmup_file),
        "timeout_ms": int(bench.template.default("BulkFunctionTimeout") * 1000),
        "emulator": bench.emulator.url,
    }
    if scenario.memory_mb is None:
        _, result, _ = bench.child("bulk", spec, env)
    else:
        share = CpuShare(scenario.memory_mb, f"tpns-bench-{os.getpid()}-bulk")
        try:
            argv = [*share.prefix(), sys.executable, str(CHILD)]
            _, result, _ = bench.child("bulk", spec, env, argv=argv)
        finally:
            share.close()
    return BulkSample(**result, bindings=messages * config.bulk_items)


def _new_job(bench: Bench, scenario: BulkScenario, tag: str, messages: int) -> str:
    """The job record ``/v1/jobs`` writes before queueing its messages."""
    from tpns_api.jobs.store import JobStore, NewJob
    from tpns_api.store.dynamo import Table

    config = bench.config
    job_id = f"bench-job-{tag}"
    table = Table(bench.moto.client("dynamodb"), bench.stack.ref("JobsTable"))
    retention = int(bench.stack.parameter("JobRetentionDays"))
    items = messages * config.bulk_items
    job = NewJob(job_id, "bind", 2, None, "api", items, messages, scenario.ledger)
    if not JobStore(table, retention).create(job):
        raise BenchError(f"job {job_id} exists already")
    return job_id


def _verify(bench: Bench, results: Results, tag: str) -> BulkSample:
    """The verify function on the verification messages the batch left: the first warms
    it up, the next ``verify_messages`` are measured; at the template's settings."""
    wanted = 1 + bench.config.verify_messages
    messages = bench.stack.drain("VerifyQueue", wanted)
    if len(messages) < wanted:
        raise BenchError(f"expected {wanted} verification messages, found {len(messages)}")
    measured = messages[1:]
    results.verify_targets = sum(len(json.loads(m["Body"])["verify"]["targets"]) for m in measured)
    files = []
    for name, batch in (("warmup", messages[:1]), ("event", measured)):
        path = bench.scratch / f"verify-{name}-{tag}.json"
        path.write_text(json.dumps(queue_event(batch)))
        files.append(path)
    spec = {
        "handler": str(bench.handler_file("verify")),
        "warmup_event": str(files[0]),
        "event": str(files[1]),
        "timeout_ms": int(bench.template.default("VerifyFunctionTimeout") * 1000),
        "emulator": bench.emulator.url,
    }
    _, result, _ = bench.child("bulk", spec, bench.function_env("verify", ledger=True))
    return BulkSample(**result, bindings=results.verify_targets)
