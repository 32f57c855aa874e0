"""Scheduled cleanup: manifests under ``pending/`` become bulk unbind messages, resumably.

A manifest is streamed (never loaded whole), one item per line: JSON lines
(``{"account": "...", "account_type": 0}`` or ``{"token": "..."}``) or CSV with a header naming
``account`` / ``account_type`` / ``token`` columns. Items are queued in batches; after each batch is
on the queue a checkpoint (byte offset, counts, rejected lines) is written to ``state/``, so a run
that stops early resumes exactly there. At worst the last batch is queued twice, which is harmless:
unbinding is idempotent. A finished manifest moves to ``done/`` with a JSON report beside it.

Each manifest is a job (``source: cleanup``), named after the manifest's key and ETag, so a new
upload under the same name is a new job: its messages carry their part and offset (a batch
queued twice counts once) and the manifest's ``LastModified`` as their ``issued_at``, so an
unbind listed in a manifest never undoes a bind issued after the manifest was written. The
job's totals are set when the stream ends; its report carries the ``job_id``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import KW_ONLY
from typing import TYPE_CHECKING, Any

from tpns_account import RequestValidationError
from tpns_account.models import Account, parse_account, parse_token
from tpns_account.validation import json_object
from tpns_account.values import Value, asdict, field
from tpns_api.jobs.store import JobStore, NewJob
from tpns_api.queue.sqs import MessageSender
from tpns_api.telemetry import Metric

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectTypeDef

logger = logging.getLogger(__name__)

PENDING, DONE, STATE = "pending/", "done/", "state/"
ITEMS_PER_MESSAGE = 1000
MESSAGES_PER_FLUSH = 10  # one SendMessageBatch, then a checkpoint
MAX_REJECTED_LISTED = 1000
STOP_MARGIN_S = 30.0
READ_CHUNK = 1 << 16


class Checkpoint(Value, frozen=False):
    """Progress through one manifest; also the final report's content."""

    manifest: str
    format: str = ""
    header: list[str] = field(default_factory=list)
    offset: int = 0
    lines_read: int = 0
    items_queued: int = 0
    messages: int = 0
    lines_rejected: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    runs: int = 0
    started_at: float = 0.0
    finished_at: float | None = None
    job_id: str = ""
    issued_at: int = 0  # the manifest's LastModified, epoch ms

    def reject(self, line: int, reason: str) -> None:
        self.lines_rejected += 1
        if len(self.rejected) < MAX_REJECTED_LISTED:
            self.rejected.append({"line": line, "reason": reason})


class RunSummary(Value, frozen=False):
    completed: list[Checkpoint] = field(default_factory=list)
    unfinished: list[Checkpoint] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The run's metrics."""
        return {
            Metric.MANIFESTS_COMPLETED: len(self.completed),
            Metric.MANIFESTS_UNFINISHED: len(self.unfinished),
            Metric.LINES_REJECTED: sum(c.lines_rejected for c in self.completed),
            Metric.ITEMS_QUEUED: sum(c.items_queued for c in self.completed),
        }

    def report(self, seconds: float) -> dict[str, Any]:
        """What the run answers (and logs): manifests done and unfinished, and its counts."""
        return {
            "completed": [c.manifest for c in self.completed],
            "unfinished": [
                {"manifest": c.manifest, "lines_read": c.lines_read} for c in self.unfinished
            ],
            "seconds": round(seconds, 1),
            **self.counts(),
        }


