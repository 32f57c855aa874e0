"""Backfill jobs: the ledger learns what TPNS holds for accounts or tokens it never saw."""

from __future__ import annotations

import json

import pytest

from tests.support.api_events import ApiFunctions, api_event
from tests.support.apps import ACCESS_ID
from tests.support.bulk import BulkRig
from tests.support.layer_clients import MakeClient
from tests.support.memory import Memory
from tpns_account import Account, TokenAccounts
from tpns_emulator import TpnsEmulator


@pytest.fixture
def jobs_to_bulk(api: ApiFunctions, bulk: BulkRig, monkeypatch: pytest.MonkeyPatch) -> ApiFunctions:
    """The API functions, their jobs queued where the test's bulk function consumes."""
    monkeypatch.setenv("BULK_QUEUE_URL", bulk.queue_url)
    api.reset()
    return api


def account_bindings(api: ApiFunctions, account: str) -> list[dict[str, object]]:
    event = api_event(
        "get-account-bindings",
        path_parameters={"account": account},
        query={"account_type": "0", "limit": "100"},
    )
    answer = api("query", event)
    assert answer.status == 200, answer
    items: list[dict[str, object]] = answer.body["items"]
    return items


def test_a_backfill_of_1000_accounts_records_what_tpns_holds(
    jobs_to_bulk: ApiFunctions, bulk: BulkRig, make_client: MakeClient, memory: Memory
) -> None:
    # GIVEN 1,000 accounts bound in TPNS by something else than the bundle
    make_client().bind([TokenAccounts(f"old-t{i}", (Account(f"old-a{i}"),)) for i in range(1000)])
    accounts = [{"account": f"old-a{i}", "account_type": 0} for i in range(1000)]
    # WHEN a backfill job of them is submitted and the bulk function works through it
    body = {"operation": "backfill", "job_id": "backfill-1", "account_list": accounts}
    answer = jobs_to_bulk("jobs", api_event("jobs-unbind", body))
    assert answer.status == 202, answer
    bulk.esm().drain(max_seconds=120)
    # THEN the ledger holds each account's token, learned from TPNS (issued at 0: older than
    # anything the bundle does)
    for i in (0, 499, 999):
        (binding,) = account_bindings(jobs_to_bulk, f"old-a{i}")
        assert (binding["token"], binding["issued_at"]) == (f"old-t{i}", 0)
    # AND the job is a backfill that succeeded, every account accepted, nothing to verify
    job = memory.jobs().get("backfill-1").to_dict()
    assert (job["source"], job["operation"], job["state"]) == ("backfill", "backfill", "succeeded")
    assert job["items"] | {"total": 1000, "accepted": 1000, "pending": 0} == job["items"]


def test_a_backfill_never_overrides_what_the_bundle_bound(
    jobs_to_bulk: ApiFunctions, bulk: BulkRig, make_client: MakeClient
) -> None:
    # GIVEN a token the bundle bound to alice, which TPNS (changed behind its back) binds to bob
    bind = {"token_accounts": [{"token": "t1", "account_list": [{"account": "alice"}]}]}
    assert jobs_to_bulk("bind", api_event("bind", bind)).status == 200
    make_client().bind([TokenAccounts("t1", (Account("bob"),))])
    # WHEN a backfill of the token runs
    body = {"operation": "backfill", "token_list": ["t1"]}
    assert jobs_to_bulk("jobs", api_event("jobs-unbind", body)).status == 202
    bulk.esm().drain(max_seconds=60)
    # THEN the ledger still says alice: the bundle's bind is newer than anything observed
    event = api_event("get-token-bindings", path_parameters={"token": "t1"}, query={})
    (binding,) = jobs_to_bulk("query", event).body["items"]
    assert binding["account"] == "alice"


def test_a_backfill_message_without_its_wrapping_is_dead_lettered_not_unbound(
    bulk: BulkRig, emulator: TpnsEmulator, make_client: MakeClient
) -> None:
    # GIVEN a token bound in TPNS
    make_client().bind([TokenAccounts("t1", (Account("alice"),))])
    # WHEN a producer queues a backfill as if it were an unbind body
    _, failed = bulk.invoke([{"operation": "backfill", "token_list": ["t1"]}])
    # THEN it goes to the dead-letter queue with its reason, and nothing is unbound
    assert failed == []
    (dead,) = bulk.dead_letters()
    assert "backfill travels as" in dead["attributes"]["reason"]
    assert json.loads(dead["body"])["token_list"] == ["t1"]
    assert emulator.bindings(ACCESS_ID) == {"t1": [("alice", 0)]}


def test_a_backfill_is_refused_where_the_deployment_keeps_no_ledger(
    api: ApiFunctions, memory: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the API deployed with LedgerMode off
    memory.configure(monkeypatch, ledger=False)
    api.reset()
    # WHEN a backfill job is submitted
    answer = api("jobs", api_event("jobs-unbind", {"operation": "backfill", "token_list": ["t1"]}))
    # THEN it is refused, naming the field
    assert answer.status == 400
    assert answer.body["error"]["message"].startswith("operation: backfill needs the ledger")
