"""The ledger's rules, without DynamoDB: any delivery order gives the issued-order result."""

from __future__ import annotations

import random

import pytest

from tests.support.ledger_ops import TOKENS, Op, Unbind5, in_issued_order, random_op
from tpns_api.ledger import cells
from tpns_api.ledger.cells import AccountKey, TokenOp


def in_delivery_order(deliveries: list[Op]) -> dict[str, set[AccountKey]]:
    """What the ledger holds after recording the deliveries, as they come."""
    items: dict[str, dict[str, object] | None] = {t: None for t in TOKENS}
    unbinds: dict[AccountKey, str] = {}
    for op in deliveries:
        if isinstance(op, Unbind5):
            unbinds[op.account] = max(unbinds.get(op.account, ""), op.version)
            continue
        change = cells.apply(items[op.token], op)
        if change.item is not None:
            items[op.token] = change.item
    return {
        t: {(c.account, c.account_type) for c in cells.bound(item, unbinds)}
        for t, item in items.items()
    }


@pytest.mark.parametrize("seed", range(300))
def test_any_delivery_order_with_repeats_gives_the_issued_order_state(seed: int) -> None:
    # GIVEN operations issued in some order
    rng = random.Random(seed)
    ops = [random_op(rng, 1_000 + i) for i in range(rng.randint(1, 12))]
    # WHEN they are delivered shuffled, some twice
    deliveries = ops + rng.sample(ops, rng.randint(0, len(ops)))
    rng.shuffle(deliveries)
    # THEN the ledger holds what applying them once, in issued order, gives
    assert in_delivery_order(deliveries) == in_issued_order(ops)


def test_a_late_bind_issued_before_an_unbind_is_superseded() -> None:
    # GIVEN a token unbound at t2
    unbind = TokenOp("unbind_token", "t0", cells.version(2, "u"), "u")
    item = cells.apply(None, unbind).item
    # WHEN a bind issued at t1 arrives after it
    change = cells.apply(item, TokenOp("bind", "t0", cells.version(1, "b"), "b", (("alice", 0),)))
    # THEN it changes nothing and says so
    assert change.superseded and change.item is None
    assert cells.bound(item, {}) == []


def test_a_redelivered_bind_is_recorded_again_unchanged() -> None:
    # GIVEN a recorded bind
    bind = TokenOp("bind", "t0", cells.version(5, "b"), "b", (("alice", 0),))
    item = cells.apply(None, bind).item
    # WHEN the same operation arrives again
    again = cells.apply(item, bind)
    # THEN it is not superseded (it is still the latest) and the cells are the same
    assert not again.superseded
    assert cells.bound(again.item, {}) == cells.bound(item, {})


def test_a_bind_drops_the_cells_and_markers_it_makes_obsolete() -> None:
    # GIVEN a token with an email cell and an op 3 marker
    item = cells.apply(
        None, TokenOp("bind", "t0", cells.version(1, "a"), "a", (("a@x.cn", 1005),))
    ).item
    item = cells.apply(
        item, TokenOp("unbind_accounts", "t0", cells.version(2, "b"), "b", (("bob", 0),))
    ).item
    # WHEN a newer bind replaces the token's accounts
    after = cells.apply(item, TokenOp("bind", "t0", cells.version(3, "c"), "c", (("alice", 0),)))
    # THEN the item keeps only what still matters
    assert after.item is not None
    assert sorted(k for k in after.item if k[:1] in "cm") == ["c0"]


def test_a_backfill_never_overrides_what_the_bundle_recorded() -> None:
    # GIVEN a token the bundle bound
    item = cells.apply(
        None, TokenOp("bind", "t0", cells.version(9, "b"), "b", (("alice", 0),))
    ).item
    # WHEN a backfill observes another account in TPNS
    change = cells.apply(
        item, TokenOp("observe", "t0", cells.BACKFILL_VERSION, "bf", (("bob", 0),))
    )
    # THEN nothing changes
    assert change.item is None and change.superseded


def test_a_backfill_records_what_tpns_holds_for_an_unknown_token() -> None:
    # GIVEN / WHEN a backfill observes a token the ledger never saw
    change = cells.apply(
        None, TokenOp("observe", "t0", cells.BACKFILL_VERSION, "bf", (("bob", 0),))
    )
    # THEN it is bound there, older than anything the bundle will do
    assert [(c.account, c.version) for c in cells.bound(change.item, {})] == [
        ("bob", cells.BACKFILL_VERSION)
    ]


@pytest.mark.parametrize("seed", range(200))
def test_an_operation_newer_than_everything_leaves_what_writing_it_blind_leaves(seed: int) -> None:
    # GIVEN a token's item after random operations, and a bind or op 4 newer than all of them
    rng = random.Random(seed)
    item: dict[str, object] | None = None
    for i in range(rng.randint(0, 8)):
        op = random_op(rng, 1_000 + i)
        if isinstance(op, TokenOp):
            change = cells.apply(item, TokenOp(op.kind, "t0", op.version, op.op_id, op.accounts))
            item = change.item or item
    newest = random_op(rng, 5_000)
    while not (isinstance(newest, TokenOp) and newest.kind in ("bind", "unbind_token")):
        newest = random_op(rng, 5_000)
    newest = TokenOp(newest.kind, "t0", newest.version, newest.op_id, newest.accounts)
    # WHEN it is applied to the item, and written blind (cells.newest) instead
    applied = cells.apply(item, newest).item
    blind = cells.newest(newest)
    # THEN both hold the same cells, and any later operations leave both the same
    assert cells.cells_of(applied) == cells.cells_of(blind)
    for i in range(rng.randint(1, 6)):
        later = random_op(rng, rng.randint(900, 9_000) + i)
        if isinstance(later, TokenOp):
            later = TokenOp(later.kind, "t0", later.version, later.op_id, later.accounts)
            applied = cells.apply(applied, later).item or applied
            blind = cells.apply(blind, later).item or blind
    assert cells.cells_of(applied) == cells.cells_of(blind)
