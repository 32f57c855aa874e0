"""batchoperate is asynchronous: with apply_delay, queries see a change only later."""

from __future__ import annotations

import time

from tests.support.tpns_client import TpnsTestClient
from tests.support.vector import VECTOR_ACCESS_ID
from tpns_emulator import TpnsEmulator


def tokens_of_alice(client: TpnsTestClient) -> list[str]:
    """What a query (over HTTP) says alice's tokens are."""
    answer = client.query({"operator_type": 1, "account_list": [{"account": "alice"}]})
    tokens: list[str] = answer["account_tokens"][0]["token_list"]
    return tokens


def test_query_before_the_delay_sees_the_old_state(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a 0.3 s apply delay
    emulator.apply_delay = 0.3
    # WHEN a bind is accepted
    assert client.bind("t1", "alice")["result"] == ["0"]
    # THEN an immediate query does not see it yet
    assert tokens_of_alice(client) == []
    assert emulator.stats.pending_mutations == 1


def test_query_after_the_delay_sees_the_change(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a 0.2 s apply delay and a bind accepted
    emulator.apply_delay = 0.2
    client.bind("t1", "alice")
    # WHEN the delay has passed
    time.sleep(0.25)
    # THEN a query sees the binding
    assert tokens_of_alice(client) == ["t1"]


def test_bindings_helper_applies_due_mutations(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a 0.1 s apply delay and a bind accepted, not yet visible
    emulator.apply_delay = 0.1
    client.bind("t1", "alice")
    assert emulator.bindings(VECTOR_ACCESS_ID) == {}
    # WHEN the delay has passed
    time.sleep(0.15)
    # THEN the bindings helper shows it
    assert emulator.bindings(VECTOR_ACCESS_ID) == {"t1": [("alice", 0)]}


def test_flush_applies_pending_mutations_at_once(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN two binds waiting out a 60 s apply delay, bob's overriding alice's
    emulator.apply_delay = 60
    client.bind("t1", "alice")
    client.bind("t1", "bob")
    # WHEN pending changes are flushed
    applied = emulator.flush()
    # THEN both were applied, in order
    assert applied == 2
    assert tokens_of_alice(client) == []
    assert emulator.tokens_of(VECTOR_ACCESS_ID, "bob") == ["t1"]


def test_reset_drops_pending_mutations(emulator: TpnsEmulator, client: TpnsTestClient) -> None:
    # GIVEN a bind waiting out a 60 s apply delay
    emulator.apply_delay = 60
    client.bind("t1", "alice")
    # WHEN the emulator is reset
    emulator.reset()
    # THEN nothing is left to apply, and nothing is bound
    assert emulator.flush() == 0
    assert emulator.bindings(VECTOR_ACCESS_ID) == {}
