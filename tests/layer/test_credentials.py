"""Credentials from Secrets Manager (moto in server mode): shapes, caching, rotation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mypy_boto3_secretsmanager import SecretsManagerClient
from mypy_boto3_secretsmanager.type_defs import GetSecretValueResponseTypeDef

from tests.support.apps import (
    ACCESS_ID,
    IOS_ACCESS_ID,
    MULTI_APP_SECRET,
    SECRET_KEY,
    SINGLE_APP_SECRET,
)
from tests.support.aws import MakeSecret, secretsmanager_client
from tests.support.layer_clients import MakeClient
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


class CountingClient:
    """A real boto3 client to the moto server that counts GetSecretValue calls."""

    def __init__(self, endpoint: str) -> None:
        self._client = secretsmanager_client(endpoint)
        self.reads = 0

    def get_secret_value(self, **kwargs: Any) -> GetSecretValueResponseTypeDef:
        self.reads += 1
        return self._client.get_secret_value(**kwargs)


def provider(
    moto_endpoint: str, name: str, max_age: int = 300
) -> tuple[SecretsManagerCredentials, CountingClient]:
    """Credentials read from the secret ``name``, through a client that counts the reads."""
    counting = CountingClient(moto_endpoint)
    return SecretsManagerCredentials(name, max_age=max_age, boto3_client=counting), counting  # type: ignore[arg-type]


def rotate(
    secretsmanager: SecretsManagerClient, emulator: TpnsEmulator, name: str, key: str
) -> None:
    """Rotate the app's key in TPNS, then in the secret, as a rotation does."""
    emulator.set_secret(ACCESS_ID, key)
    secretsmanager.put_secret_value(
        SecretId=name, SecretString=json.dumps({"access_id": ACCESS_ID, "secret_key": key})
    )


def test_single_app_secret_serves_the_default_app(
    make_secret: MakeSecret, moto_endpoint: str
) -> None:
    # GIVEN a secret holding one app's credentials
    creds, _ = provider(moto_endpoint, make_secret(SINGLE_APP_SECRET))
    # WHEN its credentials and app names are asked for
    default = creds.get()
    # THEN the one app is the default, called "default"
    assert default == AppCredentials(ACCESS_ID, SECRET_KEY)
    assert creds.get("default") == default
    assert creds.app_names() == ["default"]


def test_multi_app_secret_serves_each_app_and_its_default(
    make_secret: MakeSecret, moto_endpoint: str
) -> None:
    # GIVEN a secret holding two apps, android the default
    creds, _ = provider(moto_endpoint, make_secret(MULTI_APP_SECRET))
    # WHEN the default app and the ios app are asked for
    default, ios = creds.get(), creds.get("ios")
    # THEN each gets its own credentials, and both names are known
    assert default.access_id == ACCESS_ID
    assert ios.access_id == IOS_ACCESS_ID
    assert creds.app_names() == ["android", "ios"]


def test_unknown_app_lists_the_app_names(make_secret: MakeSecret, moto_endpoint: str) -> None:
    # GIVEN a secret holding the android and ios apps
    creds, _ = provider(moto_endpoint, make_secret(MULTI_APP_SECRET))
    # WHEN another app is asked for
    # THEN the error lists the apps there are
    with pytest.raises(UnknownAppError, match="unknown app 'web'; known apps: android, ios"):
        creds.get("web")


def test_secret_is_read_once_then_served_from_cache(
    make_secret: MakeSecret, moto_endpoint: str
) -> None:
    # GIVEN credentials cached for 300 s
    creds, counting = provider(moto_endpoint, make_secret(MULTI_APP_SECRET))
    # WHEN two apps are asked for five times each
    for _ in range(5):
        creds.get("ios")
        creds.get()
    # THEN the secret was read once
    assert counting.reads == 1


def test_cache_expires_after_max_age(make_secret: MakeSecret, moto_endpoint: str) -> None:
    # GIVEN credentials whose cache expires at once
    creds, counting = provider(moto_endpoint, make_secret(SINGLE_APP_SECRET), max_age=0)
    # WHEN asked for twice
    creds.get()
    creds.get()
    # THEN the secret was read twice
    assert counting.reads == 2


def test_missing_secret_is_a_credentials_error_naming_it(moto_endpoint: str) -> None:
    # GIVEN credentials from a secret that does not exist
    creds, _ = provider(moto_endpoint, "tpns/does-not-exist")
    # WHEN they are asked for
    with pytest.raises(
        CredentialsError, match=r"could not read the TPNS secret \(ResourceNotFoundException\)"
    ) as caught:
        creds.get()
    # THEN the error names the cause, and retrying would not help
    assert not caught.value.retryable


