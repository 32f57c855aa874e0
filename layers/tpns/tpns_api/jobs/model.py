"""A job as its callers see it: counts, state, and the rules that make both exact.

Every item of a job is counted in exactly one of accepted / failed / dead_lettered / superseded
/ pending; accepted items are then verified or unverified when the ledger is on. A job is final
once no item is pending and every accepted item's verification is done, and never changes
after that.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final, Literal

from tpns_account.values import Value, field

JobState = Literal["queued", "running", "succeeded", "completed_with_failures", "failed"]
FINAL_STATES: Final = frozenset({"succeeded", "completed_with_failures", "failed"})
Source = Literal["api", "cleanup", "export", "backfill"]
Outcome = Literal["failed", "dead_lettered", "unverified"]
#: A failure keeps this much of an item that is not a valid token (the rest is in the DLQ).
MAX_TOKEN_CHARS: Final = 200
COUNTS: Final = ("accepted", "failed", "dead_lettered", "superseded", "verified", "unverified")


def iso(epoch_s: float | None) -> str | None:
    if epoch_s is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


class Counts(Value):
    accepted: int = 0
    failed: int = 0
    dead_lettered: int = 0
    superseded: int = 0
    verified: int = 0
    unverified: int = 0

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Counts:
        return cls(**{name: int(item.get(name) or 0) for name in COUNTS})

    @property
    def settled(self) -> int:
        return self.accepted + self.failed + self.dead_lettered + self.superseded

    def as_values(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}


class Failure(Value):
    """One item that did not make it, with TPNS's code when TPNS refused it."""

    index: int
    outcome: Outcome
    token: str | None = None
    account: str | None = None
    account_type: int | None = None
    code: int | None = None
    reason: str | None = None

    @classmethod
    def of_item(
        cls,
        index: int,
        outcome: Outcome,
        item: Any,
        code: int | None = None,
        reason: str | None = None,
    ) -> Failure:
        """The failure of an item as a message carries it (token, token_accounts or account)."""
        if isinstance(item, dict) and "account" in item:
            account_type = item.get("account_type")
            return cls(
                index,
                outcome,
                account=str(item["account"]),
                account_type=account_type if isinstance(account_type, int) else None,
                code=code,
                reason=reason,
            )
        token = item.get("token") if isinstance(item, dict) else item
        return cls(index, outcome, token=str(token)[:MAX_TOKEN_CHARS], code=code, reason=reason)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index}
        if self.token is not None:
            out["token"] = self.token
        else:
            out["account"] = self.account
            out["account_type"] = self.account_type
        out.update(outcome=self.outcome, code=self.code, reason=self.reason)
        return out


class Job(Value):
    """The job's record, read back."""

    job_id: str
    operation: str
    operator_type: int | None  # None: a cleanup's mix of op 4 (tokens) and op 5 (accounts)
    app: str | None
    source: Source
    created_at: float
    updated_at: float
    items_total: int | None
    messages_total: int | None
    messages_done: int
    counts: Counts
    verifying: bool
    started: bool
    finished_at: float | None = None
    final_state: JobState | None = None
    result: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> int | None:
        return None if self.items_total is None else self.items_total - self.counts.settled

    @property
    def state(self) -> JobState:
        if self.final_state is not None:
            return self.final_state
        if self.started or self.messages_done:
            return "running"
        return "queued"

    def is_done(self) -> bool:
        """Every message settled and every accepted item's verification done: verified and
        unverified count distinct items (a marker each, ``JobStore.settle_verification``), so
        they reach ``accepted`` only once every item is checked, never by counting one twice."""
        if self.messages_total is None or self.messages_done < self.messages_total:
            return False
        counts = self.counts
        return not self.verifying or counts.verified + counts.unverified >= counts.accepted

    def final(self) -> JobState:
        counts = self.counts
        if counts.failed + counts.dead_lettered + counts.unverified == 0:
            return "succeeded"
        if counts.accepted == 0 and counts.superseded == 0:
            return "failed"
        return "completed_with_failures"

    def to_dict(self, base_path: str = "") -> dict[str, Any]:
        """The job as ``GET /v1/jobs/{job_id}`` answers it (URLs under ``base_path``)."""
        counts = self.counts
        items: dict[str, Any] = {"total": self.items_total, **counts.as_values()}
        items["pending"] = self.pending
        body: dict[str, Any] = {
            "job_id": self.job_id,
            "operation": self.operation,
            "operator_type": self.operator_type,
            "app": self.app,
            "source": self.source,
            "state": self.state,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "finished_at": iso(self.finished_at),
            "items": items,
            "messages": {"total": self.messages_total, "done": self.messages_done},
            "failures_url": f"{base_path}/v1/jobs/{self.job_id}/failures",
        }
        if self.result:
            body["result"] = dict(self.result)
        return body
