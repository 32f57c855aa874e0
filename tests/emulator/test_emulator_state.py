"""BindingStore semantics, without HTTP: overrides, unbinds, the 100-token cap, apply delay."""

from __future__ import annotations

from tpns_emulator import BindingStore, Mutation

APP = "1500001048"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def override(token, *accounts, op=2):
    return Mutation(APP, op, token_accounts=((token, tuple(accounts)),))


def test_override_keeps_only_the_later_account_of_the_same_type():
    # GIVEN the vendor sample: two type-0 accounts for one token
    store = BindingStore()
    store.submit(override("token1", ("926@126.com", 0), ("1527000000", 0)))
    # THEN only the later one is bound, in both directions
    assert store.bindings(APP) == {"token1": [("1527000000", 0)]}
    assert store.tokens_of(APP, "926@126.com") == []
    assert store.tokens_of(APP, "1527000000") == ["token1"]


def test_override_keeps_one_account_per_type():
    store = BindingStore()
    store.submit(override("t", ("alice", 0), ("+8613711112222", 1002), ("a@x.com", 1005)))
    assert store.accounts_of(APP, "t") == [
        ("alice", 0),
        ("+8613711112222", 1002),
        ("a@x.com", 1005),
    ]


def test_override_replaces_previous_accounts_and_their_reverse_index():
    store = BindingStore()
    store.submit(override("t", ("alice", 0), ("a@x.com", 1005)))
    store.submit(override("t", ("bob", 0)))
    assert store.bindings(APP) == {"t": [("bob", 0)]}
    assert store.tokens_of(APP, "alice") == []
    assert store.tokens_of(APP, "a@x.com", 1005) == []


def test_operator_type_1_behaves_as_override():
    store = BindingStore()
    store.submit(override("t", ("alice", 0), op=1))
    store.submit(override("t", ("bob", 0), op=1))
    assert store.bindings(APP) == {"t": [("bob", 0)]}


def test_account_keeps_at_most_100_tokens_and_evicts_the_oldest():
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


def test_unbind_listed_accounts_removes_only_matching_type():
    store = BindingStore()
    store.submit(override("t", ("alice", 0), ("alice", 1005)))
    store.submit(Mutation(APP, 3, token_accounts=(("t", (("alice", 0),)),)))
    assert store.bindings(APP) == {"t": [("alice", 1005)]}


def test_unbind_token_removes_it_from_all_accounts():
    store = BindingStore()
    store.submit(override("t", ("alice", 0), ("a@x.com", 1005)))
    store.submit(override("u", ("alice", 0)))
    store.submit(Mutation(APP, 4, token_list=("t",)))
    assert store.bindings(APP) == {"u": [("alice", 0)]}
    assert store.tokens_of(APP, "a@x.com", 1005) == []


def test_unbind_account_removes_it_from_all_tokens():
    store = BindingStore()
    store.submit(override("t", ("alice", 0), ("a@x.com", 1005)))
    store.submit(override("u", ("alice", 0)))
    store.submit(Mutation(APP, 5, account_list=(("alice", 0),)))
    assert store.bindings(APP) == {"t": [("a@x.com", 1005)]}


def test_delayed_mutation_is_invisible_until_due():
    # GIVEN a 2 s apply delay
    clock = FakeClock()
    store = BindingStore(clock=clock)
    store.submit(override("t", ("alice", 0)), apply_delay=2.0)
    # THEN reads before the delay see the old state, and after it the new one
    assert store.bindings(APP) == {}
    assert store.pending_count == 1
    clock.now += 2.0
    assert store.bindings(APP) == {"t": [("alice", 0)]}
    assert store.pending_count == 0


def test_delayed_mutations_apply_in_submission_order_even_when_the_delay_shrinks():
    clock = FakeClock()
    store = BindingStore(clock=clock)
    store.submit(override("t", ("alice", 0)), apply_delay=5.0)
    store.submit(override("t", ("bob", 0)), apply_delay=0.0)
    assert store.bindings(APP) == {}
    clock.now += 5.0
    assert store.bindings(APP) == {"t": [("bob", 0)]}


def test_flush_applies_pending_mutations_regardless_of_delay():
    store = BindingStore(clock=FakeClock())
    store.submit(override("t", ("alice", 0)), apply_delay=60.0)
    assert store.flush() == 1
    assert store.bindings(APP) == {"t": [("alice", 0)]}


def test_apps_do_not_share_bindings():
    store = BindingStore()
    store.submit(override("t", ("alice", 0)))
    assert store.bindings("other-app") == {}
    assert store.tokens_of("other-app", "alice") == []
