"""The admin HTTP API, for the local stack and subprocess tests (no auth, loopback only)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.support.tpns_client import QUERY_PATH, MakeTestClient, TpnsTestClient
from tests.support.vector import VECTOR_ACCESS_ID, VECTOR_SECRET_KEY
from tpns_emulator import TpnsEmulator


def test_admin_stats_reports_counters(client: TpnsTestClient) -> None:
    # GIVEN one bind served
    client.bind("t1", "alice")
    # WHEN the stats are asked for
    stats = client.admin("GET", "stats").json()
    # THEN they count the request, its outcome and the call
    assert stats["requests"] == 1
    assert stats["by_outcome"] == {"ok": 1}
    assert stats["calls"][0]["operator_type"] == 2


def test_admin_state_shows_the_bindings_of_an_app(client: TpnsTestClient) -> None:
    # GIVEN t1 bound to two accounts
    client.bind("t1", "alice", ("a@x.com", 1005))
    # WHEN the app's state is asked for
    state = client.admin("GET", f"state?access_id={VECTOR_ACCESS_ID}").json()
    # THEN it lists the token's accounts with their types
    assert state == {
        "t1": [
            {"account": "alice", "account_type": 0},
            {"account": "a@x.com", "account_type": 1005},
        ]
    }


def test_admin_state_of_unknown_app_is_404(client: TpnsTestClient) -> None:
    # GIVEN an access id the emulator does not know
    route = "state?access_id=nope"
    # WHEN its state is asked for
    response = client.admin("GET", route)
    # THEN the answer is 404
    assert response.status_code == 404


def test_admin_state_without_access_id_is_400(client: TpnsTestClient) -> None:
    # GIVEN a state request naming no app
    route = "state"
    # WHEN it is sent
    response = client.admin("GET", route)
    # THEN the answer is 400
    assert response.status_code == 400


def test_admin_reset_clears_bindings(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN one binding
    client.bind("t1", "alice")
    # WHEN the emulator is reset through the admin API
    answer = client.admin("POST", "reset").json()
    # THEN it says ok and the binding is gone
    assert answer == {"ok": True}
    assert emulator.bindings(VECTOR_ACCESS_ID) == {}


def test_admin_flush_applies_pending(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN a bind waiting out a 60 s apply delay
    emulator.apply_delay = 60
    client.bind("t1", "alice")
    # WHEN pending changes are flushed through the admin API
    answer = client.admin("POST", "flush").json()
    # THEN it says one was applied, and it is
    assert answer == {"ok": True, "applied": 1}
    assert emulator.tokens_of(VECTOR_ACCESS_ID, "alice") == ["t1"]


def test_admin_faults_are_added_and_cleared(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN no faults
    # WHEN a one-time HTTP 502 fault is added through the admin API
    response = client.admin("POST", "faults", {"kind": "http", "status": 502, "times": 1})
    # THEN it is echoed, and the next call gets it
    assert response.json()["fault"]["status"] == 502
    assert client.post(QUERY_PATH, {"operator_type": 2}).status_code == 502
    # AND clearing removes every fault, including one added after it
    client.admin("POST", "faults", {"kind": "error", "code": 1008004})
    assert client.admin("POST", "faults", {"clear": True}).json() == {"ok": True}
    assert len(emulator.faults) == 0


def test_admin_bad_fault_is_400(client: TpnsTestClient) -> None:
    # GIVEN a fault of a kind that does not exist
    fault = {"kind": "explode"}
    # WHEN it is added through the admin API
    response = client.admin("POST", "faults", fault)
    # THEN the answer is 400 naming the kind
    assert response.status_code == 400
    assert "kind" in response.json()["error"]


def test_admin_config_changes_settings(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN a change of every setting
    changes = {
        "qps_cap": 100,
        "style": "legacy",
        "apply_delay": 1.5,
        "latency_s": 0.01,
        "invalid_tokens": ["bad"],
        "omit_default_account_type": True,
    }
    # WHEN it is posted to the admin API
    config = client.admin("POST", "config", changes).json()["config"]
    # THEN the answer and the emulator have every new value
    assert {k: config[k] for k in changes} == changes
    assert (emulator.qps_cap, emulator.style, emulator.apply_delay) == (100.0, "legacy", 1.5)
    assert emulator.invalid_tokens == {"bad"}
    assert emulator.omit_default_account_type is True


def test_admin_config_can_remove_the_qps_cap(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a QPS cap
    emulator.qps_cap = 5
    # WHEN the admin API sets it to null
    client.admin("POST", "config", {"qps_cap": None})
    # THEN there is no cap
    assert emulator.qps_cap is None


@pytest.mark.parametrize(
    "changes",
    [{"style": "modern"}, {"qps_cap": -1}, {"colour": "red"}, {"apply_delay": "x"}],
    ids=["unknown-style", "negative-cap", "unknown-setting", "delay-not-a-number"],
)
def test_admin_config_rejects_bad_values(client: TpnsTestClient, changes: dict[str, Any]) -> None:
    # GIVEN a setting that does not exist or a value it cannot take
    # WHEN it is posted to the admin API
    response = client.admin("POST", "config", changes)
    # THEN the answer is 400
    assert response.status_code == 400


def test_admin_apps_adds_an_app_that_then_authenticates(
    client: TpnsTestClient, make_client: MakeTestClient
) -> None:
    # GIVEN a second app
    body = {"access_id": "1600000001", "secret_key": "ios-secret", "state": "active"}
    # WHEN it is added through the admin API
    answer = client.admin("POST", "apps", body).json()
    # THEN it is echoed without its key, and its key then authenticates
    assert answer == {
        "ok": True,
        "access_id": "1600000001",
        "state": "active",
    }
    assert make_client("1600000001", "ios-secret").bind("t1", "alice")["ret_code"] == 0


def test_admin_apps_changes_the_state_of_an_app(client: TpnsTestClient) -> None:
    # GIVEN the active test-vector app
    # WHEN its state is set to destroyed through the admin API
    client.admin("POST", "apps", {"access_id": VECTOR_ACCESS_ID, "state": "destroyed"})
    # THEN its calls get the destroyed app's code
    assert client.bind("t1", "alice")["ret_code"] == 1008031


@pytest.mark.parametrize(
    ("method", "route", "payload"),
    [("GET", "config", None), ("GET", "stats", None), ("POST", "config", {"style": "current"})],
    ids=["get-config", "get-stats", "post-config"],
)
def test_admin_never_returns_secret_keys(
    client: TpnsTestClient, method: str, route: str, payload: dict[str, Any] | None
) -> None:
    # GIVEN two apps with their keys
    client.admin("POST", "apps", {"access_id": "1600000001", "secret_key": "ios-secret"})
    # WHEN an admin route that describes the emulator is called
    response = client.admin(method, route, payload)
    # THEN neither key is in its answer
    assert VECTOR_SECRET_KEY not in response.text
    assert "ios-secret" not in response.text


def test_admin_config_lists_the_apps_by_state(client: TpnsTestClient) -> None:
    # GIVEN a second app added
    client.admin("POST", "apps", {"access_id": "1600000001", "secret_key": "ios-secret"})
    # WHEN the config is asked for
    config = client.admin("GET", "config").json()
    # THEN it lists both apps, each with its state only
    assert config["apps"] == {VECTOR_ACCESS_ID: "active", "1600000001": "active"}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_admin_route_is_404(client: TpnsTestClient, method: str) -> None:
    # GIVEN an admin route that does not exist
    route = "nope"
    # WHEN it is called
    response = client.admin(method, route)
    # THEN the answer is 404
    assert response.status_code == 404


def test_admin_requests_are_not_counted(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN a fresh emulator
    # WHEN an admin request is made
    client.admin("GET", "stats")
    # THEN it is not counted as a TPNS request
    assert emulator.stats.requests == 0


def test_emulator_refuses_a_non_loopback_host() -> None:
    # GIVEN a host that is not loopback
    host = "0.0.0.0"
    # WHEN an emulator is built to listen on it
    # THEN it is refused: the emulator and its admin API stay on loopback
    with pytest.raises(ValueError, match="loopback"):
        TpnsEmulator(apps={VECTOR_ACCESS_ID: VECTOR_SECRET_KEY}, host=host)


def test_context_manager_starts_and_stop_closes_even_keep_alive_connections() -> None:
    # GIVEN a client holding a keep-alive connection to a running emulator
    with (
        TpnsEmulator(apps={VECTOR_ACCESS_ID: VECTOR_SECRET_KEY}) as emu,
        requests.Session() as session,
    ):
        url = emu.url
        assert url.startswith("http://127.0.0.1:")
        assert session.get(f"{url}/_emulator/stats", timeout=5).status_code == 200
        # WHEN the emulator stops
        emu.stop()
        # THEN neither the old connection nor a new one gets an answer
        with pytest.raises(requests.ConnectionError):
            session.get(f"{url}/_emulator/stats", timeout=5)
    # AND a stopped emulator has no URL
    with pytest.raises(RuntimeError):
        _ = emu.url
