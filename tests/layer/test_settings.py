"""Settings from the functions' environment, and where each TPNS endpoint name leads."""

from __future__ import annotations

import pytest

from tpns_account import Settings, SettingsError
from tpns_account.endpoints import resolve_endpoint


def test_defaults_follow_the_design() -> None:
    # GIVEN an environment naming only the secret
    env = {"TPNS_SECRET_ID": "tpns/app"}
    # WHEN settings are read from it
    settings = Settings.from_env(env)
    # THEN every other setting has the design's default
    assert settings == Settings(secret_id="tpns/app")
    assert (settings.max_concurrency, settings.max_qps, settings.sync_max_items) == (8, 50.0, 100)


def test_every_variable_is_read() -> None:
    # GIVEN every variable set to a non-default value
    env = {
        "TPNS_SECRET_ID": "arn:aws:secretsmanager:us-east-1:1:secret:tpns",
        "TPNS_ENDPOINT": "singapore",
        "TPNS_AUTH": "basic",
        "TPNS_TIMEOUT_S": "2.5",
        "TPNS_MAX_CONCURRENCY": "16",
        "TPNS_MAX_QPS": "20",
        "SYNC_MAX_ITEMS": "40",
    }
    # WHEN settings are read from it
    settings = Settings.from_env(env)
    # THEN each value is taken
    assert settings.auth == "basic"
    assert settings.timeout_s == 2.5
    assert (settings.max_concurrency, settings.max_qps, settings.sync_max_items) == (16, 20.0, 40)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param({}, "TPNS_SECRET_ID is required", id="no-secret-id"),
        pytest.param(
            {"TPNS_SECRET_ID": "s", "TPNS_AUTH": "hmac"}, "TPNS_AUTH must be", id="unknown-auth"
        ),
        pytest.param(
            {"TPNS_SECRET_ID": "s", "TPNS_MAX_CONCURRENCY": "many"},
            "TPNS_MAX_CONCURRENCY must be an integer",
            id="concurrency-not-an-integer",
        ),
        pytest.param(
            {"TPNS_SECRET_ID": "s", "TPNS_TIMEOUT_S": "0"},
            "TPNS_TIMEOUT_S must be between",
            id="timeout-out-of-range",
        ),
        pytest.param(
            {"TPNS_SECRET_ID": "s", "TPNS_ENDPOINT": "mars"},
            "TPNS endpoint must be a region",
            id="unknown-region",
        ),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], message: str) -> None:
    # GIVEN an environment with one missing or invalid variable
    # WHEN settings are read from it
    # THEN the error names the variable and what it must be
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("value", "url"),
    [
        (None, "https://api.tpns.tencent.com"),
        ("guangzhou", "https://api.tpns.tencent.com"),
        ("Shanghai", "https://api.tpns.sh.tencent.com"),
        ("hongkong", "https://api.tpns.hk.tencent.com"),
        ("singapore", "https://api.tpns.sgp.tencent.com"),
        ("https://proxy.example.com/tpns/", "https://proxy.example.com/tpns"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_endpoints_resolve_by_region_or_url(value: str | None, url: str) -> None:
    # GIVEN a region name, a URL, or nothing
    # WHEN it is resolved
    resolved = resolve_endpoint(value)
    # THEN it is the region's TPNS host, or the URL without a trailing slash
    assert resolved == url


def test_plain_http_is_refused_off_loopback() -> None:
    # GIVEN a plain-HTTP URL of a host that is not loopback
    url = "http://api.tpns.tencent.com"
    # WHEN it is resolved
    # THEN it is refused: off loopback, TPNS is reached over HTTPS only
    with pytest.raises(SettingsError, match="https"):
        resolve_endpoint(url)
