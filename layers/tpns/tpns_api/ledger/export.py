"""Export: every binding of an app, from the ledger to S3 as JSON lines (the way off TPNS).

An export is a job (``source: export``) that walks the ledger table one scan page at a time.
Each page is one bulk-queue message, ``{"export": {"job_id", "app", "part", "start"}}``: its
bindings go to ``exports/<AccessID>/<job_id>/part-<part>.jsonl`` (one JSON object per line,
as ``GET /v1/tokens/{token}/bindings`` answers them), the next page is queued, then the page is
counted in the job. A page delivered twice writes the same object again and counts once; the
last page sets the job's totals and result, so the job finishes with the export complete.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Final

from tpns_account.values import Value
from tpns_api.errors import NeverSucceedsError
from tpns_api.jobs.model import Counts
from tpns_api.jobs.store import JobStore
from tpns_api.ledger.store import LedgerStore
from tpns_api.queue.sqs import MessageSender
from tpns_api.store.dynamo import Key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

EXPORT: Final = "export"
EXPORT_PREFIX: Final = "exports/"
#: Ledger items read per page (tokens, index entries and facts alike): well under the 1 MB a
#: scan page holds, and one S3 object of a few hundred bindings.
PAGE_ITEMS: Final = 1000


class ExportPage(Value):
    """One page of an export, as its bulk-queue message carries it."""

    job_id: str
    app: str | None
    part: int = 0
    start: Key | None = None

    def to_json(self) -> str:
        body: dict[str, Any] = {"job_id": self.job_id, "part": self.part, "start": self.start}
        if self.app is not None:
            body["app"] = self.app
        return json.dumps({EXPORT: body})

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> ExportPage:
        """The page of a message that is ``{"export": {...}}`` (else ``NeverSucceedsError``)."""
        body = data.get(EXPORT)
        if set(data) != {EXPORT} or not isinstance(body, dict):
            raise NeverSucceedsError('an export message is {"export": {...}} and nothing else')
        job_id, part, start, app = (body.get(k) for k in ("job_id", "part", "start", "app"))
        if not isinstance(job_id, str) or not job_id:
            raise NeverSucceedsError("export.job_id: must be the export's job id")
        if not isinstance(part, int) or isinstance(part, bool) or part < 0:
            raise NeverSucceedsError("export.part: must be a non-negative integer")
        if start is not None and not (
            isinstance(start, dict) and all(isinstance(v, str) for v in start.values())
        ):
            raise NeverSucceedsError("export.start: must be a key of the ledger table, or null")
        if app is not None and not isinstance(app, str):
            raise NeverSucceedsError("export.app: must be an app name when given")
        return cls(job_id, app, part, start)


def export_page(body: str) -> ExportPage | None:
    """The export page a bulk-queue message body carries; None if it is another message."""
    if f'"{EXPORT}"' not in body:
        return None  # (cheap: most messages are binds and unbinds)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the message parser says so
    if not isinstance(data, dict) or EXPORT not in data:
        return None
    return ExportPage.from_message(data)


def object_key(app_key: str, job_id: str, part: int) -> str:
    return f"{EXPORT_PREFIX}{app_key}/{job_id}/part-{part:05d}.jsonl"


class Exporter(Value, frozen=False):
    ledger: LedgerStore
    jobs: JobStore
    s3: S3Client
    bucket: str
    sender: MessageSender  # the bulk queue: where the next page goes

    def export(self, page: ExportPage, app_key: str) -> None:
        """Write one page's bindings, queue the next page, count this one (in that order, so
        nothing is lost if this stops halfway: the page is simply delivered again)."""
        bindings, next_start = self.ledger.page_of_bindings(
            app_key, start=page.start, limit=PAGE_ITEMS
        )
        if self.jobs.part_settled(page.job_id, str(page.part)):
            if next_start is None:
                self._finish(page, app_key)  # the first delivery stopped before finishing
            return  # a duplicate: the first delivery carried the export on
        lines = "".join(json.dumps(binding.to_dict()) + "\n" for binding in bindings)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=object_key(app_key, page.job_id, page.part),
            Body=lines.encode(),
            ContentType="application/x-ndjson",
        )
        if next_start is not None:
            following = ExportPage(page.job_id, page.app, page.part + 1, next_start)
            self.sender.send([following.to_json()], what=f"export {page.job_id}")
        self.jobs.settle(page.job_id, str(page.part), Counts(accepted=len(bindings)))
        if next_start is None:
            self._finish(page, app_key)

    def _finish(self, page: ExportPage, app_key: str) -> None:
        exported = self.jobs.get(page.job_id).counts.accepted
        self.jobs.set_result(
            page.job_id,
            {
                "bucket": self.bucket,
                "prefix": f"{EXPORT_PREFIX}{app_key}/{page.job_id}/",
                "objects": page.part + 1,
                "bindings": exported,
            },
        )
        self.jobs.set_totals(page.job_id, exported, page.part + 1)
        logger.info(
            "export %s done: %d bindings in %d objects", page.job_id, exported, page.part + 1
        )
