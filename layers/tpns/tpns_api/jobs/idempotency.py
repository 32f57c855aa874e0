"""``Idempotency-Key`` for ``POST /v1/jobs``, as the IETF Idempotency-Key draft describes it.

The same key with the same body within ``WINDOW_S`` answers the first request's job again and
queues nothing; with another body it is refused (422); while the first request is still being
handled, the second is refused (409). Keys are scoped to the caller (the IAM principal or API
key), so two callers' keys never collide.

Not Powertools' Idempotency utility: its records live in their own table and expire by
``datetime.now()`` (no clock to inject), while here the key must resolve to the job's id before
the job exists, and a request that crashed halfway must be resumable under that same id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

from tpns_account.values import Value
from tpns_api.errors import BundleError
from tpns_api.store.dynamo import ConditionFailedError, Item, Key, Table

WINDOW_S: Final = 24 * 3600
#: How long a first request may take before a retry may take its work over (it crashed).
LEASE_S: Final = 60


class IdempotencyKeyReusedError(BundleError):
    """The key was used with another body."""


class IdempotencyKeyInProgressError(BundleError):
    """The first request with this key is still being handled."""


Begun = Literal["new", "replay", "resume"]


class Claim(Value):
    """What to do with a request: ``new`` (do it under ``job_id``), ``resume`` (a first attempt
    died: finish it under its ``job_id`` and ``issued_at_ms``, so the parts it queued and those
    the retry queues are one operation, not a newer one), ``replay`` (answer ``answer`` again)."""

    kind: Begun
    job_id: str
    issued_at_ms: int
    answer: Mapping[str, Any] | None = None


def key_of(scope: str, key: str) -> Key:
    digest = hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()
    return {"pk": f"IDEM#{digest}", "sk": "KEY"}


class IdempotencyStore(Value, frozen=False):
    table: Table
    clock: Callable[[], float]

    def claim(self, scope: str, key: str, digest: str, job_id: str, issued_at_ms: int) -> Claim:
        """Claim ``key`` for a request whose body hashes to ``digest``, issued at
        ``issued_at_ms``."""
        now = int(self.clock())
        record: Item = {
            **key_of(scope, key),
            "body": digest,
            "job_id": job_id,
            "issued_at": issued_at_ms,
            "state": "in_progress",
            "lease_until": now + LEASE_S,
            "expires_at": now + WINDOW_S,
        }
        try:
            self.table.put(
                record,
                condition="attribute_not_exists(pk) OR expires_at < :now",
                values={":now": now},
            )
        except ConditionFailedError as exc:
            return self._existing(scope, key, digest, (job_id, issued_at_ms), exc.item, now)
        return Claim("new", job_id, issued_at_ms)

    def release(self, scope: str, key: str) -> None:
        """Give a claimed key up (the request was refused): the next request is a first one."""
        self.table.delete(key_of(scope, key))

    def suspend(self, scope: str, key: str) -> None:
        """The request failed halfway (and said so): a retry may resume it at once."""
        self.table.update(key_of(scope, key), "SET lease_until = :zero", values={":zero": 0})

    def complete(self, scope: str, key: str, answer: Mapping[str, Any]) -> None:
        self.table.update(
            key_of(scope, key),
            "SET #state = :done, answer = :answer",
            names={"#state": "state"},
            values={":done": "completed", ":answer": json.dumps(dict(answer))},
        )

    def _existing(
        self,
        scope: str,
        key: str,
        digest: str,
        this: tuple[str, int],
        found: Item | None,
        now: int,
    ) -> Claim:
        record = found or self.table.get(key_of(scope, key))
        if record is None:  # expired and deleted between the two calls: claim it again
            return self.claim(scope, key, digest, *this)
        if record.get("body") != digest:
            raise IdempotencyKeyReusedError(
                "Idempotency-Key: was used with another body within 24 hours; use a new key"
            )
        # The first request's, whatever this one would have had.
        job_id = str(record["job_id"])
        issued_at_ms = int(record.get("issued_at") or this[1])
        if record.get("state") == "completed":
            return Claim("replay", job_id, issued_at_ms, json.loads(str(record["answer"])))
        if int(record.get("lease_until") or 0) > now:
            raise IdempotencyKeyInProgressError(
                "Idempotency-Key: the first request with this key is still being handled; "
                "retry in a few seconds"
            )
        try:  # the first attempt died: take its work over, under its job id
            self.table.update(
                key_of(scope, key),
                "SET lease_until = :lease",
                values={":lease": now + LEASE_S, ":old": int(record.get("lease_until") or 0)},
                condition="lease_until = :old",
            )
        except ConditionFailedError:
            raise IdempotencyKeyInProgressError(
                "Idempotency-Key: another retry is resuming this request"
            ) from None
        return Claim("resume", job_id, issued_at_ms)
