"""The bundle's memory on moto: the template's jobs and ledger tables and the verify queue.

Tables are created from template.yaml's own definitions (``local_stack.resources``), with
names unique to the test, so every test starts from empty tables.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from mypy_boto3_dynamodb import DynamoDBClient
from mypy_boto3_sqs import SQSClient

from local_stack.resources import TableSpec, declared
from local_stack.template import Template
from tests.support.bulk import create_queue_with_dlq, drain_queue
from tests.support.paths import TEMPLATE_PATH
from tpns_api.jobs.store import JobStore
from tpns_api.ledger.store import LedgerStore
from tpns_api.store.dynamo import Table

# Verification messages are not delayed in tests: the test decides when they are processed.
VERIFY_MAX_RECEIVE_COUNT = 3


@cache
def template_tables() -> dict[str, TableSpec]:
    return declared(Template(TEMPLATE_PATH)).tables


def create_table(dynamodb: DynamoDBClient, logical_id: str) -> str:
    """A table shaped like the template's ``logical_id``, uniquely named; its name."""
    spec = template_tables()[logical_id]
    name = f"{logical_id}-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(TableName=name, **spec.definition)
    if spec.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": spec.ttl_attribute, "Enabled": True},
        )
    return name


@dataclass
class Memory:
    """The jobs table, ledger table and verify queue a test's functions are configured with."""

    dynamodb: DynamoDBClient
    sqs: SQSClient
    jobs_table: str
    ledger_table: str
    verify_queue_url: str
    verify_dlq_url: str

    def configure(self, monkeypatch: pytest.MonkeyPatch, *, ledger: bool = True) -> None:
        """The environment the template gives the functions (``LedgerMode`` on or off)."""
        monkeypatch.setenv("JOBS_TABLE", self.jobs_table)
        monkeypatch.setenv("JOB_RETENTION_DAYS", "30")
        if ledger:
            monkeypatch.setenv("LEDGER_TABLE", self.ledger_table)
            monkeypatch.setenv("VERIFY_QUEUE_URL", self.verify_queue_url)
            monkeypatch.setenv("VERIFY_DELAY_S", "0")
        else:
            for name in ("LEDGER_TABLE", "VERIFY_QUEUE_URL", "VERIFY_DELAY_S"):
                monkeypatch.delenv(name, raising=False)

    def jobs(self) -> JobStore:
        return JobStore(Table(self.dynamodb, self.jobs_table), retention_days=30)

    def ledger(self) -> LedgerStore:
        return LedgerStore(Table(self.dynamodb, self.ledger_table))

    def verify_requests(self) -> list[dict[str, Any]]:
        """The verification requests waiting on the verify queue (taken off it)."""
        import json

        return [json.loads(m["Body"]) for m in drain_queue(self.sqs, self.verify_queue_url)]


def create_memory(dynamodb: DynamoDBClient, sqs: SQSClient) -> Memory:
    verify_url, verify_dlq = create_queue_with_dlq(sqs, VERIFY_MAX_RECEIVE_COUNT)
    return Memory(
        dynamodb,
        sqs,
        create_table(dynamodb, "JobsTable"),
        create_table(dynamodb, "LedgerTable"),
        verify_url,
        verify_dlq,
    )
