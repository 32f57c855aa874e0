"""Jobs in DynamoDB: each message's outcome counted exactly once, whatever SQS redelivers.

A job is one item (``pk`` ``JOB#<id>``, ``sk`` ``META``) with its totals and counters, and one
item per failed item (``sk`` ``F#<index>``), listed in pages. What is counted once has a marker
item of its own in the job's partition: a settled message part (``P#<part>``), an item whose
verification outcome is counted (``I#<index>``). One transaction puts the marker, on condition
it is not there yet, and adds the counts to the job: a redelivered message, or one that finishes
what an earlier attempt started, can never count twice, and the job's item keeps its size
however many parts it has (markers are not kept on it: an item holds 400 KB at most). Whoever
settles reads the job after, so whoever settles the last part finishes it (``finished_at``,
final state, expiry), once.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from tpns_account.values import Value
from tpns_api.errors import BundleError
from tpns_api.jobs.model import COUNTS, Counts, Failure, Job, Source
from tpns_api.store.dynamo import (
    MAX_TRANSACTION,
    ConditionFailedError,
    Item,
    Key,
    Table,
    to_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

logger = logging.getLogger(__name__)

DAY_S: Final = 86_400
DEFAULT_RETENTION_DAYS: Final = 30  # the template's JobRetentionDays
#: SQS keeps a message 14 days at most: no message of a job arrives later than this after it
#: was made, so a job still unfinished then never will be. Its records expire by then too.
MAX_JOB_LIFE_S: Final = 14 * DAY_S
META: Final = "META"


class JobNotFoundError(BundleError):
    """No job has this id (or it expired)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job {job_id!r} (unknown, or expired after its retention)")
        self.job_id = job_id


class BadCursorError(BundleError):
    """A page cursor that this API did not hand out."""


def job_key(job_id: str) -> Key:
    return {"pk": f"JOB#{job_id}", "sk": META}


def failure_key(job_id: str, index: int) -> Key:
    return {"pk": f"JOB#{job_id}", "sk": f"F#{index:010d}"}


def part_key(job_id: str, part: str) -> Key:
    """The marker of a settled message part."""
    return {"pk": f"JOB#{job_id}", "sk": f"P#{part}"}


def verification_key(job_id: str, index: int) -> Key:
    """The marker of an item whose verification outcome is counted."""
    return {"pk": f"JOB#{job_id}", "sk": f"I#{index:010d}"}


class Mark(Value):
    """Something counted once: its marker, what it adds to the job, what is written with it."""

    key: Key
    counts: Counts
    done: int = 0
    with_it: tuple[Item, ...] = ()

    @property
    def writes(self) -> int:
        """Its writes in a transaction: the marker first, then what goes with it."""
        return 1 + len(self.with_it)


class NewJob(Value):
    job_id: str
    operation: str
    operator_type: int | None
    app: str | None
    source: Source
    items_total: int | None
    messages_total: int | None
    verifying: bool


