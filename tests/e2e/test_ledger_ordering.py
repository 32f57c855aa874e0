"""Last issued wins, end to end through the local stack, whatever order SQS delivers in.

Every test runs under both readings of TPNS's override (whole token, or per account type):
the bundle must reach the ledger's state under either.
"""

from __future__ import annotations

import random

import pytest

from tests.support.emulator_admin import EmulatorAdmin, tokens_sent
from tests.support.local_stack import RunningStack
from tests.support.random_ops import random_ops, state_in_issued_order
from tests.support.stack_jobs import (
    bind_body,
    bind_message,
    bulk_queue_delay,
    issued_before_now_ms,
    messages_delayed,
    now_ms,
    queue_is_empty,
    send_all_to_bulk_queue,
    send_to_bulk_queue,
    submit_job,
    token_bindings,
    unbind_token_message,
    wait_job_delivered,
    wait_until_delivered,
    wait_until_idle,
    watch_job,
)

SCOPES = ["token", "type"]


@pytest.mark.parametrize("scope", SCOPES)
def test_a_bind_delivered_after_a_later_unbind_never_binds_the_token_again(
    ledger_stack: RunningStack, ledger_tpns: EmulatorAdmin, scope: str
) -> None:
    # GIVEN TPNS with this override scope, and a token bound by an earlier login (t0)
    ledger_tpns.configure(override_scope=scope)
    token = f"reorder-{scope}"
    t0 = now_ms() - 3000
    t1, t2 = t0 + 1000, t0 + 2000
    send_to_bulk_queue(ledger_stack, bind_message(token, [("earlier@x.cn", 1005)], t0))
    wait_until_delivered(ledger_stack)
    ledger_tpns.flush()
    assert ledger_tpns.state().get(token) == {("earlier@x.cn", 1005)}
    # AND a login bind issued at t1 and a logout unbind issued at t2 > t1
    bind = bind_message(token, [("alice", 0), ("alice@x.cn", 1005)], t1)
    unbind = unbind_token_message(token, t2)

    # WHEN they are delivered unbind first, then the bind, then the bind again
    for message in (unbind, bind, bind):
        send_to_bulk_queue(ledger_stack, message)
        wait_until_delivered(ledger_stack)
    wait_until_idle(ledger_stack)

    # THEN the token is unbound in TPNS and in the ledger
    assert token not in ledger_tpns.state()
    assert token_bindings(ledger_stack, token) == set()
    # AND TPNS got the unbind, and nothing that binds the token after it
    ops = [c["operator_type"] for c in ledger_tpns.batch_calls() if token in tokens_sent(c)]
    assert ops[0] == 2 and 4 in ops
    assert not {1, 2} & set(ops[ops.index(4) :]), ops


