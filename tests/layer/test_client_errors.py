"""Every error class, from the emulator's real answers; permanent errors are not retried."""

from __future__ import annotations

import pytest

from tests.support.apps import ACCESS_ID
from tests.support.layer_clients import MakeClient
from tpns_account import (
    Account,
    AppCredentials,
    AppStateError,
    AuthError,
    BadRequestError,
    ConfigurationError,
    ItemsFailedError,
    RetryPolicy,
    StaticCredentials,
    ThrottledError,
    TokenAccounts,
    TpnsClient,
    UnknownAppError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from tpns_emulator import TpnsEmulator

ONE = [TokenAccounts("t1", (Account("aa"),))]


def test_wrong_secret_key_is_an_auth_error(make_client: MakeClient) -> None:
    # GIVEN a client signing with a key TPNS does not know for the app
    client = make_client(credentials=StaticCredentials(AppCredentials(ACCESS_ID, "wrong-key")))
    # WHEN it binds
    with pytest.raises(AuthError) as caught:
        client.bind(ONE)
    # THEN it is a permanent auth error with TPNS's code and status
    assert caught.value.code == 1008003
    assert caught.value.http_status == 401
    assert not caught.value.retryable


def test_unknown_access_id_is_a_configuration_error(make_client: MakeClient) -> None:
    # GIVEN a client for an access id TPNS does not know (as on the wrong regional host)
    client = make_client(credentials=StaticCredentials(AppCredentials("1599999999", "k")))
    # WHEN it binds
    with pytest.raises(ConfigurationError) as caught:
        client.bind(ONE)
    # THEN it is a configuration error that points at the regional host
    assert caught.value.code == 1008035
    assert "regional host" in str(caught.value)


@pytest.mark.parametrize(
    ("state", "code"), [("unpaid", 1008030), ("destroyed", 1008031), ("undeployed", 1010001)]
)
def test_app_state_failures_are_app_state_errors(
    client: TpnsClient, emulator: TpnsEmulator, state: str, code: int
) -> None:
    # GIVEN the app is in a state where TPNS refuses it
    emulator.set_app_state(ACCESS_ID, state)
    # WHEN the client binds
    with pytest.raises(AppStateError) as caught:
        client.bind(ONE)
    # THEN it is an app state error with the state's code, and it is not retried
    assert caught.value.code == code
    assert emulator.stats.requests == 1  # permanent: not retried


def test_tpns_parameter_rejection_is_a_bad_request(
    make_client: MakeClient, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS refuses a parameter of the request
    client = make_client()
    emulator.faults.add("error", code=1008007, times=1)
    # WHEN the client binds
    with pytest.raises(BadRequestError) as caught:
        client.bind(ONE)
    # THEN it is a bad request with TPNS's code, sent once only
    assert caught.value.code == 1008007
    assert emulator.stats.requests == 1


def test_throttling_that_never_ends_is_a_throttled_error(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS throttles every call
    emulator.faults.add("error", code=1008028)
    # WHEN the client binds
    with pytest.raises(ThrottledError) as caught:
        client.bind(ONE)
    # THEN it gives up after every attempt with a retryable throttled error
    assert caught.value.retryable
    assert caught.value.attempts == 6


def test_http_429_carries_retry_after(make_client: MakeClient, emulator: TpnsEmulator) -> None:
    # GIVEN a client that tries once, and TPNS answering HTTP 429
    client = make_client(retry=RetryPolicy(max_attempts=1))
    emulator.faults.add("http", status=429)
    # WHEN it binds
    with pytest.raises(ThrottledError) as caught:
        client.bind(ONE)
    # THEN it is a throttled error carrying the HTTP status
    assert caught.value.http_status == 429


def test_server_errors_that_persist_are_unavailable_errors(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS answers HTTP 503 to every call
    emulator.faults.add("http", status=503)
    # WHEN the client binds
    with pytest.raises(UpstreamUnavailableError) as caught:
        client.bind(ONE)
    # THEN it is an unavailable error carrying the status
    assert caught.value.http_status == 503


def test_internal_error_code_is_transient(client: TpnsClient, emulator: TpnsEmulator) -> None:
    # GIVEN TPNS answers its internal error code to every call
    emulator.faults.add("error", code=1008004)
    # WHEN the client binds
    with pytest.raises(UpstreamUnavailableError) as caught:
        client.bind(ONE)
    # THEN it was retried as transient, every attempt, then reported unavailable
    assert caught.value.code == 1008004
    assert caught.value.attempts == 6


def test_dropped_connections_are_unavailable_errors(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS drops every connection without answering
    emulator.faults.add("drop")
    # WHEN the client binds
    # THEN it is an unavailable error saying TPNS could not be reached
    with pytest.raises(UpstreamUnavailableError, match="could not reach TPNS"):
        client.bind(ONE)


def test_nothing_listening_is_an_unavailable_error(make_client: MakeClient) -> None:
    # GIVEN a client pointed at a port nothing listens on
    client = make_client(endpoint="http://127.0.0.1:9", time_budget=0.5)
    # WHEN it binds
    # THEN it is an unavailable error
    with pytest.raises(UpstreamUnavailableError):
        client.bind(ONE)


def test_hanging_server_is_a_timeout_error(make_client: MakeClient, emulator: TpnsEmulator) -> None:
    # GIVEN TPNS hangs longer than the client's timeout and time budget
    client = make_client(timeout=0.2, time_budget=0.5)
    emulator.faults.add("hang", seconds=1.0)
    # WHEN the client binds
    # THEN it is a timeout error
    with pytest.raises(UpstreamTimeoutError):
        client.bind(ONE)


def test_wrong_base_path_is_a_configuration_error(
    make_client: MakeClient, emulator: TpnsEmulator
) -> None:
    # GIVEN an endpoint whose path is not TPNS's (it answers HTTP 404)
    client = make_client(endpoint=emulator.url + "/not-tpns")
    # WHEN the client binds
    # THEN it is a configuration error naming the 404
    with pytest.raises(ConfigurationError, match="HTTP 404"):
        client.bind(ONE)


def test_per_item_failures_raise_only_when_asked(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS refuses the one token as invalid
    emulator.invalid_tokens.add("t1")
    # WHEN the client binds it
    result = client.bind(ONE)
    # THEN the result reports the item failed, without raising
    assert result.failed[0].code == 1008006
    # AND raising for failures names the item and its code
    with pytest.raises(ItemsFailedError, match=r"1 item\(s\) failed: t1 \(1008006\)"):
        result.raise_for_failures()


def test_unknown_app_fails_before_anything_is_sent(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN a client whose credentials know only the default app
    # WHEN it binds for the ios app
    with pytest.raises(UnknownAppError, match="unknown app 'ios'; known apps: default"):
        client.bind(ONE, app="ios")
    # THEN it fails naming the known apps, and nothing reached TPNS
    assert emulator.stats.requests == 0


def test_without_raising_call_errors_are_reported_per_item(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN 25 tokens (two calls) and TPNS failing every batchoperate call
    emulator.faults.add("http", status=500, path="batchoperate")
    tokens = [TokenAccounts(f"t{i}", (Account("aa"),)) for i in range(25)]
    # WHEN they are bound without raising on errors
    result = client.bind(tokens, raise_on_error=False)
    # THEN every item is reported errored, with a retryable upstream error
    assert len(result.errored) == 25
    assert all(isinstance(i.error, UpstreamError) and i.error.retryable for i in result.errored)
