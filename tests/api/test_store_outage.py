"""DynamoDB unreachable: the sync routes record in the ledger first, so nothing reaches TPNS."""

from __future__ import annotations

import pytest

from tests.support.api_events import ApiFunctions, api_event
from tests.support.outage import dynamodb_unreachable
from tests.support.processes import free_port
from tpns_emulator import TpnsEmulator


@pytest.mark.parametrize(("function", "event"), [("bind", "bind"), ("unbind", "unbind-token-list")])
def test_a_sync_write_answers_503_and_sends_nothing_when_dynamodb_is_unreachable(
    api: ApiFunctions,
    emulator: TpnsEmulator,
    monkeypatch: pytest.MonkeyPatch,
    function: str,
    event: str,
) -> None:
    # GIVEN the functions' DynamoDB out of reach (the ledger cannot be written)
    dynamodb_unreachable(monkeypatch)
    api.reset()

    # WHEN a bind or an unbind comes
    answer = api(function, api_event(event))

    # THEN it answers 503 store_unavailable, and TPNS got no request at all
    assert answer.status == 503, answer
    assert answer.body["error"]["code"] == "store_unavailable"
    assert emulator.stats.requests == 0


def test_a_sync_bind_whose_verification_cannot_be_scheduled_answers_what_tpns_said_with_a_warning(
    api: ApiFunctions, emulator: TpnsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the ledger reachable but SQS (the verify queue) out of reach
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", f"http://127.0.0.1:{free_port()}")
    api.reset()

    # WHEN a bind comes
    answer = api("bind", api_event("bind"))

    # THEN TPNS got it, and the answer is TPNS's (200, accepted), warning that it is unverified
    assert emulator.stats.requests == 1
    assert answer.status == 200, answer
    assert answer.body["accepted"] == len(answer.body["results"])
    (warning,) = answer.body["warnings"]
    assert "verification" in warning and "send the request again" in warning