@pytest.mark.parametrize("scope", SCOPES)
def test_an_older_queued_bind_delivered_after_a_sync_unbind_leaves_the_token_unbound(
    ledger_stack: RunningStack, ledger_tpns: EmulatorAdmin, scope: str
) -> None:
    # GIVEN TPNS with this override scope, and a token bound through the API
    ledger_tpns.configure(override_scope=scope)
    token = f"sync-unbind-{scope}"
    bound = ledger_stack.call("POST", "/v1/bind", bind_body(token, [("bob", 0)]))
    assert bound.status_code == 200, bound.text
    ledger_tpns.flush()
    assert ledger_tpns.state().get(token) == {("bob", 0)}
    # AND a bind of it queued before the logout below (issued earlier, still on its way: in an
    # earlier millisecond, as the same one would be a tie, which operation ids decide)
    queued = bind_message(token, [("bob", 0), ("bob@x.cn", 1005)], issued_before_now_ms())

    # WHEN the token is unbound through the API, and the queued bind is delivered after
    unbound = ledger_stack.call("POST", "/v1/unbind", {"token_list": [token]})
    assert unbound.status_code == 200, unbound.text
    send_to_bulk_queue(ledger_stack, queued)
    wait_until_idle(ledger_stack)

    # THEN the token stays unbound, in TPNS and in the ledger
    assert token not in ledger_tpns.state()
    assert token_bindings(ledger_stack, token) == set()


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("delivered_last", ["earlier", "later"])
def test_of_two_jobs_binding_a_token_the_later_issued_wins_whichever_is_delivered_last(
    ledger_stack: RunningStack, ledger_tpns: EmulatorAdmin, scope: str, delivered_last: str
) -> None:
    # GIVEN TPNS with this override scope, and two jobs binding one token to different
    # accounts (of different types, so a per-type override alone would keep both)
    ledger_tpns.configure(override_scope=scope)
    token = f"two-jobs-{scope}-{delivered_last}"
    earlier = {"operation": "bind", **bind_body(token, [("carol", 0)])}
    later = {"operation": "bind", **bind_body(token, [("dave@x.cn", 1005)])}

    # WHEN the earlier job is issued first, and delivered first or (held on the queue) last
    if delivered_last == "earlier":
        with bulk_queue_delay(ledger_stack, 3):
            first = submit_job(ledger_stack, earlier)
        second = submit_job(ledger_stack, later)
        wait_job_delivered(ledger_stack, second.json()["job_id"])
        assert messages_delayed(ledger_stack) == 1, "the earlier job was delivered first"
        first_job = watch_job(ledger_stack, first.json()["job_id"])
        second_job = watch_job(ledger_stack, second.json()["job_id"])
    else:
        first = submit_job(ledger_stack, earlier)
        wait_until_delivered(ledger_stack)
        second = submit_job(ledger_stack, later)
        first_job = watch_job(ledger_stack, first.json()["job_id"])
        second_job = watch_job(ledger_stack, second.json()["job_id"])
    wait_until_idle(ledger_stack)

    # THEN the token holds the later-issued job's account only, in TPNS and in the ledger
    assert ledger_tpns.state().get(token) == {("dave@x.cn", 1005)}
    assert token_bindings(ledger_stack, token) == {("dave@x.cn", 1005)}
    # AND both jobs succeeded; delivered last, the earlier one was superseded
    assert first_job.last["state"] == second_job.last["state"] == "succeeded"
    superseded = 1 if delivered_last == "earlier" else 0
    assert first_job.last["items"]["superseded"] == superseded
    assert second_job.last["items"]["accepted"] == 1


RANDOM_TOKENS = [f"rnd-{i:02d}" for i in range(50)]


def random_accounts(scope: str) -> list[tuple[str, int]]:
    """Thirteen accounts of three types, this test's own (an op 5 unbinds an account from
    every token of the app, so two tests must not share one)."""
    mobile = f"+86137{SCOPES.index(scope)}000000"
    return [
        *((f"user-{i}-{scope}", 0) for i in range(5)),
        *((f"user-{i}-{scope}@x.cn", 1005) for i in range(5)),
        *((f"{mobile}{i}", 1002) for i in range(3)),
    ]


@pytest.mark.parametrize("scope", SCOPES)
def test_500_random_operations_delivered_shuffled_with_repeats_and_faults_end_in_issued_order(
    ledger_stack: RunningStack, ledger_tpns: EmulatorAdmin, scope: str
) -> None:
    # GIVEN 500 binds and unbinds (all four kinds) of 50 tokens and 13 accounts, issued at
    # random instants
    rng = random.Random(f"ordering-{scope}")
    tokens = [f"{t}-{scope}" for t in RANDOM_TOKENS]
    accounts = random_accounts(scope)
    ops = random_ops(rng, 500, tokens, accounts, start_ms=now_ms() - 600_000)
    # AND TPNS with this override scope, failing 20% of calls with a 503
    ledger_tpns.configure(override_scope=scope)
    ledger_tpns.seed(rng.randrange(1 << 30))
    ledger_tpns.fault("http", status=503, probability=0.2)

    # WHEN they are queued shuffled, 50 of them twice, and the stack has done all it will do
    # (two bulk invocations at once, verification alongside)
    deliveries = ops + rng.sample(ops, 50)
    rng.shuffle(deliveries)
    send_all_to_bulk_queue(ledger_stack, [op.message() for op in deliveries])
    wait_until_idle(ledger_stack, timeout_s=180)

    # THEN the faults happened, and no message was dead-lettered
    stats = ledger_tpns.stats()
    assert stats["faults_fired"]["http"] / stats["requests"] > 0.15
    assert queue_is_empty(ledger_stack, "BulkDeadLetterQueueUrl")
    # AND TPNS holds, for every token, what the operations applied in issued order leave
    expected = state_in_issued_order(ops, tokens)
    held = ledger_tpns.state()
    assert {t: held.get(t, set()) for t in tokens} == expected
    # AND so does the ledger
    assert {t: token_bindings(ledger_stack, t) for t in tokens} == expected
