"""The sync routes with the ledger on: recorded first, superseded items unsent, and a request
TPNS never answered still reaches TPNS, through verification."""

from __future__ import annotations

from local_stack.esm import SqsEventSourceMapping
from tests.support.api_events import ApiFunctions, api_event
from tests.support.apps import ACCESS_ID
from tpns_emulator import TpnsEmulator

BIND = {"token_accounts": [{"token": "t1", "account_list": [{"account": "alice"}]}]}


def token_states(api: ApiFunctions, token: str) -> list[tuple[str, str]]:
    event = api_event("get-token-bindings", path_parameters={"token": token}, query={})
    answer = api("query", event)
    assert answer.status == 200, answer
    return [(b["account"], b["state"]) for b in answer.body["items"]]


def test_a_bind_tpns_did_not_answer_is_pending_then_pushed_by_verification(
    api: ApiFunctions, verify: SqsEventSourceMapping, emulator: TpnsEmulator
) -> None:
    # GIVEN TPNS answers every call with HTTP 503
    emulator.faults.add("http", status=503)
    # WHEN a bind comes
    answer = api("bind", api_event("bind", BIND))
    # THEN the caller hears 503, and the ledger holds the binding as pending (not applied)
    assert answer.status == 503
    assert token_states(api, "t1") == [("alice", "pending")]
    # AND once TPNS is back, verification pushes it: TPNS holds it, and it is verified
    emulator.faults.clear()
    verify.drain(max_seconds=60)
    assert emulator.bindings(ACCESS_ID) == {"t1": [("alice", 0)]}
    assert token_states(api, "t1") == [("alice", "verified")]


def test_a_bind_tpns_accepted_is_applied_then_verified(
    api: ApiFunctions, verify: SqsEventSourceMapping, emulator: TpnsEmulator
) -> None:
    # GIVEN a bind TPNS accepted
    assert api("bind", api_event("bind", BIND)).status == 200
    # WHEN the ledger is read before and after verification
    before = token_states(api, "t1")
    verify.drain(max_seconds=60)
    # THEN the binding is applied, then verified
    assert before == [("alice", "applied")]
    assert token_states(api, "t1") == [("alice", "verified")]
