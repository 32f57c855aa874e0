from __future__ import annotations

import pytest

from tpns_account import Settings, SettingsError
from tpns_account.endpoints import resolve_endpoint


def test_defaults_follow_the_design() -> None:
    settings = Settings.from_env({"TPNS_SECRET_ID": "tpns/app"})
    assert settings == Settings(secret_id="tpns/app")
    assert (settings.max_concurrency, settings.max_qps, settings.sync_max_items) == (8, 50.0, 100)


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "TPNS_SECRET_ID": "arn:aws:secretsmanager:us-east-1:1:secret:tpns",
            "TPNS_ENDPOINT": "singapore",
            "TPNS_AUTH": "basic",
            "TPNS_TIMEOUT_S": "2.5",
            "TPNS_MAX_CONCURRENCY": "16",
            "TPNS_MAX_QPS": "20",
            "SYNC_MAX_ITEMS": "40",
        }
    )
    assert settings.auth == "basic"
    assert settings.timeout_s == 2.5
    assert (settings.max_concurrency, settings.max_qps, settings.sync_max_items) == (16, 20.0, 40)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "TPNS_SECRET_ID is required"),
        ({"TPNS_SECRET_ID": "s", "TPNS_AUTH": "hmac"}, "TPNS_AUTH must be"),
        (
            {"TPNS_SECRET_ID": "s", "TPNS_MAX_CONCURRENCY": "many"},
            "TPNS_MAX_CONCURRENCY must be an integer",
        ),
        ({"TPNS_SECRET_ID": "s", "TPNS_TIMEOUT_S": "0"}, "TPNS_TIMEOUT_S must be between"),
        ({"TPNS_SECRET_ID": "s", "TPNS_ENDPOINT": "mars"}, "TPNS endpoint must be a region"),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], message: str) -> None:
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
    assert resolve_endpoint(value) == url


def test_plain_http_is_refused_off_loopback() -> None:
    with pytest.raises(SettingsError, match="https"):
        resolve_endpoint("http://api.tpns.tencent.com")
