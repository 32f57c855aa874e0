"""The admin HTTP API, for the local stack and subprocess tests (no auth, loopback only)."""

from __future__ import annotations

import pytest
import requests

from tpns_emulator import TpnsEmulator

APP = "1500001048"
SECRET = "1452fcebae9f3115ba794fb0fff2fd73"


def test_admin_stats_reports_counters(client):
    client.bind("t1", "alice")
    stats = client.admin("GET", "stats").json()
    assert stats["requests"] == 1
    assert stats["by_outcome"] == {"ok": 1}
    assert stats["calls"][0]["operator_type"] == 2


def test_admin_state_shows_bindings(client):
    client.bind("t1", "alice", ("a@x.com", 1005))
    state = client.admin("GET", f"state?access_id={APP}").json()
    assert state == {
        "t1": [
            {"account": "alice", "account_type": 0},
            {"account": "a@x.com", "account_type": 1005},
        ]
    }


def test_admin_state_of_unknown_app_is_404(client):
    assert client.admin("GET", "state?access_id=nope").status_code == 404


def test_admin_state_without_access_id_is_400(client):
    assert client.admin("GET", "state").status_code == 400


def test_admin_reset_clears_bindings(emulator, client):
    client.bind("t1", "alice")
    assert client.admin("POST", "reset").json() == {"ok": True}
    assert emulator.bindings(APP) == {}


def test_admin_flush_applies_pending(emulator, client):
    emulator.apply_delay = 60
    client.bind("t1", "alice")
    assert client.admin("POST", "flush").json() == {"ok": True, "applied": 1}
    assert emulator.tokens_of(APP, "alice") == ["t1"]


def test_admin_faults_add_and_clear(emulator, client):
    response = client.admin("POST", "faults", {"kind": "http", "status": 502, "times": 1})
    assert response.json()["fault"]["status"] == 502
    assert client.post("/v3/device/account/query", {"operator_type": 2}).status_code == 502
    client.admin("POST", "faults", {"kind": "error", "code": 1008004})
    assert client.admin("POST", "faults", {"clear": True}).json() == {"ok": True}
    assert len(emulator.faults) == 0


def test_admin_bad_fault_is_400(client):
    response = client.admin("POST", "faults", {"kind": "explode"})
    assert response.status_code == 400
    assert "kind" in response.json()["error"]


def test_admin_config_changes_settings(emulator, client):
    changes = {
        "qps_cap": 100,
        "style": "legacy",
        "apply_delay": 1.5,
        "latency_s": 0.01,
        "invalid_tokens": ["bad"],
        "omit_default_account_type": True,
    }
    config = client.admin("POST", "config", changes).json()["config"]
    assert {k: config[k] for k in changes} == changes
    assert (emulator.qps_cap, emulator.style, emulator.apply_delay) == (100.0, "legacy", 1.5)
    assert emulator.invalid_tokens == {"bad"}
    assert emulator.omit_default_account_type is True


def test_admin_config_can_remove_the_qps_cap(emulator, client):
    emulator.qps_cap = 5
    client.admin("POST", "config", {"qps_cap": None})
    assert emulator.qps_cap is None


@pytest.mark.parametrize(
    "changes", [{"style": "modern"}, {"qps_cap": -1}, {"colour": "red"}, {"apply_delay": "x"}]
)
def test_admin_config_rejects_bad_values(client, changes):
    assert client.admin("POST", "config", changes).status_code == 400


def test_admin_apps_adds_an_app_that_then_authenticates(client, make_client):
    body = {"access_id": "1600000001", "secret_key": "ios-secret", "state": "active"}
    assert client.admin("POST", "apps", body).json() == {
        "ok": True,
        "access_id": "1600000001",
        "state": "active",
    }
    assert make_client("1600000001", "ios-secret").bind("t1", "alice")["ret_code"] == 0


def test_admin_apps_changes_the_state_of_an_app(client):
    client.admin("POST", "apps", {"access_id": APP, "state": "destroyed"})
    assert client.bind("t1", "alice")["ret_code"] == 1008031


def test_admin_never_returns_secret_keys(client):
    client.admin("POST", "apps", {"access_id": "1600000001", "secret_key": "ios-secret"})
    responses = [
        client.admin("GET", "config"),
        client.admin("GET", "stats"),
        client.admin("POST", "config", {"style": "current"}),
    ]
    for response in responses:
        assert SECRET not in response.text
        assert "ios-secret" not in response.text
    assert client.admin("GET", "config").json()["apps"] == {APP: "active", "1600000001": "active"}


def test_unknown_admin_route_is_404(client):
    assert client.admin("GET", "nope").status_code == 404
    assert client.admin("POST", "nope").status_code == 404


def test_admin_requests_are_not_counted(emulator, client):
    client.admin("GET", "stats")
    assert emulator.stats.requests == 0


def test_emulator_refuses_a_non_loopback_host():
    with pytest.raises(ValueError, match="loopback"):
        TpnsEmulator(apps={APP: SECRET}, host="0.0.0.0")


def test_context_manager_starts_and_stop_closes_even_keep_alive_connections():
    # GIVEN a client holding a keep-alive connection to a running emulator
    with TpnsEmulator(apps={APP: SECRET}) as emu, requests.Session() as session:
        url = emu.url
        assert url.startswith("http://127.0.0.1:")
        assert session.get(f"{url}/_emulator/stats", timeout=5).status_code == 200
        # WHEN the emulator stops
        emu.stop()
        # THEN neither the old connection nor a new one gets an answer
        with pytest.raises(requests.ConnectionError):
            session.get(f"{url}/_emulator/stats", timeout=5)
    with pytest.raises(RuntimeError):
        _ = emu.url
