"""The ledger in DynamoDB (moto): any delivery order, repeats and racing writers give the
issued-order state, whichever way each write went (blind as the newest, or read-apply-write)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.ledger_ops import TOKENS, Op, Unbind5, in_issued_order, random_op
from tests.support.memory import Memory
from tpns_api.ledger.cells import AccountKey, TokenOp, version
from tpns_api.ledger.items import AccountUnbind
from tpns_api.ledger.store import LedgerStore

APP = "1500001048"


def record(store: LedgerStore, op: Op) -> None:
    if isinstance(op, Unbind5):
        account, account_type = op.account
        store.record_account_unbinds(APP, [AccountUnbind(account, account_type, op.version, "u")])
    else:
        store.record(APP, [op])


def held(store: LedgerStore) -> dict[str, set[AccountKey]]:
    bound = store.bound(APP, TOKENS)
    return {t: {(c.account, c.account_type) for c in cells} for t, cells in bound.items()}


@pytest.mark.parametrize("seed", range(12))
def test_shuffled_repeated_racing_deliveries_give_the_issued_order_state(
    memory: Memory, seed: int
) -> None:
    # GIVEN operations issued in some order
    rng = random.Random(seed)
    ops = [random_op(rng, 1_000 + i) for i in range(30)]
    store = memory.ledger()
    # WHEN they are recorded shuffled, some twice, by four writers at once
    deliveries = ops + rng.sample(ops, 10)
    rng.shuffle(deliveries)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda op: record(store, op), deliveries))
    # THEN the ledger holds what applying them once, in issued order, gives
    assert held(store) == in_issued_order(ops)


def test_a_bind_newer_than_everything_is_written_blind_in_one_transaction(
    memory: Memory,
) -> None:
    # GIVEN a token bound at t1
    store = memory.ledger()
    store.record(APP, [TokenOp("bind", "t0", version(1, "a"), "a", (("alice", 0),))])
    calls: list[str] = []
    memory.dynamodb.meta.events.register(
        "before-call.dynamodb", lambda event_name, **_: calls.append(event_name.split(".")[-1])
    )
    # WHEN a bind issued at t2 is recorded
    (recorded,) = store.record(APP, [TokenOp("bind", "t0", version(2, "b"), "b", (("bob", 0),))])
    # THEN it took one transaction, and the token is bound to bob only
    assert calls == ["TransactWriteItems"]
    assert [(c.account, c.op_id) for c in recorded.bound] == [("bob", "b")]
    assert held(store)["t0"] == {("bob", 0)}


def test_a_bind_older_than_an_unbind_is_superseded_and_changes_nothing(memory: Memory) -> None:
    # GIVEN a token unbound at t2
    store = memory.ledger()
    store.record(APP, [TokenOp("unbind_token", "t0", version(2, "u"), "u")])
    # WHEN a bind issued at t1 arrives after it
    (recorded,) = store.record(APP, [TokenOp("bind", "t0", version(1, "b"), "b", (("bob", 0),))])
    # THEN it is superseded, and the token stays unbound
    assert recorded.superseded
    assert held(store)["t0"] == set()


def test_a_bind_of_an_account_a_later_op5_unbound_leaves_it_unbound(memory: Memory) -> None:
    # GIVEN bob unbound from every token at t3
    store = memory.ledger()
    store.record_account_unbinds(APP, [AccountUnbind("bob", 0, version(3, "u"), "u")])
    # WHEN a bind of bob issued at t2 arrives after it
    (recorded,) = store.record(APP, [TokenOp("bind", "t0", version(2, "b"), "b", (("bob", 0),))])
    # THEN bob is not bound (the bind is recorded, but the op 5 is newer)
    assert not recorded.superseded
    assert recorded.bound == ()
    assert held(store)["t0"] == set()


def test_an_account_bound_with_two_types_pages_one_binding_per_index_entry(
    memory: Memory,
) -> None:
    # GIVEN a token bound to alice as account type 0 and as type 1
    store = memory.ledger()
    accounts = (("alice", 0), ("alice", 1))
    store.record(APP, [TokenOp("bind", "t0", version(1, "b"), "b", accounts)])
    # WHEN alice's bindings of every type are read one per page
    first, start = store.account_bindings(APP, "alice", None, limit=1)
    second, _ = store.account_bindings(APP, "alice", None, limit=1, start=start)
    # THEN each page holds one binding, and the two pages hold both types once
    assert [(b.token, b.account_type) for b in first + second] == [("t0", 0), ("t0", 1)]


def test_an_op5_recorded_while_an_older_bind_is_written_back_keeps_its_account_unbound(
    memory: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a token whose newest operation (t5) is an op 3 of bob, so a bind of alice issued
    # at t1 is read, applied and written back; and an op 5 of alice (t2) that another writer
    # records just as that write lands
    store, other = memory.ledger(), memory.ledger()
    store.record(APP, [TokenOp("unbind_accounts", "t0", version(5, "u3"), "u3", (("bob", 0),))])
    write_back = store._write

    def write_back_then_op5(writes: object) -> list[str]:
        conflicted = write_back(writes)  # type: ignore[arg-type]
        other.record_account_unbinds(APP, [AccountUnbind("alice", 0, version(2, "u5"), "u5")])
        return conflicted

    monkeypatch.setattr(store, "_write", write_back_then_op5)
    # WHEN the bind is recorded
    (recorded,) = store.record(APP, [TokenOp("bind", "t0", version(1, "b"), "b", (("alice", 0),))])
    # THEN it does not keep alice (so does not send her), as the ledger says
    assert recorded.bound == ()
    assert held(store)["t0"] == set()
