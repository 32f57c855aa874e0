"""What a benchmark run measures: the functions, their events, the modes a cold start runs in,
and the sizes of every scenario (``Config``; ``Config.smoke`` for the test suite's tiny run)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CHILD = Path(__file__).with_name("child.py")
FLOOR = Path(__file__).with_name("floor_handler.py")
NAIVE = Path(__file__).with_name("naive_handler.py")
FUNCTIONS = ("bind", "unbind", "query", "jobs")
LOGICAL_IDS = {
    "bind": "BindFunction",
    "unbind": "UnbindFunction",
    "query": "QueryFunction",
    "jobs": "JobsFunction",
    "bulk": "BulkFunction",
    "verify": "VerifyFunction",
}
API_EVENTS = {
    "bind": "bind.json",
    "unbind": "unbind-token-list.json",
    "query": "query-account-list.json",
    "jobs": "jobs-bind.json",
}
BATCH_PATH = "/v3/device/account/batchoperate"
ITEMS_PER_CALL = 20
CHILD_TIMEOUT_S = 300
# What the Lambda runtime sets, so Powertools behaves as it does there (in particular, the naive
# baseline's Tracer is active and patches boto3 and requests, as with active tracing).
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "tpns-bench",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/tpns-bench",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/01/[$LATEST]0123456789abcdef0123456789abcdef",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    "_HANDLER": "app.lambda_handler",
    "TZ": ":UTC",
    "_X_AMZN_TRACE_ID": (
        "Root=1-65f00f22-9e1bd4b1f42f2a9ffc940ecd;Parent=53995c3f42cd8ad8;Sampled=1"
    ),
}
# Cold-start modes: how the process finds its code.
CACHED = "cached"  # the source tree, bytecode caches written by a discarded first run
SHIPPED = "shipped"  # the sam build artifact as Lambda has it (lambda_env.Layout)
NOPYC = "nopyc"  # the same without .pyc: what sam build shipped before lambda-build/Makefile
# "function" is LedgerMode=off; "ledger" the same artifact with the ledger on (the default).
COLD_CASES = (
    (SHIPPED, "function"),
    (SHIPPED, "floor"),
    (SHIPPED, "ledger"),
    (NOPYC, "function"),
    (NOPYC, "floor"),
    (CACHED, "function"),
    (CACHED, "floor"),
    (CACHED, "naive"),
)


class BenchError(RuntimeError):
    """A measured process failed: the numbers would be meaningless."""


@dataclass(frozen=True)
class Config:
    runs: int = 5
    bulk_runs: int = 3
    share_runs: int = 3
    functions: tuple[str, ...] = FUNCTIONS
    discard_first: bool = True
    # Memory sizes whose CPU share the cold start is measured at (as shipped), for these.
    share_sizes: tuple[int, ...] = (128, 256, 512, 1024)
    share_functions: tuple[str, ...] = ("bind",)
    import_runs: int = 3
    warm_warmup: int = 30
    warm_blocks: int = 5
    warm_block_size: int = 40
    bulk_messages: int = 10
    # 48 calls a message, 480 a batch: whole waves at 4, 8 and 16 in flight, so the batch's last
    # wave is full and the ideal rate is reachable by a client that adds nothing.
    bulk_items: int = 960
    latency_s: float = 0.05
    concurrencies: tuple[int, ...] = (4, 8, 16)
    unlimited_qps: float = 100_000.0
    qps_cap: float = 100.0
    qps_below: float = 80.0
    qps_above: float = 150.0
    throttle_concurrency: int = 16
    seq_calls: int = 40
    # Warm requests with the ledger on too (beside LedgerMode=off, same run).
    ledger_functions: tuple[str, ...] = ("bind",)
    # The verify function, after each ledger run: one message to warm up, then these many.
    verify_messages: int = 4
    # Messages per batch at the template's defaults (QPS-bound: 960 bindings take ~1 s), on a
    # full CPU and on a memory size's CPU share (where the ledger is CPU-bound: slow).
    defaults_messages: int = 5
    share_messages: int = 2
    # Memory sizes the default bulk path (LedgerMode on, a job's messages) runs at.
    bulk_share_sizes: tuple[int, ...] = (128, 512)
    bulk_shares: bool = True  # the template-defaults batches on the bulk memory's CPU share

    @classmethod
    def smoke(cls) -> Config:
        """Tiny sizes: proves the pipeline works in seconds; the figures mean nothing."""
        return cls(
            runs=1,
            bulk_runs=1,
            share_runs=1,
            functions=("bind", "jobs"),  # both kinds of bare call (TPNS, SQS)
            discard_first=False,
            share_sizes=(1024,),
            import_runs=1,
            warm_warmup=2,
            warm_blocks=1,
            warm_block_size=3,
            bulk_messages=2,
            bulk_items=40,
            latency_s=0.005,
            qps_cap=400.0,
            qps_below=300.0,
            qps_above=800.0,
            seq_calls=2,
            concurrencies=(2, 4),
            throttle_concurrency=4,
            ledger_functions=("bind",),
            verify_messages=1,
            defaults_messages=2,
            share_messages=1,
            bulk_shares=False,
        )
