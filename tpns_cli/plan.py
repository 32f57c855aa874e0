"""A manifest cut into job bodies of bounded size, each with its own ``Idempotency-Key``.

The cut and the keys depend only on the file's bytes, the operation, the app and the job size,
so running the same command again makes the same parts under the same keys: the API answers
the parts it already has with their jobs (``"replayed": true``, nothing queued) and takes the
ones a crashed run never sent. Keys last the API's idempotency window (24 h).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final

from tpns_account import RequestValidationError
from tpns_account.models import ListField
from tpns_api.http import contract
from tpns_api.http.contract import Operation
from tpns_cli.errors import InputError
from tpns_cli.manifest import LIST_ORDER, Manifest

#: Items per job unless ``--job-size`` says otherwise: 10,000 bindings make about a megabyte
#: of body and 14 queue messages, well inside the jobs function's 25 s.
DEFAULT_JOB_ITEMS: Final = 10_000
#: The API refuses a body over ``contract.MAX_BODY_BYTES`` (Lambda's payload limit): parts stay
#: under it with room for the envelope.
MAX_PART_BYTES: Final = contract.MAX_BODY_BYTES - 64 * 1024
KEY_PREFIX: Final = "tpns-bindings"


@dataclass(frozen=True, slots=True)
class Part:
    """One ``POST /v1/jobs`` body (``body`` is the exact bytes sent) and its key."""

    number: int  # from 1, in submission order
    list_field: ListField
    items: int
    body: bytes
    key: str


def run_id(digest: str, operation: Operation, app: str | None, job_size: int) -> str:
    """What one command over one file is: the same inputs give the same id, on any machine."""
    seed = "\n".join((KEY_PREFIX, digest, operation, app or "", str(job_size)))
    return hashlib.sha256(seed.encode()).hexdigest()[:40]


def idempotency_key(run: str, part: int) -> str:
    """The part's ``Idempotency-Key`` (printable ASCII, as the contract requires)."""
    return f"{KEY_PREFIX}-{run}-{part}"


def plan_parts(
    manifest: Manifest, app: str | None, job_size: int = DEFAULT_JOB_ITEMS
) -> list[Part]:
    """The manifest's items as job bodies of at most ``job_size`` items and ``MAX_PART_BYTES``,
    one list field per job; each body is checked by the API's own parser before it is sent."""
    if job_size < 1:
        raise InputError("--job-size: must be at least 1")
    run = run_id(manifest.digest, manifest.operation, app, job_size)
    head: dict[str, Any] = {"operation": manifest.operation}
    if app is not None:
        head["app"] = app
    parts: list[Part] = []
    for list_field in LIST_ORDER:
        for chunk in _chunks(manifest.items(list_field), job_size, head, list_field):
            number = len(parts) + 1
            body = json.dumps({**head, list_field: chunk}).encode()
            _check(body, number)
            parts.append(Part(number, list_field, len(chunk), body, idempotency_key(run, number)))
    return parts


def _chunks(
    items: list[Any], job_size: int, head: dict[str, Any], list_field: str
) -> list[list[Any]]:
    overhead = len(json.dumps({**head, list_field: []}))
    chunks: list[list[Any]] = []
    chunk: list[Any] = []
    size = overhead
    for item in items:
        item_size = len(json.dumps(item)) + 2  # ", " between items
        if chunk and (len(chunk) >= job_size or size + item_size > MAX_PART_BYTES):
            chunks.append(chunk)
            chunk, size = [], overhead
        chunk.append(item)
        size += item_size
    if chunk:
        chunks.append(chunk)
    return chunks


def _check(body: bytes, number: int) -> None:
    """The API's own parsing of the body: what passes here, the API takes."""
    try:
        contract.parse_job(json.loads(body))
    except RequestValidationError as exc:  # every line was checked: this is not expected
        raise InputError(f"part {number} would be refused by the API: {exc}") from None
