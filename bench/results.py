"""The raw samples a run collects, scenario by scenario; ``bench.report`` summarises them."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.config import Config


@dataclass
class ColdSample:
    seconds: float  # spawn -> first answer
    startup_s: float  # spawn -> the interpreter runs child.py
    import_s: float  # importing the handler module
    rss_kb: int
    compiled: int  # modules compiled from source during the run


@dataclass
class WarmSample:
    handler_s: list[float]
    bare_s: list[float]
    handler_cpu_s: float
    bare_cpu_s: float
    bare_kind: str
    rss_kb: int
    # "service:Operation" -> calls, items, wru, rru, billed, seconds (child.AwsCalls)
    aws: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class BulkSample:
    seconds: float
    cpu_s: float
    calls: int
    throttled: int
    failed_messages: int
    rss_kb: int
    first_answer_s: float
    steady_cps: float
    aws: dict[str, dict[str, float]] = field(default_factory=dict)
    bindings: int = 0  # in the batch (targets, for the verify function)


@dataclass
class BulkScenario:
    name: str
    concurrency: int
    client_qps: float
    emulator_cap: float | None
    memory_mb: int | None = None  # run on that size's CPU share
    ledger: bool = False  # LedgerMode on (the default) rather than off
    job: bool = False  # the messages are a job's, as /v1/jobs queues them
    messages: int = 0  # in the batch (0: Config.bulk_messages)
    samples: list[BulkSample] = field(default_factory=list)

    @property
    def unlimited(self) -> bool:
        """A concurrency run with no QPS limit, on a full CPU."""
        return self.emulator_cap is None and self.memory_mb is None and not self.at_defaults

    @property
    def at_defaults(self) -> bool:
        """One of the jobs/ledger comparison runs (at the template's QPS and concurrency)."""
        return self.name.startswith(DEFAULTS)


DEFAULTS = "defaults"


# mode (or memory size, for CPU-share runs) -> function -> variant -> samples
ColdRuns = dict[str, dict[str, list[ColdSample]]]


@dataclass
class Results:
    config: Config
    settings: dict[str, float] = field(default_factory=dict)  # the template's defaults
    cold: dict[str, ColdRuns] = field(default_factory=dict)
    shares: dict[int, ColdRuns] = field(default_factory=dict)
    share_note: str | None = None  # why CPU shares could not be measured
    readonly_note: str = ""
    # variant ("floor", "bind", "bind without .pyc", ...) -> module -> self µs per run
    imports: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    warm: dict[str, list[WarmSample]] = field(default_factory=dict)
    warm_ledger: dict[str, list[WarmSample]] = field(default_factory=dict)  # LedgerMode on
    # The verify function on the verification messages of the ledger-on bulk runs.
    verify: list[BulkSample] = field(default_factory=list)
    verify_targets: int = 0  # per verify sample
    api_items: dict[str, int] = field(default_factory=dict)  # items in each API event
    item_bytes: dict[str, int] = field(default_factory=dict)  # largest item of each table
    bulk: list[BulkScenario] = field(default_factory=list)
    sequential_bps: list[float] = field(default_factory=list)
    noop_cps: dict[int, list[float]] = field(default_factory=dict)  # threads -> calls/s
    noop_zero_cps: list[float] = field(default_factory=list)
    bindings_per_batch: int = 0
    seconds: float = 0.0


def bulk_label(scenario: BulkScenario) -> str:
    size = f", {scenario.memory_mb} MB's CPU share" if scenario.memory_mb else ""
    return (
        f"{scenario.name} (concurrency {scenario.concurrency}, TPNS_MAX_QPS "
        f"{scenario.client_qps:g}{size})"
    )
