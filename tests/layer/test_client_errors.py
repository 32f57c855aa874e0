"""Every error class, from the emulator's real answers; permanent errors are not retried."""

from __future__ import annotations

import pytest

from tests.conftest import ACCESS_ID
from tpns_account import (
    Account,
    AppCredentials,
    AppStateError,
    AuthError,
    BadRequestError,
    ConfigurationError,
    ItemsFailedError,
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


def test_wrong_secret_key_is_an_auth_error(make_client, emulator: TpnsEmulator) -> None:  # type: ignore[no-untyped-def]
    client = make_client(credentials=StaticCredentials(AppCredentials(ACCESS_ID, "wrong-key")))
    with pytest.raises(AuthError) as caught:
        client.bind(ONE)
    assert caught.value.code == 1008003
    assert caught.value.http_status == 401
    assert not caught.value.retryable


def test_unknown_access_id_is_a_configuration_error(make_client, emulator: TpnsEmulator) -> None:  # type: ignore[no-untyped-def]
    client = make_client(credentials=StaticCredentials(AppCredentials("1599999999", "k")))
    with pytest.raises(ConfigurationError) as caught:
        client.bind(ONE)
    assert caught.value.code == 1008035
    assert "regional host" in str(caught.value)


@pytest.mark.parametrize(
    ("state", "code"), [("unpaid", 1008030), ("destroyed", 1008031), ("undeployed", 1010001)]
)
def test_app_state_failures_are_app_state_errors(
    client: TpnsClient, emulator: TpnsEmulator, state: str, code: int
) -> None:
    emulator.set_app_state(ACCESS_ID, state)
    with pytest.raises(AppStateError) as caught:
        client.bind(ONE)
    assert caught.value.code == code
    assert emulator.stats.requests == 1  # permanent: not retried


def test_tpns_parameter_rejection_is_a_bad_request(make_client, emulator: TpnsEmulator) -> None:  # type: ignore[no-untyped-def]
    # GIVEN TPNS refuses a parameter of the request
    client = make_client()
    emulator.faults.add("error", code=1008007, times=1)
    with pytest.raises(BadRequestError) as caught:
        client.bind(ONE)
    assert caught.value.code == 1008007
    assert emulator.stats.requests == 1


def test_throttling_that_never_ends_is_a_throttled_error(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    emulator.faults.add("error", code=1008028)
    with pytest.raises(ThrottledError) as caught:
        client.bind(ONE)
    assert caught.value.retryable
    assert caught.value.attempts == 6


def test_http_429_carries_retry_after(make_client, emulator: TpnsEmulator) -> None:  # type: ignore[no-untyped-def]
    from tpns_account import RetryPolicy

    client = make_client(retry=RetryPolicy(max_attempts=1))
    emulator.faults.add("http", status=429)
    with pytest.raises(ThrottledError) as caught:
        client.bind(ONE)
    assert caught.value.http_status == 429


def test_server_errors_that_persist_are_unavailable_errors(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    emulator.faults.add("http", status=503)
    with pytest.raises(UpstreamUnavailableError) as caught:
        client.bind(ONE)
    assert caught.value.http_status == 503


def test_internal_error_code_is_transient(client: TpnsClient, emulator: TpnsEmulator) -> None:
    emulator.faults.add("error", code=1008004)
    with pytest.raises(UpstreamUnavailableError) as caught:
        client.bind(ONE)
    assert caught.value.code == 1008004
    assert caught.value.attempts == 6


def test_dropped_connections_are_unavailable_errors(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    emulator.faults.add("drop")
    with pytest.raises(UpstreamUnavailableError, match="could not reach TPNS"):
        client.bind(ONE)


def test_nothing_listening_is_an_unavailable_error(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(endpoint="http://127.0.0.1:9", time_budget=0.5)
    with pytest.raises(UpstreamUnavailableError):
        client.bind(ONE)


def test_hanging_server_is_a_timeout_error(make_client, emulator: TpnsEmulator) -> None:  # type: ignore[no-untyped-def]
    client = make_client(timeout=0.2, time_budget=0.5)
    emulator.faults.add("hang", seconds=1.0)
    with pytest.raises(UpstreamTimeoutError):
        client.bind(ONE)


def test_wrong_base_path_is_a_configuration_error(make_client, emulator: TpnsEmulator) -> None:  # type: ignore[no-untyped-def]
    client = make_client(endpoint=emulator.url + "/not-tpns")
    with pytest.raises(ConfigurationError, match="HTTP 404"):
        client.bind(ONE)


def test_per_item_failures_raise_only_when_asked(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    emulator.invalid_tokens.add("t1")
    result = client.bind(ONE)
    assert result.failed[0].code == 1008006
    with pytest.raises(ItemsFailedError, match=r"1 item\(s\) failed: t1 \(1008006\)"):
        result.raise_for_failures()


def test_unknown_app_fails_before_anything_is_sent(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    with pytest.raises(UnknownAppError, match="unknown app 'ios'; known apps: default"):
        client.bind(ONE, app="ios")
    assert emulator.stats.requests == 0


def test_without_raising_call_errors_are_reported_per_item(
    client: TpnsClient, emulator: TpnsEmulator
) -> None:
    # GIVEN 25 tokens where the second call (5 items) keeps failing
    emulator.faults.add("http", status=500, path="batchoperate")
    tokens = [TokenAccounts(f"t{i}", (Account("aa"),)) for i in range(25)]
    result = client.bind(tokens, raise_on_error=False)
    assert len(result.errored) == 25
    assert all(isinstance(i.error, UpstreamError) and i.error.retryable for i in result.errored)
