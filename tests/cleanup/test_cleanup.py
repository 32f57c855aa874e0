"""Manifests under pending/ become bulk unbinds; reports, resumption, nothing lost."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mypy_boto3_s3 import S3Client

from local_stack.esm import SqsEventSourceMapping
from tests.support.apps import ACCESS_ID
from tests.support.bulk import BulkRig
from tests.support.lambda_runtime import FakeLambdaContext, load_function
from tests.support.layer_clients import MakeClient
from tests.support.memory import Memory
from tests.support.paths import EVENTS_DIR
from tpns_account import Account, TokenAccounts, TpnsClient
from tpns_api.queue.cleanup import CleanupRunner
from tpns_api.queue.sqs import MessageSender
from tpns_emulator import TpnsEmulator

FOREVER = 900.0


def runner(
    s3: S3Client,
    bulk: BulkRig,
    bucket: str,
    time_left: Callable[[], float] = lambda: FOREVER,
    memory: Memory | None = None,
) -> CleanupRunner:
    """A cleanup of ``bucket`` queueing to the bulk queue, with ``time_left()`` seconds left
    (recording its jobs in ``memory``'s jobs table, with the ledger on, when given)."""
    return CleanupRunner(
        s3,
        MessageSender(bulk.sqs, bulk.queue_url),
        bucket,
        time_left=time_left,
        jobs=memory.jobs() if memory is not None else None,
        verifying=memory is not None,
    )


def queued_items(bulk: BulkRig) -> list[Any]:
    """The tokens and accounts the cleanup queued for unbinding (taken off the queue)."""
    items: list[Any] = []
    for body in bulk.queued():
        items += body.get("account_list") or body.get("token_list")
    return items


def bind_pairs(client: TpnsClient, prefix: str, n: int) -> None:
    """Bind <prefix>t<i> to <prefix>a<i> for i in 0..n-1."""
    client.bind([TokenAccounts(f"{prefix}t{i}", (Account(f"{prefix}a{i}"),)) for i in range(n)])


def test_large_manifests_are_unbound_reported_and_moved_to_done(
    s3: S3Client,
    bucket: str,
    bulk_ledger_off: BulkRig,
    emulator: TpnsEmulator,
    make_client: MakeClient,
) -> None:
    # GIVEN 110,000 bindings and two manifests covering them: 100,000 JSON lines and a 10,000
    # line CSV, each with a few bad lines, half of the items tokens and half accounts (LedgerMode
    # off: moto serves one DynamoDB call at a time; the ledger's cleanups are tested smaller)
    bulk = bulk_ledger_off
    client = make_client(max_concurrency=16, time_budget=60.0)
    bind_pairs(client, "j", 100_000)
    bind_pairs(client, "c", 10_000)
    assert len(emulator.bindings(ACCESS_ID)) == 110_000
    lines = [
        json.dumps({"token": f"jt{i}"})
        if i % 2
        else json.dumps({"account": f"ja{i}", "account_type": 0})
        for i in range(100_000)
    ]
    lines[10] = "{not json"
    lines[500] = json.dumps({"token": "has space"})
    lines[7000] = json.dumps({"token": "jt7000", "account": "ja7000"})
    jsonl = "\n".join(lines) + "\n"
    csv_rows = ["account,account_type,token"] + [
        f",,ct{i}" if i % 2 else f"ca{i},0," for i in range(10_000)
    ]
    csv_rows[3] = "ca2,zero,"
    s3.put_object(Bucket=bucket, Key="pending/gdpr-2026-11-21.jsonl", Body=jsonl.encode())
    s3.put_object(
        Bucket=bucket, Key="pending/uninstalls.csv", Body=("\n".join(csv_rows) + "\n").encode()
    )
    # WHEN the cleanup runs, then the bulk function drains the queue
    summary = runner(s3, bulk, bucket).run()
    bulk.esm().drain(max_seconds=300)
    # THEN both manifests are in done/ with their reports, bad lines listed by number
    assert sorted(c.manifest for c in summary.completed) == [
        "pending/gdpr-2026-11-21.jsonl",
        "pending/uninstalls.csv",
    ]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {
        "done/gdpr-2026-11-21.jsonl",
        "done/gdpr-2026-11-21.jsonl.report.json",
        "done/uninstalls.csv",
        "done/uninstalls.csv.report.json",
    }
    report = json.loads(
        s3.get_object(Bucket=bucket, Key="done/gdpr-2026-11-21.jsonl.report.json")["Body"].read()
    )
    assert (report["lines_read"], report["items_queued"], report["lines_rejected"]) == (
        100_000,
        99_997,
        3,
    )
    assert [r["line"] for r in report["rejected"]] == [11, 501, 7001]
    assert report["rejected"][0]["reason"] == "not valid JSON"
    csv_report = json.loads(
        s3.get_object(Bucket=bucket, Key="done/uninstalls.csv.report.json")["Body"].read()
    )
    assert csv_report["rejected"] == [
        {"line": 4, "reason": "account_type: must be an integer, got 'zero'"}
    ]
    # AND every valid item was unbound; only the three bad lines' bindings remain
    remaining = emulator.bindings(ACCESS_ID)
    assert remaining == {
        "jt10": [("ja10", 0)],
        "jt500": [("ja500", 0)],
        "jt7000": [("ja7000", 0)],
        "ct2": [("ca2", 0)],
    }
    assert bulk.dead_letters() == []


def test_an_interrupted_run_resumes_where_it_stopped_without_loss(
    s3: S3Client, bucket: str, bulk: BulkRig, emulator: TpnsEmulator
) -> None:
    # GIVEN a 25,000-line manifest
    lines = [json.dumps({"token": f"t{i}"}) for i in range(25_000)]
    s3.put_object(Bucket=bucket, Key="pending/big.jsonl", Body=("\n".join(lines) + "\n").encode())
    # WHEN a first run runs out of time after two batches
    budget = iter([FOREVER, FOREVER, 0.0])  # before starting, after batch 1, after batch 2
    first = runner(s3, bulk, bucket, time_left=lambda: next(budget, 0.0)).run()
    # THEN the manifest stays in pending/ with a checkpoint
    assert first.completed == []
    assert first.unfinished[0].items_queued == 20_000
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {"pending/big.jsonl", "state/big.jsonl.json"}
    # AND the next run finishes from the checkpoint: every token queued exactly once, in two runs
    second = runner(s3, bulk, bucket).run()
    assert second.completed[0].runs == 2
    assert sorted(queued_items(bulk)) == sorted(f"t{i}" for i in range(25_000))
    report = json.loads(
        s3.get_object(Bucket=bucket, Key="done/big.jsonl.report.json")["Body"].read()
    )
    assert (report["lines_read"], report["items_queued"], report["runs"]) == (25_000, 25_000, 2)


def test_csv_headers_are_found_by_name_and_bad_headers_reported(
    s3: S3Client, bucket: str, bulk: BulkRig
) -> None:
    # GIVEN a CSV manifest with headers in any case and order (and a bad line), and a CSV whose
    # header names neither accounts nor tokens
    s3.put_object(
        Bucket=bucket,
        Key="pending/a.csv",
        Body=b"Token, Account ,ACCOUNT_TYPE\r\n,+8613711112222,1002\r\ntok-1,,\r\n\r\n,x,\r\n",
    )
    s3.put_object(Bucket=bucket, Key="pending/b.csv", Body=b"user,when\nalice,today\n")
    # WHEN the cleanup runs
    summary = runner(s3, bulk, bucket).run()
    # THEN the first is read by column name, its bad line reported; the second is refused whole
    by_name = {c.manifest: c for c in summary.completed}
    assert by_name["pending/a.csv"].items_queued == 2
    assert by_name["pending/a.csv"].rejected == [
        {
            "line": 5,
            "reason": "account: must be at least 2 bytes of UTF-8 and at most 100 characters, got 1 bytes in 1 characters",
        }
    ]
    assert by_name["pending/b.csv"].rejected[0] == {
        "line": 1,
        "reason": "CSV header must name an account or token column",
    }
    # AND the first manifest's items are queued
    assert sorted(map(str, queued_items(bulk))) == sorted(
        ["tok-1", str({"account": "+8613711112222", "account_type": 1002})]
    )


def test_a_line_nested_too_deep_to_parse_is_rejected_and_the_rest_queued(
    s3: S3Client, bucket: str, bulk: BulkRig
) -> None:
    # GIVEN a JSON-lines manifest with a line of JSON nested deeper than the parser goes
    lines = ['{"token": "tok-1"}', "[" * 100_000, '{"token": "tok-2"}']
    s3.put_object(Bucket=bucket, Key="pending/deep.jsonl", Body="\n".join(lines).encode())
    # WHEN the cleanup runs
    summary = runner(s3, bulk, bucket).run()
    # THEN that line is reported as not JSON, and the manifest is completed with the others
    (done,) = summary.completed
    assert done.rejected == [{"line": 2, "reason": "not valid JSON"}]
    assert sorted(queued_items(bulk)) == ["tok-1", "tok-2"]


def test_the_scheduled_handler_runs_the_cleanup(
    s3: S3Client,
    bucket: str,
    bulk: BulkRig,
    monkeypatch: pytest.MonkeyPatch,
    moto_endpoint: str,
) -> None:
    # GIVEN the function configured as the template does, and the canonical scheduler event
    monkeypatch.setenv("CLEANUP_BUCKET", bucket)
    monkeypatch.setenv("BULK_QUEUE_URL", bulk.queue_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    s3.put_object(Bucket=bucket, Key="pending/one.jsonl", Body=b'{"token": "t1"}\n')
    event = json.loads((EVENTS_DIR / "scheduler" / "cleanup.json").read_text())
    # WHEN invoked
    result = load_function("cleanup").lambda_handler(event, FakeLambdaContext(900_000))
    # THEN the manifest was done, and the answer says so
    assert result["completed"] == ["pending/one.jsonl"]
    assert result["ItemsQueued"] == 1
    assert queued_items(bulk) == ["t1"]


def test_a_manifest_is_a_job_counted_from_its_messages_and_named_in_its_report(
    s3: S3Client,
    bucket: str,
    bulk: BulkRig,
    verify: SqsEventSourceMapping,
    memory: Memory,
    emulator: TpnsEmulator,
    make_client: MakeClient,
) -> None:
    # GIVEN three tokens and two accounts bound, and a manifest of them with one bad line
    bind_pairs(make_client(), "m", 3)
    lines = [json.dumps({"token": f"mt{i}"}) for i in range(3)]
    lines += [json.dumps({"account": f"ma{i}", "account_type": 0}) for i in range(2)]
    lines.insert(2, "{not json")
    s3.put_object(Bucket=bucket, Key="pending/gdpr.jsonl", Body="\n".join(lines).encode())
    # WHEN the cleanup runs, then the bulk and verify functions drain their queues
    (done,) = runner(s3, bulk, bucket, memory=memory).run().completed
    bulk.esm().drain(max_seconds=60)
    verify.drain(max_seconds=60)
    # THEN the report names the job, and the job counts every queued item, applied and verified
    report = json.loads(
        s3.get_object(Bucket=bucket, Key="done/gdpr.jsonl.report.json")["Body"].read()
    )
    assert report["job_id"] == done.job_id
    job = memory.jobs().get(done.job_id).to_dict()
    assert (job["source"], job["operation"], job["operator_type"]) == ("cleanup", "unbind", None)
    assert job["state"] == "succeeded"
    assert job["items"] | {"total": 5, "accepted": 5, "pending": 0, "verified": 5} == job["items"]
    assert job["messages"] == {"total": 2, "done": 2}
    assert job["result"] == {
        "manifest": "pending/gdpr.jsonl",
        "report": "done/gdpr.jsonl.report.json",
        "lines_rejected": 1,
    }
    # AND TPNS no longer holds the tokens or the accounts
    assert emulator.bindings(ACCESS_ID) == {}


def test_a_manifest_uploaded_again_under_its_name_is_a_new_job(
    s3: S3Client, bucket: str, bulk: BulkRig, memory: Memory
) -> None:
    # GIVEN a manifest done once
    s3.put_object(Bucket=bucket, Key="pending/daily.jsonl", Body=b'{"token": "t1"}\n')
    (first,) = runner(s3, bulk, bucket, memory=memory).run().completed
    # WHEN another manifest is uploaded under the same name and the cleanup runs again
    s3.put_object(Bucket=bucket, Key="pending/daily.jsonl", Body=b'{"token": "t2"}\n')
    (second,) = runner(s3, bulk, bucket, memory=memory).run().completed
    # THEN it is a job of its own, its unbinds issued when it was written
    assert second.job_id != first.job_id
    assert second.issued_at >= first.issued_at
    assert [body["job_id"] for body in bulk.queued()] == [first.job_id, second.job_id]
