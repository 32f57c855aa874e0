"""Export jobs: every binding of an app, from the ledger to S3 as JSON lines, page by page."""

from __future__ import annotations

import json

import pytest

from tests.support.api_events import ApiFunctions, api_event
from tests.support.apps import ACCESS_ID
from tests.support.aws import s3_client
from tests.support.bulk import MAX_RECEIVE_COUNT, BulkRig
from tests.support.memory import Memory
from tpns_api.ledger.cells import TokenOp, version


def exported_lines(moto_endpoint: str, bucket: str, prefix: str) -> list[dict[str, object]]:
    s3 = s3_client(moto_endpoint)
    lines: list[dict[str, object]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read().decode()
            lines += [json.loads(line) for line in body.splitlines()]
    return lines


@pytest.fixture
def exporting(
    api: ApiFunctions, bulk: BulkRig, export_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> ApiFunctions:
    """The API functions, their jobs queued where the test's bulk function consumes."""
    monkeypatch.setenv("BULK_QUEUE_URL", bulk.queue_url)
    api.reset()
    return api


def test_an_export_of_10000_bindings_is_complete_and_valid_json_lines(
    exporting: ApiFunctions,
    bulk: BulkRig,
    memory: Memory,
    export_bucket: str,
    moto_endpoint: str,
) -> None:
    # GIVEN 10,000 bindings in the ledger (5,000 tokens with two account types each)
    memory.ledger().record(
        ACCESS_ID,
        [
            TokenOp(
                "bind",
                f"t{i}",
                version(1_000 + i, f"b{i}"),
                f"b{i}",
                ((f"a{i}", 0), (f"a{i}@x.cn", 1005)),
            )
            for i in range(5000)
        ],
    )
    # WHEN an export job is submitted and the bulk function works through its pages
    body = {"operation": "export", "job_id": "export-1"}
    answer = exporting("jobs", api_event("jobs-unbind", body))
    assert answer.status == 202, answer
    bulk.esm().drain(max_seconds=240)
    # THEN the job succeeded, counting every binding, and says where they are
    job = memory.jobs().get("export-1").to_dict()
    assert (job["source"], job["state"]) == ("export", "succeeded")
    assert job["items"] | {"total": 10_000, "accepted": 10_000, "pending": 0} == job["items"]
    result = job["result"]
    assert (result["bucket"], result["bindings"]) == (export_bucket, 10_000)
    assert result["objects"] == job["messages"]["total"] > 1
    # AND its objects hold each binding once, one JSON object per line
    lines = exported_lines(moto_endpoint, export_bucket, result["prefix"])
    assert len(lines) == 10_000
    assert {(line["token"], line["account"], line["account_type"]) for line in lines} == {
        (f"t{i}", account, account_type)
        for i in range(5000)
        for account, account_type in ((f"a{i}", 0), (f"a{i}@x.cn", 1005))
    }
    assert lines[0].keys() == {"token", "account", "account_type", "issued_at", "state"}


def test_an_export_page_delivered_twice_is_written_and_counted_once(
    exporting: ApiFunctions, bulk: BulkRig, memory: Memory, export_bucket: str, moto_endpoint: str
) -> None:
    # GIVEN a ledger with a few bindings, and an export job's first page message
    memory.ledger().record(
        ACCESS_ID,
        [TokenOp("bind", f"t{i}", version(1, f"b{i}"), f"b{i}", ((f"a{i}", 0),)) for i in range(5)],
    )
    exporting("jobs", api_event("jobs-unbind", {"operation": "export", "job_id": "export-2"}))
    (first_page,) = bulk.queued()
    # WHEN the page is delivered twice
    bulk.invoke([first_page, first_page])
    bulk.esm().drain(max_seconds=60)
    # THEN the export holds each binding once, and the job counts it once
    job = memory.jobs().get("export-2").to_dict()
    assert job["state"] == "succeeded"
    assert job["items"]["total"] == job["items"]["accepted"] == 5
    lines = exported_lines(moto_endpoint, export_bucket, job["result"]["prefix"])
    assert sorted(line["token"] for line in lines) == [f"t{i}" for i in range(5)]


def test_an_export_page_failing_at_its_last_delivery_fails_its_job_and_is_dead_lettered(
    exporting: ApiFunctions, bulk: BulkRig, memory: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an export job's first page, and an export bucket that does not exist
    memory.ledger().record(ACCESS_ID, [TokenOp("bind", "t0", version(1, "b"), "b", (("a", 0),))])
    exporting("jobs", api_event("jobs-unbind", {"operation": "export", "job_id": "export-3"}))
    (first_page,) = bulk.queued()
    monkeypatch.setenv("EXPORT_BUCKET", "no-such-export-bucket")
    bulk.module.processor.cache_clear()
    # WHEN the page is delivered for the last time
    _, failed = bulk.invoke([first_page], receive_count=MAX_RECEIVE_COUNT)
    # THEN it is not handed back: it is in the DLQ saying why, and the job ended failed
    assert failed == []
    (dead,) = bulk.dead_letters()
    assert dead["attributes"]["reason"].startswith("still failing at its last delivery")
    job = memory.jobs().get("export-3").to_dict()
    assert job["state"] == "failed"
    assert "export export-3" in job["result"]["error"]