def test_unreachable_secrets_manager_is_a_retryable_credentials_error() -> None:
    # GIVEN credentials from a Secrets Manager nothing listens for
    creds = SecretsManagerCredentials(
        "tpns/x", boto3_client=secretsmanager_client("http://127.0.0.1:9")
    )
    # WHEN they are asked for
    with pytest.raises(CredentialsError, match="EndpointConnectionError") as caught:
        creds.get()
    # THEN the error names the connection failure, and may be retried
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("not json", "not valid JSON", id="not-json"),
        pytest.param("[" * 100_000, "not valid JSON", id="nested-too-deep-to-parse"),
        pytest.param("[]", "must be a JSON object", id="not-an-object"),
        pytest.param(
            json.dumps({"access_id": ACCESS_ID}),
            "secret.secret_key must be a non-empty string",
            id="no-secret-key",
        ),
        pytest.param(json.dumps({"apps": {}}), "'apps' must be a non-empty object", id="no-apps"),
        pytest.param(
            json.dumps({"apps": MULTI_APP_SECRET["apps"]}),
            "must name 'default_app'",
            id="no-default-app",
        ),
        pytest.param(
            json.dumps({**MULTI_APP_SECRET, "default_app": "web"}),
            "default_app must be one of: android, ios",
            id="unknown-default-app",
        ),
    ],
)
def test_malformed_secrets_are_refused_without_quoting_them(value: str, message: str) -> None:
    # GIVEN a secret value of the wrong shape
    # WHEN it is parsed
    with pytest.raises(SecretFormatError, match=message) as caught:
        parse_secret(value)
    # THEN the error says what is wrong, and does not quote the key
    assert SECRET_KEY not in str(caught.value)


def test_numeric_access_id_is_accepted() -> None:
    # GIVEN a secret whose access id is a JSON number
    value = {"access_id": 1500001048, "secret_key": "k"}
    # WHEN it is parsed
    apps = parse_secret(value)
    # THEN the access id is its digits
    assert apps.get(None).access_id == "1500001048"


def test_rotation_is_picked_up_after_one_auth_failure(
    make_secret: MakeSecret,
    moto_endpoint: str,
    secretsmanager: SecretsManagerClient,
    make_client: MakeClient,
    emulator: TpnsEmulator,
) -> None:
    # GIVEN a client whose cached secret is about to go stale
    name = make_secret(SINGLE_APP_SECRET)
    creds, counting = provider(moto_endpoint, name)
    client = make_client(credentials=creds)
    client.bind([TokenAccounts("t1", (Account("aa"),))])
    # WHEN the key is rotated in TPNS and in the secret
    rotate(secretsmanager, emulator, name, "CANARY-rotated-k3y-9d2e")
    # AND the client binds again
    result = client.bind([TokenAccounts("t2", (Account("bb"),))])
    # THEN the call fails once, re-reads the secret, and succeeds without a restart
    assert result.ok
    assert counting.reads == 2
    assert emulator.tokens_of(ACCESS_ID, "bb") == ["t2"]


def test_rotation_is_picked_up_by_every_chunk_of_a_large_request(
    make_secret: MakeSecret,
    moto_endpoint: str,
    secretsmanager: SecretsManagerClient,
    make_client: MakeClient,
    emulator: TpnsEmulator,
) -> None:
    # GIVEN a cached secret, then a rotation in TPNS and in Secrets Manager
    name = make_secret(SINGLE_APP_SECRET)
    creds, counting = provider(moto_endpoint, name)
    client = make_client(credentials=creds, max_concurrency=8)
    client.bind([TokenAccounts("t0", (Account("aa"),))])
    rotate(secretsmanager, emulator, name, "CANARY-rotated-again-k3y-77aa")
    # WHEN 160 tokens (8 concurrent chunks, all failing auth at once) are bound
    result = client.bind([TokenAccounts(f"t{i:03d}", (Account(f"a{i:03d}"),)) for i in range(160)])
    # THEN one re-read serves every chunk and every item is accepted
    assert result.ok
    assert counting.reads == 2


def test_auth_failure_after_refresh_is_final(
    make_secret: MakeSecret, moto_endpoint: str, make_client: MakeClient, emulator: TpnsEmulator
) -> None:
    # GIVEN a secret that TPNS does not accept, even freshly read
    creds, counting = provider(
        moto_endpoint, make_secret({"access_id": ACCESS_ID, "secret_key": "nope"})
    )
    client = make_client(credentials=creds)
    # WHEN the client binds
    with pytest.raises(AuthError):
        client.bind([TokenAccounts("t1", (Account("aa"),))])
    # THEN it re-read the secret exactly once and sent exactly two calls
    assert counting.reads == 2
    assert emulator.stats.requests == 2


def test_refresh_storms_are_collapsed(make_secret: MakeSecret, moto_endpoint: str) -> None:
    # GIVEN credentials read once
    creds, counting = provider(moto_endpoint, make_secret(SINGLE_APP_SECRET))
    creds.get()
    # WHEN ten refreshes are asked for in a row, each followed by a read
    for _ in range(10):
        creds.refresh()
        creds.get()
    # THEN the secret was read again only once
    assert counting.reads == 2
