"""Jobs and the ledger through a running local stack: submit, watch, page, queue, wait.

Everything goes where a user's tools would go: the gateway (with the stack's API key), the
stack's moto server (the bulk queue, as any producer sends to it) and the emulator's admin API.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from mypy_boto3_sqs.literals import QueueAttributeNameType

from tests.support.emulator_admin import EmulatorAdmin
from tests.support.local_stack import RunningStack

FINAL_STATES = ("succeeded", "completed_with_failures", "failed")
QUEUE_COUNTS: tuple[QueueAttributeNameType, ...] = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


def emulator_of(stack: RunningStack) -> EmulatorAdmin:
    return EmulatorAdmin(str(stack.endpoints["tpns"]))


def submit_job(stack: RunningStack, body: Any, key: str | None = None) -> requests.Response:
    """``POST /v1/jobs`` (with an ``Idempotency-Key`` when given)."""
    headers = {"Idempotency-Key": key} if key is not None else {}
    return stack.call("POST", "/v1/jobs", body, headers=headers)


def job_status(stack: RunningStack, job_id: str) -> dict[str, Any]:
    answer = stack.call("GET", f"/v1/jobs/{job_id}")
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


@dataclass
class Watched:
    """A job polled until final: every state seen in order (repeats folded), the last answer."""

    states: list[str] = field(default_factory=list)
    last: dict[str, Any] = field(default_factory=dict)


def watch_job(
    stack: RunningStack, job_id: str, *, timeout_s: float = 90, every_s: float = 0.2
) -> Watched:
    """Poll ``GET /v1/jobs/{job_id}`` until its state is final (or the timeout passes)."""
    watched = Watched()
    deadline = time.monotonic() + timeout_s
    while True:
        status = job_status(stack, job_id)
        watched.last = status
        if not watched.states or watched.states[-1] != status["state"]:
            watched.states.append(status["state"])
        if status["state"] in FINAL_STATES or time.monotonic() > deadline:
            return watched
        time.sleep(every_s)


def wait_job_delivered(stack: RunningStack, job_id: str, *, timeout_s: float = 60) -> None:
    """Until every message of the job was delivered and counted (``messages.done``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        messages = job_status(stack, job_id)["messages"]
        if messages["done"] == messages["total"]:
            return
        assert time.monotonic() < deadline, f"job {job_id}: messages {messages}"
        time.sleep(0.1)


def failure_pages(stack: RunningStack, job_id: str, limit: int) -> list[dict[str, Any]]:
    """Every page of ``GET /v1/jobs/{job_id}/failures``, following ``next_cursor``."""
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        answer = stack.call("GET", f"/v1/jobs/{job_id}/failures{query}")
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None or len(pages) > 100:
            return pages


def account_binding_pages(
    stack: RunningStack, account: str, account_type: int, limit: int
) -> list[dict[str, Any]]:
    """Every page of ``GET /v1/accounts/{account}/bindings``, following ``next_cursor``."""
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = f"?account_type={account_type}&limit={limit}"
        query += f"&cursor={cursor}" if cursor else ""
        answer = stack.call("GET", f"/v1/accounts/{account}/bindings{query}")
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None or len(pages) > 100:
            return pages


def token_bindings(stack: RunningStack, token: str) -> set[tuple[str, int]]:
    """What the ledger says ``token`` is bound to (``GET /v1/tokens/{token}/bindings``)."""
    answer = stack.call("GET", f"/v1/tokens/{token}/bindings")
    assert answer.status_code == 200, answer.text
    return {(b["account"], b["account_type"]) for b in answer.json()["items"]}


def send_to_bulk_queue(stack: RunningStack, body: dict[str, Any], delay_s: int = 0) -> None:
    """Queue one message as any producer does (SendMessage to ``BulkQueueUrl``)."""
    stack.sqs().send_message(
        QueueUrl=stack.outputs["BulkQueueUrl"], MessageBody=json.dumps(body), DelaySeconds=delay_s
    )


def send_all_to_bulk_queue(stack: RunningStack, bodies: list[dict[str, Any]]) -> None:
    """Queue messages in this order, ten per SendMessageBatch."""
    sqs, url = stack.sqs(), stack.outputs["BulkQueueUrl"]
    for start in range(0, len(bodies), 10):
        part = bodies[start : start + 10]
        entries = [{"Id": str(i), "MessageBody": json.dumps(b)} for i, b in enumerate(part)]
        answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
        assert not answer.get("Failed"), answer


def queue_is_empty(stack: RunningStack, output: str) -> bool:
    """Nothing on the queue: not waiting, not in flight, not delayed."""
    attributes = stack.sqs().get_queue_attributes(
        QueueUrl=stack.outputs[output],
        AttributeNames=list(QUEUE_COUNTS),
    )["Attributes"]
    return all(int(attributes.get(name) or 0) == 0 for name in QUEUE_COUNTS)


def wait_until_idle(stack: RunningStack, *, timeout_s: float = 60) -> None:
    """Until the bulk and verify queues hold nothing and TPNS has applied everything it
    accepted: the stack has done all it will do."""
    emulator = emulator_of(stack)
    _wait_quiet(
        lambda: (
            queue_is_empty(stack, "BulkQueueUrl")
            and queue_is_empty(stack, "VerifyQueueUrl")
            and emulator.pending() == 0
        ),
        timeout_s,
    )


def wait_until_delivered(stack: RunningStack, *, timeout_s: float = 60) -> None:
    """Until the bulk queue holds nothing: every message sent so far was delivered and done
    with (its verification may still be pending)."""
    _wait_quiet(lambda: queue_is_empty(stack, "BulkQueueUrl"), timeout_s)


def _wait_quiet(quiet: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    in_a_row = 0
    while in_a_row < 2:  # twice in a row: a message may be on its way from one queue to another
        if time.monotonic() > deadline:
            raise AssertionError(f"the stack did not go idle within {timeout_s} s")
        in_a_row = in_a_row + 1 if quiet() else 0
        time.sleep(0.15)


#: The jobs tests' stack: TPNS calls one at a time (a message's chunks go in order, so a fault
#: that fires N times fails exactly its first chunk), a message dead-lettered on its second
#: receive, verification 1 s after a write, and no QPS cap worth the name (loopback).
JOBS_STACK_OPTIONS = (
    "--verify-delay", "1",
    "--apply-delay", "0.5",
    "--parameter-overrides", "TpnsMaxConcurrency=1", "TpnsMaxQps=1000", "BulkMaxReceiveCount=2",
)  # fmt: skip
#: The ledger tests' stack: verification 1 s after a write (then 2 s, 4 s), TPNS applying
#: 0.5 s after accepting, and no QPS cap worth the name.
LEDGER_STACK_OPTIONS = (
    "--verify-delay", "1",
    "--apply-delay", "0.5",
    "--parameter-overrides", "TpnsMaxQps=1000",
)  # fmt: skip


def idle_and_reset(stack: RunningStack) -> EmulatorAdmin:
    """Let the stack finish what earlier tests started (their faults cleared), then reset its
    emulator: bindings, counters, faults and settings as the stack started it."""
    emulator = emulator_of(stack)
    emulator.clear_faults()
    wait_until_idle(stack, timeout_s=120)
    emulator.reset()
    return emulator


def now_ms() -> int:
    return int(time.time() * 1000)


def issued_before_now_ms() -> int:
    """An ``issued_at`` earlier than anything issued from now on (epoch ms): a millisecond ago.

    ``issued_at``, ``requestTimeEpoch`` and ``SentTimestamp`` count whole milliseconds, and two
    operations issued in the same one tie: the ledger then orders them by operation id
    (``cells.version``), not by which came first. "Now" would tie with a request sent right
    after it about one time in ten on loopback, and lose the tie about half the time.
    """
    return now_ms() - 1


def bind_message(token: str, accounts: list[tuple[str, int]], issued_at: int) -> dict[str, Any]:
    """A queued bind (another producer's message), issued at ``issued_at`` (epoch ms)."""
    account_list = [{"account": a, "account_type": t} for a, t in accounts]
    return {
        "operation": "bind",
        "issued_at": issued_at,
        "token_accounts": [{"token": token, "account_list": account_list}],
    }


def unbind_token_message(token: str, issued_at: int) -> dict[str, Any]:
    """A queued unbind of ``token`` from all its accounts (op 4), issued at ``issued_at``."""
    return {"operation": "unbind", "issued_at": issued_at, "token_list": [token]}


def bind_body(token: str, accounts: list[tuple[str, int]]) -> dict[str, Any]:
    """The body of a bind of ``token`` to ``accounts`` (``POST /v1/bind`` or a bind job)."""
    account_list = [{"account": a, "account_type": t} for a, t in accounts]
    return {"token_accounts": [{"token": token, "account_list": account_list}]}


@contextmanager
def bulk_queue_delay(stack: RunningStack, seconds: int) -> Iterator[None]:
    """Messages sent to the bulk queue meanwhile are delivered ``seconds`` later (the queue's
    DelaySeconds), so that a later message can overtake them."""
    sqs, url = stack.sqs(), stack.outputs["BulkQueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": str(seconds)})
    try:
        yield
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "0"})


def messages_delayed(stack: RunningStack) -> int:
    """How many messages on the bulk queue are still delayed."""
    attributes = stack.sqs().get_queue_attributes(
        QueueUrl=stack.outputs["BulkQueueUrl"],
        AttributeNames=["ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessagesDelayed") or 0)
