"""BindingStore semantics, without HTTP: overrides, unbinds, the 100-token cap, apply delay."""

from __future__ import annotations

from tests.support.vector import VECTOR_ACCESS_ID
from tpns_emulator import BindingStore, Mutation

APP = VECTOR_ACCESS_ID  # any app: the store keeps each app's bindings apart


class FakeClock:
    """A clock that moves only when told to (``clock.now += seconds``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def override(token: str, *accounts: tuple[str, int], op: int = 2) -> Mutation:
    """An override (or, with op=1, an append) of ``token`` to (account, type) pairs."""
    return Mutation(APP, op, token_accounts=((token, tuple(accounts)),))


def test_override_keeps_only_the_later_account_of_the_same_type() -> None:
    # GIVEN an empty store
    store = BindingStore()
    # WHEN the vendor sample is submitted: two type-0 accounts for one token
    store.submit(override("token1", ("926@126.com", 0), ("1527000000", 0)))
    # THEN only the later one is bound, in both directions
    assert store.bindings(APP) == {"token1": [("1527000000", 0)]}
    assert store.tokens_of(APP, "926@126.com") == []
    assert store.tokens_of(APP, "1527000000") == ["token1"]


def test_override_keeps_one_account_per_type() -> None:
    # GIVEN an empty store
    store = BindingStore()
    # WHEN a token is overridden with three accounts of three types
    store.submit(override("t", ("alice", 0), ("+8613711112222", 1002), ("a@x.com", 1005)))
    # THEN it holds all three, in order
    assert store.accounts_of(APP, "t") == [
        ("alice", 0),
        ("+8613711112222", 1002),
        ("a@x.com", 1005),
    ]


def test_override_replaces_previous_accounts_and_their_reverse_index() -> None:
    # GIVEN a token bound to two accounts
    store = BindingStore()
    store.submit(override("t", ("alice", 0), ("a@x.com", 1005)))
    # WHEN it is overridden with another account
    store.submit(override("t", ("bob", 0)))
    # THEN it holds only that one, and the old accounts no longer list it
    assert store.bindings(APP) == {"t": [("bob", 0)]}
    assert store.tokens_of(APP, "alice") == []
    assert store.tokens_of(APP, "a@x.com", 1005) == []


def test_operator_type_1_behaves_as_override() -> None:
    # GIVEN a token appended (operator_type 1) to alice
    store = BindingStore()
    store.submit(override("t", ("alice", 0), op=1))
    # WHEN it is appended to bob
    store.submit(override("t", ("bob", 0), op=1))
    # THEN it holds only bob, as an override would
    assert store.bindings(APP) == {"t": [("bob", 0)]}


def test_account_keeps_at_most_100_tokens_and_evicts_the_oldest() -> None:
    # GIVEN an account bound to 100 tokens
    store = BindingStore()
    for i in range(100):
        store.submit(override(f"t{i}", ("alice", 0), ("a@x.com", 1005)))
    # WHEN a 101st token is bound
    store.submit(override("t100", ("alice", 0)))
    # THEN the oldest token lost that account, and only that one
    tokens = store.tokens_of(APP, "alice")
    assert len(tokens) == 100
    assert tokens[0] == "t1"
    assert tokens[-1] == "t100"
    assert store.accounts_of(APP, "t0") == [("a@x.com", 1005)]


def test_unbind_listed_accounts_removes_only_matching_type() -> None:
    # GIVEN a token bound to alice as type 0 and as type 1005
    store = BindingStore()
    store.submit(override("t", ("alice", 0), ("alice", 1005)))
    # WHEN alice of type 0 is unbound from it (operator_type 3)
    store.submit(Mutation(APP, 3, token_accounts=(("t", (("alice", 0),)),)))
    # THEN alice of type 1005 stays
    assert store.bindings(APP) == {"t": [("alice", 1005)]}


def test_unbind_token_removes_it_from_all_accounts() -> None:
    # GIVEN token t bound to two accounts, and u to one of them
    store = BindingStore()
    store.submit(override("t", ("alice", 0), ("a@x.com", 1005)))
    store.submit(override("u", ("alice", 0)))
    # WHEN t is unbound (operator_type 4)
    store.submit(Mutation(APP, 4, token_list=("t",)))
    # THEN only u stays, and no account lists t
    assert store.bindings(APP) == {"u": [("alice", 0)]}
    assert store.tokens_of(APP, "a@x.com", 1005) == []


def test_unbind_account_removes_it_from_all_tokens() -> None:
    # GIVEN alice bound on t and u
    store = BindingStore()
    store.submit(override("t", ("alice", 0), ("a@x.com", 1005)))
    store.submit(override("u", ("alice", 0)))
    # WHEN alice is unbound (operator_type 5)
    store.submit(Mutation(APP, 5, account_list=(("alice", 0),)))
    # THEN no token carries her, and u, left with nothing, is gone
    assert store.bindings(APP) == {"t": [("a@x.com", 1005)]}


def test_delayed_mutation_is_invisible_until_due() -> None:
    # GIVEN a store on a fake clock
    clock = FakeClock()
    store = BindingStore(clock=clock)
    # WHEN a bind is submitted with a 2 s apply delay
    store.submit(override("t", ("alice", 0)), apply_delay=2.0)
    # THEN reads before the delay see the old state
    assert store.bindings(APP) == {}
    assert store.pending_count == 1
    # AND after it the new one
    clock.now += 2.0
    assert store.bindings(APP) == {"t": [("alice", 0)]}
    assert store.pending_count == 0


def test_delayed_mutations_apply_in_submission_order_even_when_the_delay_shrinks() -> None:
    # GIVEN a store on a fake clock
    clock = FakeClock()
    store = BindingStore(clock=clock)
    # WHEN a bind with a 5 s delay is followed by one with no delay
    store.submit(override("t", ("alice", 0)), apply_delay=5.0)
    store.submit(override("t", ("bob", 0)), apply_delay=0.0)
    # THEN the second waits for the first
    assert store.bindings(APP) == {}
    # AND once both are due, they applied in submission order
    clock.now += 5.0
    assert store.bindings(APP) == {"t": [("bob", 0)]}


def test_flush_applies_pending_mutations_regardless_of_delay() -> None:
    # GIVEN a bind waiting out a 60 s delay on a clock that does not move
    store = BindingStore(clock=FakeClock())
    store.submit(override("t", ("alice", 0)), apply_delay=60.0)
    # WHEN the store is flushed
    applied = store.flush()
    # THEN the bind is applied at once
    assert applied == 1
    assert store.bindings(APP) == {"t": [("alice", 0)]}


def test_apps_do_not_share_bindings() -> None:
    # GIVEN a binding in one app
    store = BindingStore()
    store.submit(override("t", ("alice", 0)))
    # WHEN another app's state is read
    # THEN it holds nothing
    assert store.bindings("other-app") == {}
    assert store.tokens_of("other-app", "alice") == []
