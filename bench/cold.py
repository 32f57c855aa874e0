"""Cold starts: each function and its baselines in fresh processes, in every mode (as shipped,
without .pyc, cached) and on Lambda-sized CPU shares; and ``python -X importtime`` of each, for
where the time goes."""

from __future__ import annotations

import os
from typing import Any

from bench.config import (
    API_EVENTS,
    CACHED,
    COLD_CASES,
    FLOOR,
    NAIVE,
    NOPYC,
    SHIPPED,
)
from bench.lambda_env import CpuShare, cpu_share_support
from bench.measure import Bench
from bench.results import ColdSample, Results
from bench.servers import ROOT


def _cold(
    bench: Bench,
    mode: str,
    variant: str,
    function: str,
    prefix: list[str] | None = None,
    mb: int = 0,
) -> ColdSample:
    event = ROOT / "events" / "api" / API_EVENTS[function]
    function_env = bench.function_env(function, ledger=variant == "ledger")
    if mode == CACHED:
        path = {"floor": FLOOR, "naive": NAIVE}.get(variant, bench.handler_file(function))
        spec = {"handler": str(path), "event": str(event)}
        started, result, _ = bench.child("cold", spec, function_env)
    else:
        name = "floor" if variant == "floor" else function
        memory = mb or int(bench.settings["api_memory_mb"])
        env, argv, cwd, handler = bench.deployed(mode, name, memory, prefix, env=function_env)
        started, result, _ = bench.child(
            "cold", {"handler": str(handler), "event": str(event)}, env, argv=argv, cwd=cwd
        )
    return ColdSample(
        seconds=result["done"] - started,
        startup_s=result["started"] - started,
        import_s=result["imported"] - result["started"],
        rss_kb=result["rss_kb"],
        compiled=len(result["compiled"]),
    )


def cold_start(bench: Bench, results: Results, progress: Any) -> None:
    """Per run, per function, every (mode, variant) in a rotating order; then CPU shares."""
    layout = bench.layout()
    results.readonly_note = layout.readonly_prefix()[1]
    total = bench.config.runs + (1 if bench.config.discard_first else 0)
    for run in range(total):
        for function in bench.config.functions:
            shift = run % len(COLD_CASES)
            for mode, variant in COLD_CASES[shift:] + COLD_CASES[:shift]:
                sample = _cold(bench, mode, variant, function)
                if bench.config.discard_first and run == 0:
                    continue  # the first spawn also writes bytecode caches, warms copies
                runs = results.cold.setdefault(mode, {}).setdefault(function, {})
                runs.setdefault(variant, []).append(sample)
        bench.keep_queues_small()
        progress(f"cold start run {run + 1}/{total}")
    results.share_note = cpu_share_support()
    if results.share_note is None:
        for mb in bench.config.share_sizes:
            share = CpuShare(mb, f"tpns-bench-{os.getpid()}-{mb}")
            try:
                for run in range(bench.config.share_runs):
                    for function in bench.config.share_functions:
                        variants = ("function", "floor") if run % 2 == 0 else ("floor", "function")
                        for variant in variants:
                            sample = _cold(bench, SHIPPED, variant, function, share.prefix(), mb)
                            runs = results.shares.setdefault(mb, {}).setdefault(function, {})
                            runs.setdefault(variant, []).append(sample)
            finally:
                share.close()
            progress(f"cold start at {mb} MB's CPU share")
    layout.check_untouched()


def imports(bench: Bench, results: Results, progress: Any) -> None:
    """``python -X importtime`` of each cold start as shipped (and bind's without .pyc)."""
    cases = [("floor", SHIPPED, "floor", "bind", False)]
    cases += [(f, SHIPPED, f, f, False) for f in bench.config.functions]
    if "bind" in bench.config.functions:
        cases.append(("bind, ledger on", SHIPPED, "bind", "bind", True))
        cases.append(("bind without .pyc", NOPYC, "bind", "bind", False))
    for _ in range(bench.config.import_runs):
        for label, variant, name, event_of, ledger in cases:
            memory = int(bench.settings["api_memory_mb"])
            env, argv, cwd, handler = bench.deployed(
                variant,
                name,
                memory,
                flags=("-X", "importtime"),
                env=bench.function_env(event_of, ledger=ledger),
            )
            event = ROOT / "events" / "api" / API_EVENTS[event_of]
            _, _, stderr = bench.child(
                "cold", {"handler": str(handler), "event": str(event)}, env, argv=argv, cwd=cwd
            )
            modules = results.imports.setdefault(label, {})
            for module, self_us in parse_importtime(stderr).items():
                modules.setdefault(module, []).append(self_us)
    progress("import times")


def parse_importtime(stderr: str) -> dict[str, float]:
    """``-X importtime`` lines -> module -> self time (µs); a module imported twice adds up."""
    modules: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        module = fields[2].strip()
        modules[module] = modules.get(module, 0.0) + float(fields[0])
    return modules
