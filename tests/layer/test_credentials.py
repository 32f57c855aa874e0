"""Credentials from Secrets Manager (moto in server mode): shapes, caching, rotation."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.conftest import ACCESS_ID, IOS_ACCESS_ID, IOS_SECRET_KEY, REGION, SECRET_KEY
from tpns_account import (
    Account,
    AppCredentials,
    AuthError,
    CredentialsError,
    SecretFormatError,
    SecretsManagerCredentials,
    TokenAccounts,
    UnknownAppError,
    parse_secret,
)
from tpns_emulator import TpnsEmulator

SINGLE = {"access_id": ACCESS_ID, "secret_key": SECRET_KEY}
MULTI = {
    "default_app": "android",
    "apps": {
        "android": {"access_id": ACCESS_ID, "secret_key": SECRET_KEY},
        "ios": {"access_id": IOS_ACCESS_ID, "secret_key": IOS_SECRET_KEY},
    },
}


class CountingClient:
    """A real boto3 client to the moto server that counts GetSecretValue calls."""

    def __init__(self, endpoint: str) -> None:
        self._client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=REGION)
        self.reads = 0

    def get_secret_value(self, **kwargs: Any) -> Any:
        self.reads += 1
        return self._client.get_secret_value(**kwargs)


def provider(
    moto_endpoint: str, name: str, max_age: int = 300
) -> tuple[SecretsManagerCredentials, CountingClient]:
    counting = CountingClient(moto_endpoint)
    return SecretsManagerCredentials(name, max_age=max_age, boto3_client=counting), counting  # type: ignore[arg-type]


def test_single_app_secret_serves_the_default_app(make_secret: Any, moto_endpoint: str) -> None:
    creds, _ = provider(moto_endpoint, make_secret(SINGLE))
    assert creds.get() == AppCredentials(ACCESS_ID, SECRET_KEY)
    assert creds.get("default") == creds.get()
    assert creds.app_names() == ["default"]


def test_multi_app_secret_serves_each_app_and_its_default(
    make_secret: Any, moto_endpoint: str
) -> None:
    creds, _ = provider(moto_endpoint, make_secret(MULTI))
    assert creds.get().access_id == ACCESS_ID
    assert creds.get("ios").access_id == IOS_ACCESS_ID
    assert creds.app_names() == ["android", "ios"]


def test_unknown_app_lists_the_app_names(make_secret: Any, moto_endpoint: str) -> None:
    creds, _ = provider(moto_endpoint, make_secret(MULTI))
    with pytest.raises(UnknownAppError, match="unknown app 'web'; known apps: android, ios"):
        creds.get("web")


def test_secret_is_read_once_then_served_from_cache(make_secret: Any, moto_endpoint: str) -> None:
    creds, counting = provider(moto_endpoint, make_secret(MULTI))
    for _ in range(5):
        creds.get("ios")
        creds.get()
    assert counting.reads == 1


def test_cache_expires_after_max_age(make_secret: Any, moto_endpoint: str) -> None:
    creds, counting = provider(moto_endpoint, make_secret(SINGLE), max_age=0)
    creds.get()
    creds.get()
    assert counting.reads == 2


def test_missing_secret_is_a_credentials_error_naming_it(moto_endpoint: str) -> None:
    creds, _ = provider(moto_endpoint, "tpns/does-not-exist")
    with pytest.raises(
        CredentialsError, match=r"could not read the TPNS secret \(ResourceNotFoundException\)"
    ) as caught:
        creds.get()
    assert not caught.value.retryable


def test_unreachable_secrets_manager_is_a_retryable_credentials_error() -> None:
    creds = SecretsManagerCredentials(
        "tpns/x",
        boto3_client=boto3.client(
            "secretsmanager", endpoint_url="http://127.0.0.1:9", region_name=REGION
        ),
    )
    with pytest.raises(CredentialsError, match="EndpointConnectionError") as caught:
        creds.get()
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (json.dumps({"access_id": ACCESS_ID}), "secret.secret_key must be a non-empty string"),
        (json.dumps({"apps": {}}), "'apps' must be a non-empty object"),
        (json.dumps({"apps": MULTI["apps"]}), "must name 'default_app'"),
        (json.dumps({**MULTI, "default_app": "web"}), "default_app must be one of: android, ios"),
    ],
)
def test_malformed_secrets_are_refused_without_quoting_them(value: str, message: str) -> None:
    with pytest.raises(SecretFormatError, match=message) as caught:
        parse_secret(value)
    assert SECRET_KEY not in str(caught.value)


def test_numeric_access_id_is_accepted() -> None:
    apps = parse_secret({"access_id": 1500001048, "secret_key": "k"})
    assert apps.get(None).access_id == "1500001048"


def test_rotation_is_picked_up_after_one_auth_failure(
    make_secret: Any,
    moto_endpoint: str,
    secretsmanager: Any,
    make_client: Any,
    emulator: TpnsEmulator,
) -> None:
    # GIVEN a client whose cached secret is about to go stale
    name = make_secret(SINGLE)
    creds, counting = provider(moto_endpoint, name)
    client = make_client(credentials=creds)
    client.bind([TokenAccounts("t1", (Account("aa"),))])
    # WHEN the key is rotated in TPNS and in the secret
    rotated = "CANARY-rotated-k3y-9d2e"
    emulator.set_secret(ACCESS_ID, rotated)
    secretsmanager.put_secret_value(
        SecretId=name, SecretString=json.dumps({"access_id": ACCESS_ID, "secret_key": rotated})
    )
    # THEN the next call fails once, re-reads the secret, and succeeds without a restart
    result = client.bind([TokenAccounts("t2", (Account("bb"),))])
    assert result.ok
    assert counting.reads == 2
    assert emulator.tokens_of(ACCESS_ID, "bb") == ["t2"]


def test_rotation_is_picked_up_by_every_chunk_of_a_large_request(
    make_secret: Any,
    moto_endpoint: str,
    secretsmanager: Any,
    make_client: Any,
    emulator: TpnsEmulator,
) -> None:
    # GIVEN a cached secret, then a rotation in TPNS and in Secrets Manager
    name = make_secret(SINGLE)
    creds, counting = provider(moto_endpoint, name)
    client = make_client(credentials=creds, max_concurrency=8)
    client.bind([TokenAccounts("t0", (Account("aa"),))])
    rotated = "CANARY-rotated-again-k3y-77aa"
    emulator.set_secret(ACCESS_ID, rotated)
    secretsmanager.put_secret_value(
        SecretId=name, SecretString=json.dumps({"access_id": ACCESS_ID, "secret_key": rotated})
    )
    # WHEN 160 tokens (8 concurrent chunks, all failing auth at once) are bound
    result = client.bind([TokenAccounts(f"t{i:03d}", (Account(f"a{i:03d}"),)) for i in range(160)])
    # THEN one re-read serves every chunk and every item is accepted
    assert result.ok
    assert counting.reads == 2


def test_auth_failure_after_refresh_is_final(
    make_secret: Any, moto_endpoint: str, make_client: Any, emulator: TpnsEmulator
) -> None:
    # GIVEN a secret that TPNS does not accept, even freshly read
    creds, counting = provider(
        moto_endpoint, make_secret({"access_id": ACCESS_ID, "secret_key": "nope"})
    )
    client = make_client(credentials=creds)
    with pytest.raises(AuthError):
        client.bind([TokenAccounts("t1", (Account("aa"),))])
    # THEN it re-read the secret exactly once and sent exactly two calls
    assert counting.reads == 2
    assert emulator.stats.requests == 2


def test_refresh_storms_are_collapsed(make_secret: Any, moto_endpoint: str) -> None:
    creds, counting = provider(moto_endpoint, make_secret(SINGLE))
    creds.get()
    for _ in range(10):
        creds.refresh()
        creds.get()
    assert counting.reads == 2
