"""10,000 bindings through the queue while TPNS fails 30% of calls: nothing lost."""

from __future__ import annotations

import json

import pytest

from tests.support.apps import ACCESS_ID
from tests.support.bulk import BulkRig
from tpns_emulator import TpnsEmulator

BOUND = 4


@pytest.fixture
def bounded(bulk: BulkRig, monkeypatch: pytest.MonkeyPatch) -> BulkRig:
    """The bulk function with at most BOUND concurrent TPNS calls and a 0.3 s call timeout."""
    monkeypatch.setenv("TPNS_MAX_CONCURRENCY", str(BOUND))
    monkeypatch.setenv("TPNS_TIMEOUT_S", "0.3")
    bulk.module.processor.cache_clear()
    return bulk


def test_every_binding_is_applied_or_dead_lettered_under_30_percent_faults(
    bounded: BulkRig, emulator: TpnsEmulator
) -> None:
    # GIVEN 10,000 bindings in 20 queue messages
    for m in range(20):
        items = [
            {
                "token": f"tok-{m:02d}-{i:03d}",
                "account_list": [{"account": f"user-{m:02d}-{i:03d}"}],
            }
            for i in range(500)
        ]
        bounded.send({"operation": "bind", "job_id": f"load-{m}", "token_accounts": items})
    # AND TPNS failing about 30% of calls: 5xx, dropped connections, timeouts, throttling
    emulator.faults.seed(20261122)
    emulator.faults.add("http", status=503, probability=0.10)
    emulator.faults.add("drop", probability=0.08)
    emulator.faults.add("hang", seconds=0.5, probability=0.06)
    emulator.faults.add("error", code=1008028, probability=0.09)
    # WHEN the event source mapping drives the bulk function until the queue is empty
    esm = bounded.esm(timeout_s=20.0)
    esm.drain(max_seconds=600)
    # THEN every binding is either in TPNS or in the DLQ, none in both, none lost
    bound = set(emulator.bindings(ACCESS_ID))
    dead = [json.loads(d["body"]) for d in bounded.dead_letters()]
    dead_tokens = {item["token"] for message in dead for item in message["token_accounts"]}
    expected = {f"tok-{m:02d}-{i:03d}" for m in range(20) for i in range(500)}
    assert bound | dead_tokens == expected
    assert not bound & dead_tokens
    assert len(bound) + len(dead_tokens) == 10_000
    # AND the faults really happened, and TPNS never saw more than the bound at once
    stats = emulator.stats
    fired = sum(stats.faults_fired.values())
    assert fired / stats.requests > 0.2
    assert stats.peak_concurrency <= BOUND