class JobStore(Value, frozen=False):
    table: Table
    retention_days: int = DEFAULT_RETENTION_DAYS
    clock: Callable[[], float] = time.time

    def create(self, job: NewJob) -> bool:
        """Record a new job (queued); False (and nothing changed) if one has this id."""
        now = self.now()
        item: Item = {
            **job_key(job.job_id),
            "job_id": job.job_id,
            "operation": job.operation,
            "operator_type": job.operator_type,
            "source": job.source,
            "created_at": now,
            "updated_at": now,
            "verifying": job.verifying,
            "expires_at": self._unfinished_expiry(now),
            **{name: 0 for name in COUNTS},
        }
        optional = {
            "app": job.app,
            "items_total": job.items_total,
            "messages_total": job.messages_total,
        }
        item.update({k: v for k, v in optional.items() if v is not None})
        try:
            self.table.put(item, condition="attribute_not_exists(pk)")
        except ConditionFailedError:
            logger.info("job %s exists already; left as it is", job.job_id)
            return False
        return True

    def start(self, job_id: str) -> None:
        """A message of the job is being processed: it is running."""
        try:
            self.table.update(
                job_key(job_id),
                "SET started = :yes, updated_at = :now",
                values={":yes": True, ":now": self.now()},
                condition="attribute_exists(pk) AND attribute_not_exists(started)",
            )
        except ConditionFailedError:
            return

    def settle(
        self, job_id: str, part: str, counts: Counts, failures: Sequence[Failure] = ()
    ) -> Job | None:
        """Count one message's final outcome, once; the job after it (None: already counted,
        or not a job of this table)."""
        self._record_failures(job_id, failures)
        return self._settle(job_id, [Mark(part_key(job_id, part), counts, done=1)])

    def settle_verification(
        self, job_id: str, verified: Sequence[int], unverified: Sequence[Failure]
    ) -> Job | None:
        """Count each item's verification outcome once, per item (``I#<index>``), whichever
        message or attempt reports it first; an unverified item's failure is written with its
        marker, so the failures list what the counts say. The job after it (None: every item
        was counted already, or not a job of this table)."""
        expires_at = self._unfinished_expiry(self.now())
        marks = {i: Mark(verification_key(job_id, i), Counts(verified=1)) for i in verified}
        for f in unverified:
            failure = self._failure_item(job_id, f, expires_at)
            key = verification_key(job_id, f.index)
            marks[f.index] = Mark(key, Counts(unverified=1), with_it=(failure,))
        return self._settle(job_id, list(marks.values())) if marks else None

    def set_totals(self, job_id: str, items_total: int, messages_total: int) -> Job | None:
        """Totals known only at the end (a cleanup manifest, streamed)."""
        try:
            item = self.table.update(
                job_key(job_id),
                "SET items_total = :items, messages_total = :messages, updated_at = :now",
                values={":items": items_total, ":messages": messages_total, ":now": self.now()},
                condition="attribute_exists(pk)",
            )
        except ConditionFailedError:
            return None
        return self._finish_if_done(item)

    def part_settled(self, job_id: str, part: str) -> bool:
        """Whether the job counted this message part already."""
        return self.table.get(part_key(job_id, part)) is not None

    def fail(self, job_id: str, reason: str) -> None:
        """End a job that never got going (its work could not be queued): failed, and why."""
        now = self.now()
        try:
            self.table.update(
                job_key(job_id),
                "SET finished_at = :now, #state = :failed, #result = :result, "
                "expires_at = :expires, updated_at = :now",
                names={"#state": "state", "#result": "result"},
                values={
                    ":now": now,
                    ":failed": "failed",
                    ":result": {"error": reason},
                    ":expires": now + self.retention_days * DAY_S,
                },
                condition="attribute_exists(pk) AND attribute_not_exists(finished_at)",
            )
        except ConditionFailedError:
            logger.info("job %s had finished already; left as it is", job_id)

    def set_result(self, job_id: str, result: Mapping[str, Any]) -> None:
        """What the job produced (an export's objects)."""
        self.table.update(
            job_key(job_id),
            "SET #result = :result, updated_at = :now",
            names={"#result": "result"},
            values={":result": dict(result), ":now": self.now()},
        )

    def get(self, job_id: str) -> Job:
        item = self.table.get(job_key(job_id))
        if item is None or self._expired(item):
            raise JobNotFoundError(job_id)
        return job_of(item)

    def failures(
        self, job_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Failure], str | None]:
        """One page of the job's failed items, in index order, and the next page's cursor."""
        self.get(job_id)
        start = decode_cursor(cursor, pk=f"JOB#{job_id}", prefix="F#")
        items, last = self.table.query(f"JOB#{job_id}", begins_with="F#", limit=limit, start=start)
        return [failure_of(item) for item in items], encode_cursor(last)

    # -- internals ------------------------------------------------------------------------------

    def _settle(self, job_id: str, marks: Sequence[Mark]) -> Job | None:
        """Count the marks not counted yet (transactions of 100 writes); then finish the job if
        that was all (also when nothing was new: an earlier attempt may have stopped there)."""
        counted = False
        for batch in _batches(marks, MAX_TRANSACTION - 1):
            outcome = self._count(job_id, batch)
            if outcome is None:
                logger.warning("job %s is not known here; its counts are not kept", job_id)
                return None
            counted = counted or outcome
        item = self.table.get(job_key(job_id))
        if item is None:
            return None
        job = self._finish_if_done(item)
        return job if counted else None

    def _count(self, job_id: str, marks: Sequence[Mark]) -> bool | None:
        """One transaction: the marks' markers (each only if not there yet) and their counts
        added to the job; whether any was new (None: no such job). A cancellation names the
        markers already there: the rest go again without them."""
        pending = list(marks)
        while pending:
            writes = [w for mark in pending for w in self._mark_writes(mark)]
            cancelled = self.table.transact([*writes, self._add(job_id, pending)])
            if cancelled is None:
                return True
            if len(writes) in cancelled.failed:
                return None
            positions = _marker_positions(pending)
            pending = [
                m for m, at in zip(pending, positions, strict=True) if at not in cancelled.failed
            ]
        return False

    def _mark_writes(self, mark: Mark) -> list[TransactWriteItemTypeDef]:
        marker = {**mark.key, "expires_at": self._unfinished_expiry(self.now())}
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self.table.name,
                "Item": to_item(marker),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        return [put] + [
            {"Put": {"TableName": self.table.name, "Item": to_item(item)}} for item in mark.with_it
        ]

    def _add(self, job_id: str, marks: Sequence[Mark]) -> TransactWriteItemTypeDef:
        """The job's counters, plus every mark's (on condition the job exists)."""
        totals = {name: sum(getattr(m.counts, name) for m in marks) for name in COUNTS}
        totals["messages_done"] = sum(m.done for m in marks)
        adds = {name: value for name, value in totals.items() if value}
        values: Item = {f":{name}": value for name, value in adds.items()} | {":now": self.now()}
        expression = "SET updated_at = :now"
        if adds:
            expression += " ADD " + ", ".join(f"{name} :{name}" for name in adds)
        return {
            "Update": {
                "TableName": self.table.name,
                "Key": to_item(job_key(job_id)),
                "UpdateExpression": expression,
                "ExpressionAttributeValues": to_item(values),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }

    def _finish_if_done(self, item: Item) -> Job:
        job = job_of(item)
        if job.final_state is not None or not job.is_done():
            return job
        now = self.now()
        try:
            finished = self.table.update(
                job_key(job.job_id),
                "SET finished_at = :now, #state = :state, expires_at = :expires",
                names={"#state": "state"},
                values={
                    ":now": now,
                    ":state": job.final(),
                    ":expires": now + self.retention_days * DAY_S,
                },
                condition="attribute_not_exists(finished_at)",
            )
        except ConditionFailedError:
            return job  # someone else finished it, with the same counts
        logger.info("job %s finished: %s", job.job_id, job.final())
        return job_of(finished)

    def _record_failures(self, job_id: str, failures: Sequence[Failure]) -> None:
        expires_at = self._unfinished_expiry(self.now())
        self.table.put_many([self._failure_item(job_id, f, expires_at) for f in failures])

    def _failure_item(self, job_id: str, failure: Failure, expires_at: int) -> Item:
        values = {k: v for k, v in failure.to_dict().items() if v is not None}
        return {**failure_key(job_id, failure.index), **values, "expires_at": expires_at}

    def _unfinished_expiry(self, now: int) -> int:
        """When the records of a job not finished yet expire (its finish sets the job's own)."""
        return now + MAX_JOB_LIFE_S + self.retention_days * DAY_S

    def _expired(self, item: Item) -> bool:
        expires = item.get("expires_at")
        return isinstance(expires, int) and expires < self.now()

    def now(self) -> int:
        """Epoch seconds, as stored."""
        return int(self.clock())


def _batches(marks: Sequence[Mark], writes: int) -> list[list[Mark]]:
    """The marks in runs of at most ``writes`` writes each."""
    batches: list[list[Mark]] = [[]]
    size = 0
    for mark in marks:
        if batches[-1] and size + mark.writes > writes:
            batches.append([])
            size = 0
        batches[-1].append(mark)
        size += mark.writes
    return [batch for batch in batches if batch]


def _marker_positions(marks: Sequence[Mark]) -> list[int]:
    """Where each mark's marker is in the transaction ``_count`` writes."""
    positions, at = [], 0
    for mark in marks:
        positions.append(at)
        at += mark.writes
    return positions


def job_of(item: Mapping[str, Any]) -> Job:
    state = item.get("state")
    return Job(
        job_id=str(item["job_id"]),
        operation=str(item["operation"]),
        operator_type=item.get("operator_type"),
        app=item.get("app"),
        source=item.get("source", "api"),
        created_at=float(item["created_at"]),
        updated_at=float(item.get("updated_at") or item["created_at"]),
        items_total=item.get("items_total"),
        messages_total=item.get("messages_total"),
        messages_done=int(item.get("messages_done") or 0),
        counts=Counts.of(item),
        verifying=bool(item.get("verifying")),
        started=bool(item.get("started")),
        finished_at=item.get("finished_at"),
        final_state=state if state in ("succeeded", "completed_with_failures", "failed") else None,
        result=item.get("result") or {},
    )


def failure_of(item: Mapping[str, Any]) -> Failure:
    return Failure(
        index=int(item["index"]),
        outcome=item["outcome"],
        token=item.get("token"),
        account=item.get("account"),
        account_type=item.get("account_type"),
        code=item.get("code"),
        reason=item.get("reason"),
    )


def encode_cursor(key: Key | None) -> str | None:
    """An opaque cursor for the page after ``key``."""
    if key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, pk: str, prefix: str = "") -> Key | None:
    """The key a cursor of this listing (partition ``pk``) stands for; anything else is 400."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, RecursionError):
        raise BadCursorError("cursor: is not one this API handed out") from None
    if not (
        isinstance(key, dict)
        and set(key) == {"pk", "sk"}
        and key["pk"] == pk
        and isinstance(key["sk"], str)
        and key["sk"].startswith(prefix)
    ):
        raise BadCursorError("cursor: is not one this API handed out for this listing")
    return {"pk": pk, "sk": key["sk"]}
