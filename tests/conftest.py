"""Shared fixtures: real components on loopback (moto in server mode, the TPNS emulator)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from mypy_boto3_dynamodb import DynamoDBClient
from mypy_boto3_secretsmanager import SecretsManagerClient
from mypy_boto3_sqs import SQSClient

from local_stack.aws import start_in_thread
from local_stack.esm import SqsEventSourceMapping
from tests.support.api_events import ApiFunctions
from tests.support.apps import (
    ACCESS_ID,
    IOS_ACCESS_ID,
    IOS_SECRET_KEY,
    MULTI_APP_SECRET,
    SECRET_KEY,
)
from tests.support.aws import (
    FAKE_AWS_ENVIRONMENT,
    MakeSecret,
    dynamodb_client,
    s3_client,
    secretsmanager_client,
    sqs_client,
)
from tests.support.bulk import MAX_RECEIVE_COUNT, BulkRig, create_queue_with_dlq
from tests.support.lambda_runtime import configure_functions, load_function
from tests.support.layer_clients import CLIENT_DEFAULTS, MakeClient
from tests.support.memory import Memory, create_memory
from tpns_account import AppCredentials, StaticCredentials, TpnsClient
from tpns_emulator import TpnsEmulator


@pytest.fixture(scope="session", autouse=True)
def _aws_environment() -> Iterator[None]:
    """Fake AWS credentials so nothing can ever reach a real account."""
    saved = {k: os.environ.get(k) for k in FAKE_AWS_ENVIRONMENT}
    os.environ.update(FAKE_AWS_ENVIRONMENT)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto as the local stack runs it (``local_stack.aws``: DynamoDB kept atomic)."""
    server, url = start_in_thread()
    yield url
    server.shutdown()


@pytest.fixture
def secretsmanager(moto_endpoint: str) -> SecretsManagerClient:
    return secretsmanager_client(moto_endpoint)


@pytest.fixture
def sqs(moto_endpoint: str) -> SQSClient:
    return sqs_client(moto_endpoint)


@pytest.fixture
def dynamodb(moto_endpoint: str) -> DynamoDBClient:
    return dynamodb_client(moto_endpoint)


@pytest.fixture
def memory(dynamodb: DynamoDBClient, sqs: SQSClient) -> Memory:
    """Fresh jobs and ledger tables and verify queue, shaped as the template declares them."""
    return create_memory(dynamodb, sqs)


@pytest.fixture
def make_secret(secretsmanager: SecretsManagerClient, request: pytest.FixtureRequest) -> MakeSecret:
    """Create a uniquely named secret holding ``value``; returns its name."""
    counter = iter(range(1_000_000))

    def make(value: dict[str, Any]) -> str:
        name = f"tpns/{request.node.name}/{next(counter)}"
        secretsmanager.create_secret(Name=name, SecretString=json.dumps(value))
        return name

    return make


@pytest.fixture(scope="session")
def _emulator() -> Iterator[TpnsEmulator]:
    with TpnsEmulator(apps={ACCESS_ID: SECRET_KEY, IOS_ACCESS_ID: IOS_SECRET_KEY}) as emulator:
        yield emulator


@pytest.fixture
def emulator(_emulator: TpnsEmulator) -> Iterator[TpnsEmulator]:
    """The shared emulator, reset to a clean state (and clean apps) for each test."""
    _emulator.reset()
    _emulator.add_app(ACCESS_ID, SECRET_KEY)
    _emulator.add_app(IOS_ACCESS_ID, IOS_SECRET_KEY)
    yield _emulator
    _emulator.reset()


@pytest.fixture
def credentials() -> AppCredentials:
    return AppCredentials(ACCESS_ID, SECRET_KEY)


@pytest.fixture
def make_client(emulator: TpnsEmulator, credentials: AppCredentials) -> Iterator[MakeClient]:
    """Build clients against the emulator; every client made is closed after the test."""
    made: list[TpnsClient] = []

    def make(**overrides: Any) -> TpnsClient:
        options: dict[str, Any] = {"endpoint": emulator.url, **CLIENT_DEFAULTS}
        options.update(overrides)
        creds = options.pop("credentials", StaticCredentials(credentials))
        client = TpnsClient(creds, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: MakeClient) -> TpnsClient:
    return make_client()


@pytest.fixture
def bulk(
    emulator: TpnsEmulator,
    make_secret: MakeSecret,
    moto_endpoint: str,
    sqs: SQSClient,
    memory: Memory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[BulkRig]:
    """The bulk function, configured like the template does, on a fresh queue and DLQ."""
    queue_url, dlq_url = create_queue_with_dlq(sqs, MAX_RECEIVE_COUNT)
    configure_functions(monkeypatch, make_secret(MULTI_APP_SECRET), emulator.url, moto_endpoint)
    memory.configure(monkeypatch)
    monkeypatch.setenv("BULK_MAX_RECEIVE_COUNT", str(MAX_RECEIVE_COUNT))
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", dlq_url)
    module = load_function("bulk")
    module.processor.cache_clear()
    yield BulkRig(sqs, queue_url, dlq_url, module)
    module.processor.cache_clear()


@pytest.fixture
def bulk_ledger_off(bulk: BulkRig, memory: Memory, monkeypatch: pytest.MonkeyPatch) -> BulkRig:
    """The bulk function deployed with ``LedgerMode`` off (v1.0's pass-through; jobs kept)."""
    memory.configure(monkeypatch, ledger=False)
    bulk.module.processor.cache_clear()
    return bulk


@pytest.fixture
def verify(bulk: BulkRig, memory: Memory) -> Iterator[SqsEventSourceMapping]:
    """The verify function on the test's verify queue (configured by ``bulk``'s environment)."""
    module = load_function("verify")
    module.verifier.cache_clear()
    yield SqsEventSourceMapping(
        memory.sqs, memory.verify_queue_url, module.lambda_handler, function_name="verify"
    )
    module.verifier.cache_clear()


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


@pytest.fixture
def export_bucket(
    bulk: BulkRig, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A bucket for the bulk function's exports (the template's manifests bucket); its name."""
    name = f"exports-{uuid.uuid4().hex[:10]}"
    s3_client(moto_endpoint).create_bucket(Bucket=name)
    monkeypatch.setenv("EXPORT_BUCKET", name)
    monkeypatch.setenv("BULK_QUEUE_URL", bulk.queue_url)
    bulk.module.processor.cache_clear()
    yield name
    bulk.module.processor.cache_clear()
