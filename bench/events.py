"""The events and calls the benchmark sends: SQS batches, queue messages, signed TPNS calls."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

from bench.servers import ACCESS_ID, ROOT, SECRET_KEY


def sign_headers(body: bytes, now: float | None = None) -> dict[str, str]:
    """TPNS signature headers for the bench app (the scheme in tpns_account.signing)."""
    stamp = str(int(time.time() if now is None else now))
    digest = hmac.new(SECRET_KEY.encode(), (stamp + ACCESS_ID).encode() + body, hashlib.sha256)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "AccessId": ACCESS_ID,
        "TimeStamp": stamp,
        "Sign": base64.b64encode(digest.hexdigest().encode()).decode(),
    }


def bulk_token_accounts(message: int, items: int, tag: str = "") -> list[dict[str, Any]]:
    return [
        {
            "token": f"bench{tag}-{message}-{i}",
            "account_list": [{"account": f"user-{message}-{i}", "account_type": 0}],
        }
        for i in range(items)
    ]


def sqs_event(
    messages: int, items: int, tag: str, job_id: str | None = None, prefix: str = ""
) -> dict[str, Any]:
    """An SQS batch like events/sqs/bulk-batch.json: ``messages`` bulk binds of ``items`` each,
    sent now (``SentTimestamp`` orders a plain message's ledger writes), each message id new
    (``tag``); with ``job_id``, the messages are that job's parts, as ``/v1/jobs`` writes them."""
    template = json.loads((ROOT / "events" / "sqs" / "bulk-batch.json").read_text())["Records"][0]
    now_ms = int(time.time() * 1000)
    records = []
    for m in range(messages):
        record = json.loads(json.dumps(template))
        record["messageId"] = f"bench-{tag}-{m}"
        record["attributes"]["SentTimestamp"] = str(now_ms)
        body: dict[str, Any] = {"operation": "bind"}
        if job_id is not None:
            body |= {"job_id": job_id, "issued_at": now_ms, "part": m, "offset": m * items}
        body["token_accounts"] = bulk_token_accounts(m, items, prefix)
        record["body"] = json.dumps(body)
        records.append(record)
    return {"Records": records}


def queue_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Messages received from a queue, as the event source mapping hands them to a function."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
            for m in messages
        ]
    }


def items_of(event_file: Path) -> int:
    """How many tokens or accounts an API event's body carries (its one list field)."""
    body = json.loads(json.loads(event_file.read_text()).get("body") or "{}")
    lists = [v for k, v in body.items() if k in ("token_accounts", "token_list", "account_list")]
    return len(lists[0]) if lists else 0