class CleanupRunner(Value, frozen=False):
    """Works through the bucket's pending manifests while ``time_left()`` allows."""

    s3: S3Client
    sender: MessageSender
    bucket: str
    _: KW_ONLY
    time_left: Callable[[], float]
    items_per_message: int = ITEMS_PER_MESSAGE
    jobs: JobStore | None = None
    verifying: bool = False  # the ledger is on: the jobs count verification too

    def run(self) -> RunSummary:
        """Work through every pending manifest until done or out of time."""
        summary = RunSummary()
        for entry in self._pending():
            key = entry["Key"]
            checkpoint = self._load(key)
            if not checkpoint.job_id:
                self._begin(entry, checkpoint)
            if self._out_of_time():
                summary.unfinished.append(checkpoint)
                continue
            if self._process(key, checkpoint):
                summary.completed.append(checkpoint)
            else:
                summary.unfinished.append(checkpoint)
        return summary

    def _pending(self) -> Iterator[ObjectTypeDef]:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=PENDING):
            for entry in page.get("Contents", []):
                if not entry["Key"].endswith("/"):
                    yield entry

    def _begin(self, entry: ObjectTypeDef, checkpoint: Checkpoint) -> None:
        """A manifest seen for the first time: its job, and the instant its unbinds were issued."""
        identity = f"{entry['Key']}\n{entry.get('ETag', '')}"
        checkpoint.job_id = "cleanup-" + hashlib.sha256(identity.encode()).hexdigest()[:16]
        checkpoint.issued_at = int(entry["LastModified"].timestamp() * 1000)
        if self.jobs is not None:
            self.jobs.create(
                NewJob(
                    checkpoint.job_id,
                    "unbind",
                    None,
                    None,
                    "cleanup",
                    None,
                    None,
                    self.verifying,
                )
            )

    def _out_of_time(self) -> bool:
        return self.time_left() < STOP_MARGIN_S

    def _process(self, key: str, checkpoint: Checkpoint) -> bool:
        """Stream ``key`` from the checkpoint on; True when it finished and moved to done/."""
        checkpoint.runs += 1
        checkpoint.started_at = checkpoint.started_at or time.time()
        batch = _Batch(checkpoint, self.items_per_message)
        offset_of_batch = checkpoint.offset
        for raw, offset in self._lines(key, checkpoint.offset):
            checkpoint.lines_read += 1
            self._read_line(raw, checkpoint, batch)
            offset_of_batch = offset
            if batch.size >= self.items_per_message * MESSAGES_PER_FLUSH:
                self._flush(batch, checkpoint, offset_of_batch)
                if self._out_of_time():
                    logger.info("cleanup of %s paused at line %d", key, checkpoint.lines_read)
                    return False
        self._flush(batch, checkpoint, offset_of_batch)
        self._finish(key, checkpoint)
        return True

    def _read_line(self, raw: bytes, checkpoint: Checkpoint, batch: _Batch) -> None:
        number = checkpoint.lines_read
        try:
            text = raw.decode("utf-8").strip().lstrip("\ufeff")
        except UnicodeDecodeError:
            checkpoint.reject(number, "not valid UTF-8")
            return
        if not text:
            return
        if not checkpoint.format:
            checkpoint.format = "jsonl" if text.startswith("{") else "csv"
            if checkpoint.format == "csv":
                header = [name.strip().lower() for name in next(csv.reader([text]))]
                if not {"account", "token"} & set(header):
                    checkpoint.reject(number, "CSV header must name an account or token column")
                checkpoint.header = header
                return
        try:
            item = (
                _json_item(text)
                if checkpoint.format == "jsonl"
                else _csv_item(text, checkpoint.header)
            )
        except (ValueError, RequestValidationError) as exc:
            checkpoint.reject(number, str(exc))
            return
        batch.add(item)

    def _lines(self, key: str, offset: int) -> Iterator[tuple[bytes, int]]:
        """Lines of the object from ``offset``, each with the offset just past it."""
        options: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if offset:
            options["Range"] = f"bytes={offset}-"
        try:
            body = self.s3.get_object(**options)["Body"]
        except self.s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return  # the checkpoint is already at the end
            raise
        rest = b""
        for chunk in body.iter_chunks(READ_CHUNK):
            data = rest + chunk
            start = 0
            while (end := data.find(b"\n", start)) >= 0:
                offset += end + 1 - start
                yield data[start:end], offset
                start = end + 1
            rest = data[start:]
        if rest:
            yield rest, offset + len(rest)

    def _flush(self, batch: _Batch, checkpoint: Checkpoint, offset: int) -> None:
        items = batch.size
        messages = batch.drain()
        self.sender.send(messages, what=f"cleanup of {checkpoint.manifest}")
        checkpoint.items_queued += items
        checkpoint.messages += len(messages)
        checkpoint.offset = offset
        self._save(checkpoint)

    def _finish(self, key: str, checkpoint: Checkpoint) -> None:
        checkpoint.finished_at = time.time()
        name = key[len(PENDING) :]
        if self.jobs is not None:
            self.jobs.set_result(
                checkpoint.job_id,
                {
                    "manifest": key,
                    "report": f"{DONE}{name}.report.json",
                    "lines_rejected": checkpoint.lines_rejected,
                },
            )
            self.jobs.set_totals(checkpoint.job_id, checkpoint.items_queued, checkpoint.messages)
        report = {k: v for k, v in asdict(checkpoint).items() if k not in ("header", "offset")}
        report["status"] = "done"
        self.s3.put_object(
            Bucket=self.bucket,
            Key=f"{DONE}{name}.report.json",
            Body=json.dumps(report, indent=2).encode(),
            ContentType="application/json",
        )
        self.s3.copy_object(
            Bucket=self.bucket, Key=f"{DONE}{name}", CopySource={"Bucket": self.bucket, "Key": key}
        )
        self.s3.delete_object(Bucket=self.bucket, Key=key)
        self.s3.delete_object(Bucket=self.bucket, Key=self._state_key(key))
        logger.info("cleanup manifest done", extra={"report": report})

    def _state_key(self, key: str) -> str:
        return f"{STATE}{key[len(PENDING) :]}.json"

    def _load(self, key: str) -> Checkpoint:
        try:
            raw = self.s3.get_object(Bucket=self.bucket, Key=self._state_key(key))["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return Checkpoint(manifest=key)
        return Checkpoint(**json.loads(raw))

    def _save(self, checkpoint: Checkpoint) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self._state_key(checkpoint.manifest),
            Body=json.dumps(asdict(checkpoint)).encode(),
            ContentType="application/json",
        )


