"""The ledger of a deployed function, from its environment (``LEDGER_TABLE`` unset: off)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from tpns_account import BatchOperation, SettingsError
from tpns_account.limits import MAX_ITEMS_PER_CALL
from tpns_account.values import Value

if TYPE_CHECKING:
    # Imported where used: with LedgerMode off, a function never loads the ledger's modules.
    from tpns_api.jobs.store import JobStore
    from tpns_api.ledger.export import Exporter
    from tpns_api.ledger.plan import Plan, Target
    from tpns_api.ledger.store import LedgerStore
    from tpns_api.ledger.verify import VerifyScheduler
    from tpns_api.sending import Sent

LEDGER_TABLE = "LEDGER_TABLE"
DEFAULT_VERIFY_DELAY_S = 30
DEFAULT_VERIFY_ATTEMPTS = 3
# Items recorded at a time by ``Ledger.plans``, ten calls' worth: a large message's first calls
# go out once its first slice is recorded, not its last item.
RECORD_SLICE = 10 * MAX_ITEMS_PER_CALL


class Ledger(Value, frozen=False):
    """The ledger and what writes to it: record, plan, and schedule verification."""

    store: LedgerStore
    scheduler: VerifyScheduler

    def plan(self, app_key: str, operation: BatchOperation, issued_at_ms: int, op_id: str) -> Plan:
        """Record the operation; what to send for it (``tpns_api.ledger.planner``)."""
        from tpns_api.ledger.cells import version
        from tpns_api.ledger.planner import Planner

        return Planner(self.store).plan(app_key, operation, version(issued_at_ms, op_id), op_id)

    def plans(
        self,
        app_key: str,
        operation: BatchOperation,
        issued_at_ms: int,
        op_id: str,
        *,
        turn: AbstractContextManager[object] | None = None,
    ) -> Iterator[Plan]:
        """``plan`` a slice of ``RECORD_SLICE`` items at a time, as ``send`` asks for them
        (after the calls of the slice before), each within ``turn``: the bulk function records
        one message's slice at a time, as recording is DynamoDB-bound, while the other
        messages' calls of what they recorded go out."""
        for start in range(0, len(operation.items), RECORD_SLICE):
            part = operation.with_items(operation.items[start : start + RECORD_SLICE])
            with turn or nullcontext():
                plan = self.plan(app_key, part, issued_at_ms, op_id)
            yield plan.shifted(start)

    def after(
        self,
        app_key: str,
        app: str | None,
        op_id: str,
        sent: Sent,
        *,
        job_id: str | None = None,
        targets: Sequence[Target] | None = None,
    ) -> None:
        """TPNS answered: record who it refused, and have the rest verified later (both at
        once: the caller is waiting).

        ``targets`` (default: the accepted items') are what verification checks, indexed as
        the job counts items when there is a job.
        """
        from tpns_api.store.dynamo import fan_out

        chosen = sent.verifiable if targets is None else targets
        writes: list[Callable[[], None]] = [
            lambda: self.store.record_sent(
                app_key, op_id, sent.refused_tokens(), sent.unanswered_tokens()
            ),
            lambda: self.scheduler.schedule(op_id, app, chosen, job_id=job_id),
        ]
        fan_out(_call, writes)


def _call(write: Callable[[], None]) -> None:
    write()


def ledger_on() -> bool:
    """Whether the template gave this function a ledger (``LedgerMode`` on)."""
    return bool(os.environ.get(LEDGER_TABLE, "").strip())


def ledger_from_env() -> Ledger | None:
    """The ledger the template configured, or None when ``LedgerMode`` is off."""
    if not ledger_on():
        return None
    table_name = os.environ[LEDGER_TABLE].strip()
    from tpns_account import aws
    from tpns_api.ledger.store import LedgerStore
    from tpns_api.ledger.verify import VerifyScheduler
    from tpns_api.queue.sqs import MessageSender
    from tpns_api.store.dynamo import Table, dynamodb_client

    queue_url = os.environ.get("VERIFY_QUEUE_URL", "").strip()
    if not queue_url:
        raise SettingsError("VERIFY_QUEUE_URL is required when LEDGER_TABLE is set")
    scheduler = VerifyScheduler(
        MessageSender(aws.client("sqs"), queue_url),
        _int("VERIFY_DELAY_S", DEFAULT_VERIFY_DELAY_S, 0, 900),
        _int("VERIFY_ATTEMPTS", DEFAULT_VERIFY_ATTEMPTS, 1, 20),
    )
    return Ledger(LedgerStore(Table(dynamodb_client(), table_name)), scheduler)


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SettingsError(f"{name} must be an integer from {low} to {high}, got {raw!r}")
    return int(raw)


def exporter_from_env(ledger: Ledger | None, jobs: JobStore | None) -> Exporter | None:
    """The bulk function's exporter: the ledger, the jobs, ``EXPORT_BUCKET`` for the objects
    and ``BULK_QUEUE_URL`` for the next pages (None where any is missing)."""
    bucket = os.environ.get("EXPORT_BUCKET", "").strip()
    queue_url = os.environ.get("BULK_QUEUE_URL", "").strip()
    if ledger is None or jobs is None or not bucket or not queue_url:
        return None
    from tpns_account import aws
    from tpns_api.ledger.export import Exporter
    from tpns_api.queue.sqs import MessageSender

    sender = MessageSender(aws.client("sqs"), queue_url)
    return Exporter(ledger.store, jobs, aws.client("s3"), bucket, sender)
