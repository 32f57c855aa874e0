"""The API functions pace TPNS calls per request: a request's own calls stay under
TPNS_MAX_QPS, and a request never waits for an earlier request's slots."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.support.api_events import ApiFunctions, api_event
from tests.support.memory import Memory
from tpns_emulator import TpnsEmulator

BATCH_PATH = "/v3/device/account/batchoperate"


def bind_event(prefix: str, items: int) -> dict[str, Any]:
    """A sync bind of ``items`` tokens, stamped as API Gateway stamps each request."""
    event = api_event(
        "bind",
        {
            "token_accounts": [
                {"token": f"{prefix}-{i}", "account_list": [{"account": f"user-{i}"}]}
                for i in range(items)
            ]
        },
    )
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["requestContext"]["requestTimeEpoch"] = int(time.time() * 1000)
    return event


def batch_calls(emulator: TpnsEmulator) -> list[float]:
    return sorted(c.at for c in emulator.stats.calls if c.path == BATCH_PATH)


def test_a_sync_request_of_100_items_never_exceeds_tpns_max_qps_within_its_own_calls(
    api: ApiFunctions, emulator: TpnsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN TPNS_MAX_QPS 2 (a 100-item request makes 5 calls of 20) and TPNS throttling above
    # 4 calls/s (a margin: TPNS counts arrivals, and a loaded machine can delay a second's
    # first calls on their way, bunching them with the next second's)
    monkeypatch.setenv("TPNS_MAX_QPS", "2")
    api.reset()
    emulator.qps_cap = 4
    # WHEN one sync bind of 100 items is made
    started = time.monotonic()
    answer = api("bind", bind_event("paced", 100))
    elapsed = time.monotonic() - started
    # THEN every item is accepted, in 5 calls that TPNS never throttled
    assert answer.status == 200, answer
    assert answer.body["accepted"] == 100
    calls = batch_calls(emulator)
    assert len(calls) == 5
    assert emulator.stats.throttled == 0
    # AND no second held more than 2 of them: the 3rd and 4th waited for the next second, the
    # 5th for the one after (arrivals, give or take the machine's scheduling)
    assert elapsed >= 2.0
    assert all(later - earlier >= 0.8 for earlier, later in zip(calls, calls[2:], strict=False))


def test_back_to_back_sync_requests_never_wait_for_each_others_slots(
    api: ApiFunctions,
    emulator: TpnsEmulator,
    memory: Memory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN TPNS_MAX_QPS 2, and the ledger off (only TPNS's pace is measured)
    monkeypatch.setenv("TPNS_MAX_QPS", "2")
    memory.configure(monkeypatch, ledger=False)
    api.reset()
    # WHEN 10 one-call requests are made one after the other
    started = time.monotonic()
    for n in range(10):
        assert api("bind", bind_event(f"loop{n}", 20)).status == 200
    elapsed = time.monotonic() - started
    # THEN none waited for an earlier request's slot (a pace shared across requests would take
    # at least 4.5 s for 10 calls at 2/s)
    assert len(batch_calls(emulator)) == 10
    assert elapsed < 2.0
