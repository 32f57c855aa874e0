"""The bulk DLQ on real queues (moto server): list, dry run, redrive byte for byte."""

from __future__ import annotations

import pytest
from mypy_boto3_sqs import SQSClient

from tests.support.bulk import MAX_RECEIVE_COUNT, create_queue_with_dlq, drain_queue
from tpns_cli import dlq
from tpns_cli.errors import QueueError
from tpns_cli.target import Queues

# A dead letter as the bulk function writes it: spaced and ordered its own way, with issued_at.
DEAD_BODY = (
    '{"operation": "bind", "issued_at": 1764583200000, "job_id": "j1", "token_accounts": '
    '[{"token": "t1", "account_list": [{"account": "\\u00e9lise@example.com"}]}], '
    '"reasons": ["TPNS code 1008007"]}'
)


@pytest.fixture
def queues(sqs: SQSClient) -> Queues:
    queue_url, dlq_url = create_queue_with_dlq(sqs, MAX_RECEIVE_COUNT)
    return Queues(sqs, queue_url, dlq_url)


def dead_letter(queues: Queues, body: str, reason: str = "1 item(s) can never succeed") -> None:
    queues.sqs.send_message(
        QueueUrl=queues.dlq_url,
        MessageBody=body,
        MessageAttributes={
            "reason": {"DataType": "String", "StringValue": reason},
            "receive_count": {"DataType": "String", "StringValue": "1"},
        },
    )


def test_a_redrive_moves_every_body_byte_for_byte_and_empties_the_dlq(queues: Queues) -> None:
    # GIVEN 23 dead letters (more than one batch), one of them not even JSON
    bodies = [DEAD_BODY.replace('"j1"', f'"j{i}"') for i in range(22)] + ["not json at all"]
    for body in bodies:
        dead_letter(queues, body)

    # WHEN they are redriven
    result = dlq.redrive(queues)

    # THEN each body is on the bulk queue exactly as it was, and the DLQ is empty
    assert result == dlq.Redrive(moved=23, not_sent=0, sent_not_deleted=0, left=0)
    moved = sorted(m["Body"] for m in drain_queue(queues.sqs, queues.queue_url))
    assert moved == sorted(bodies)
    assert drain_queue(queues.sqs, queues.dlq_url) == []


def test_a_redrive_with_max_moves_at_most_that_many(queues: Queues) -> None:
    # GIVEN 5 dead letters
    for i in range(5):
        dead_letter(queues, DEAD_BODY.replace('"j1"', f'"j{i}"'))

    # WHEN at most 3 are redriven
    result = dlq.redrive(queues, max_messages=3)

    # THEN 3 moved and 2 are still in the DLQ
    assert (result.moved, result.left) == (3, 2)
    assert len(drain_queue(queues.sqs, queues.queue_url)) == 3


def test_listing_moves_nothing_and_leaves_the_messages_visible(queues: Queues) -> None:
    # GIVEN 12 dead letters
    for i in range(12):
        dead_letter(queues, DEAD_BODY.replace('"j1"', f'"j{i}"'), reason=f"reason {i}")

    # WHEN they are listed (as a dry run of a redrive lists them)
    listed = dlq.peek(queues, limit=100)

    # THEN each is listed once with what it carries, none moved, and a redrive right after
    # still finds all of them (listing did not hide them)
    assert len(listed) == 12 and len({m.message_id for m in listed}) == 12
    first = next(m for m in listed if m.reason == "reason 0")
    assert first.summary() == {"job_id": "j0", "operation": "bind", "items": 1}
    assert first.deliveries == "1"
    assert drain_queue(queues.sqs, queues.queue_url) == []
    assert dlq.redrive(queues).moved == 12


def test_a_copy_sqs_refuses_stays_in_the_dlq(queues: Queues) -> None:
    # GIVEN a dead letter and a bulk queue that does not exist (SQS refuses every copy)
    dead_letter(queues, DEAD_BODY)
    broken = Queues(queues.sqs, queues.queue_url + "-gone", queues.dlq_url)

    # WHEN it is redriven
    with pytest.raises(QueueError):
        dlq.redrive(broken)

    # THEN it is still in the DLQ, visible again at once for the next try
    assert dlq.depth(queues) == 1
    assert [m.body for m in dlq.peek(queues, limit=10)] == [DEAD_BODY]
