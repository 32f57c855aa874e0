"""Shared fixtures: real components on loopback (moto in server mode, the TPNS emulator)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local_stack.aws import start_in_thread
from tpns_account import AppCredentials, RetryPolicy, StaticCredentials, TpnsClient
from tpns_emulator import TpnsEmulator

ACCESS_ID = "1500001048"
# A canary: tests assert this string never shows up in logs, answers or exception text.
SECRET_KEY = "CANARY-5ecre7-k3y-d0-n0t-leak-7f3a9c"
IOS_ACCESS_ID = "1600002222"
IOS_SECRET_KEY = "CANARY-ios-5ecre7-k3y-41b7"
REGION = "us-east-1"


@pytest.fixture(scope="session", autouse=True)
def _aws_environment() -> Iterator[None]:
    """Fake AWS credentials so nothing can ever reach a real account."""
    saved = {k: os.environ.get(k) for k in _AWS_ENV}
    os.environ.update(_AWS_ENV)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto as the local stack runs it (``local_stack.aws``: DynamoDB kept atomic)."""
    server, url = start_in_thread()
    yield url
    server.shutdown()


@pytest.fixture
def secretsmanager(moto_endpoint: str) -> Any:
    return boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture
def make_secret(secretsmanager: Any, request: pytest.FixtureRequest) -> Any:
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


FAST_RETRY = RetryPolicy(base_delay=0.01, throttle_base_delay=0.02, max_delay=0.1, max_attempts=6)


@pytest.fixture
def credentials() -> AppCredentials:
    return AppCredentials(ACCESS_ID, SECRET_KEY)


@pytest.fixture
def make_client(emulator: TpnsEmulator, credentials: AppCredentials) -> Iterator[Any]:
    """Build clients against the emulator; every client made is closed after the test."""
    made: list[TpnsClient] = []

    def make(**overrides: Any) -> TpnsClient:
        options: dict[str, Any] = {
            "endpoint": emulator.url,
            "timeout": 1.0,
            "retry": FAST_RETRY,
            "time_budget": 5.0,
        }
        options.update(overrides)
        creds = options.pop("credentials", StaticCredentials(credentials))
        client = TpnsClient(creds, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Any) -> TpnsClient:
    return make_client()
