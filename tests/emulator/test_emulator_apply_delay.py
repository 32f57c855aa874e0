"""batchoperate is asynchronous: with apply_delay, queries see a change only later."""

from __future__ import annotations

import time

APP = "1500001048"


def _tokens_of_alice(client):
    answer = client.query({"operator_type": 1, "account_list": [{"account": "alice"}]})
    return answer["account_tokens"][0]["token_list"]


def test_query_before_the_delay_sees_the_old_state(emulator, client):
    # GIVEN a 0.3 s apply delay WHEN a bind is accepted
    emulator.apply_delay = 0.3
    assert client.bind("t1", "alice")["result"] == ["0"]
    # THEN an immediate query does not see it yet
    assert _tokens_of_alice(client) == []
    assert emulator.stats.pending_mutations == 1


def test_query_after_the_delay_sees_the_change(emulator, client):
    emulator.apply_delay = 0.2
    client.bind("t1", "alice")
    time.sleep(0.25)
    assert _tokens_of_alice(client) == ["t1"]


def test_bindings_helper_applies_due_mutations(emulator, client):
    emulator.apply_delay = 0.1
    client.bind("t1", "alice")
    assert emulator.bindings(APP) == {}
    time.sleep(0.15)
    assert emulator.bindings(APP) == {"t1": [("alice", 0)]}


def test_flush_applies_pending_mutations_at_once(emulator, client):
    emulator.apply_delay = 60
    client.bind("t1", "alice")
    client.bind("t1", "bob")
    assert emulator.flush() == 2
    assert _tokens_of_alice(client) == []
    assert emulator.tokens_of(APP, "bob") == ["t1"]


def test_reset_drops_pending_mutations(emulator, client):
    emulator.apply_delay = 60
    client.bind("t1", "alice")
    emulator.reset()
    assert emulator.flush() == 0
    assert emulator.bindings(APP) == {}
