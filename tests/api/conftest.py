"""The API functions invoked in-process with the events/ fixtures, against real loopback parts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from mypy_boto3_sqs import SQSClient

from tests.support.api_events import ApiFunctions
from tests.support.apps import MULTI_APP_SECRET
from tests.support.aws import MakeSecret
from tests.support.lambda_runtime import configure_functions
from tests.support.memory import Memory
from tpns_emulator import TpnsEmulator


@pytest.fixture
def bulk_queue_url(sqs: SQSClient) -> str:
    """A fresh queue standing in for the bulk queue the jobs function sends to."""
    return sqs.create_queue(QueueName=f"bulk-{uuid.uuid4().hex[:8]}")["QueueUrl"]


@pytest.fixture
def api(
    emulator: TpnsEmulator,
    make_secret: MakeSecret,
    moto_endpoint: str,
    bulk_queue_url: str,
    memory: Memory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ApiFunctions]:
    """api(function, event) -> Answer, with the functions configured like the template does."""
    configure_functions(monkeypatch, make_secret(MULTI_APP_SECRET), emulator.url, moto_endpoint)
    monkeypatch.setenv("BULK_QUEUE_URL", bulk_queue_url)
    memory.configure(monkeypatch)
    functions = ApiFunctions()
    functions.reset()
    yield functions
    functions.reset()