Item = Account | str


class _Batch:
    """Items waiting to be queued, kept apart by kind (an account or a token unbind); each
    message numbered (``part``, ``offset``) from the checkpoint, so a batch queued again after
    a stop gets the same numbers."""

    def __init__(self, checkpoint: Checkpoint, per_message: int) -> None:
        self.checkpoint = checkpoint
        self.per_message = per_message
        self.accounts: list[dict[str, Any]] = []
        self.tokens: list[str] = []

    @property
    def size(self) -> int:
        return len(self.accounts) + len(self.tokens)

    def add(self, item: Item) -> None:
        if isinstance(item, Account):
            self.accounts.append(item.to_dict())
        else:
            self.tokens.append(item)

    def drain(self) -> list[str]:
        messages: list[str] = []
        part, offset = self.checkpoint.messages, self.checkpoint.items_queued
        for list_field, items in (("account_list", self.accounts), ("token_list", self.tokens)):
            for start in range(0, len(items), self.per_message):
                chunk = items[start : start + self.per_message]
                body = {
                    "operation": "unbind",
                    "job_id": self.checkpoint.job_id,
                    "issued_at": self.checkpoint.issued_at,
                    "part": part + len(messages),
                    "offset": offset,
                    list_field: chunk,
                }
                messages.append(json.dumps(body))
                offset += len(chunk)
        self.accounts, self.tokens = [], []
        return messages


def _json_item(text: str) -> Item:
    data = json_object(
        text,
        not_json="not valid JSON",
        not_object="must be a JSON object with 'account' or 'token'",
    )
    if ("token" in data) == ("account" in data):
        raise ValueError("must hold exactly one of 'account' or 'token'")
    if "token" in data:
        if set(data) != {"token"}:
            raise ValueError("a token line holds only 'token'")
        return parse_token(data["token"])
    return parse_account(data)


def _csv_item(text: str, header: list[str]) -> Item:
    values = next(csv.reader([text]))
    if len(values) != len(header):
        raise ValueError(f"has {len(values)} fields, the header {len(header)}")
    row = {name: value.strip() for name, value in zip(header, values, strict=True)}
    token, account = row.get("token", ""), row.get("account", "")
    if bool(token) == bool(account):
        raise ValueError("must fill exactly one of the account or token columns")
    if token:
        return parse_token(token)
    account_type = row.get("account_type", "") or "0"
    if not account_type.isascii() or not account_type.isdigit():
        raise ValueError(f"account_type: must be an integer, got {account_type[:20]!r}")
    return parse_account({"account": account, "account_type": int(account_type)})
