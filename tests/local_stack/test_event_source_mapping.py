"""The local SQS event source mapping reads batches and partial batch responses as Lambda does."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from mypy_boto3_sqs import SQSClient
from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

from local_stack.esm import SqsEventSourceMapping


@pytest.fixture
def queue(sqs: SQSClient) -> tuple[SQSClient, str]:
    """A fresh queue on the moto server: the client and the queue's URL."""
    url = sqs.create_queue(QueueName=f"esm-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    return sqs, url


def send(sqs: SQSClient, url: str, count: int) -> None:
    """Put ``count`` messages m0, m1, ... on the queue."""
    for start in range(0, count, 10):
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(min(10, count - start))
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def left_on(sqs: SQSClient, url: str) -> int:
    """How many messages the queue still holds, visible or in flight."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def test_a_batch_larger_than_10_is_gathered_within_the_batching_window(
    queue: tuple[SQSClient, str],
) -> None:
    # GIVEN 25 messages and a mapping with batch size 25 and a batching window
    sqs, url = queue
    send(sqs, url, 25)
    batches: list[int] = []
    mapping = SqsEventSourceMapping(
        sqs, url, lambda event, _: batches.append(len(event["Records"])), batch_size=25,
        batching_window_s=5,
    )  # fmt: skip

    # WHEN it polls once
    delivered = mapping.poll_once()

    # THEN the function got all 25 in one batch, and they were deleted
    assert delivered == 25 and batches == [25]
    assert left_on(sqs, url) == 0


@pytest.mark.parametrize(
    "response",
    [None, {}, {"batchItemFailures": None}, {"batchItemFailures": []}],
    ids=["none", "empty-object", "null-failures", "empty-failures"],
)
def test_an_empty_partial_batch_response_deletes_the_whole_batch(
    queue: tuple[SQSClient, str], response: Any
) -> None:
    # GIVEN 3 messages, and a function answering a response that reports no failure
    sqs, url = queue
    send(sqs, url, 3)
    mapping = SqsEventSourceMapping(sqs, url, lambda event, _: response)

    # WHEN the mapping polls once
    mapping.poll_once()

    # THEN every message was deleted
    assert left_on(sqs, url) == 0


def test_only_the_reported_messages_stay_on_the_queue(queue: tuple[SQSClient, str]) -> None:
    # GIVEN 3 messages, and a function reporting the first of its batch failed
    sqs, url = queue
    send(sqs, url, 3)

    def fail_first(event: dict[str, Any], _: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}

    mapping = SqsEventSourceMapping(sqs, url, fail_first)

    # WHEN the mapping polls once
    mapping.poll_once()

    # THEN only that message is left on the queue
    assert left_on(sqs, url) == 1


@pytest.mark.parametrize(
    "failures",
    [[{"itemIdentifier": "not-in-this-batch"}], [{"id": "no identifier"}]],
    ids=["unknown-identifier", "no-identifier"],
)
def test_a_response_naming_no_message_of_the_batch_fails_the_whole_batch(
    queue: tuple[SQSClient, str], failures: list[dict[str, str]]
) -> None:
    # GIVEN 3 messages, and a function reporting a failure that names none of them
    sqs, url = queue
    send(sqs, url, 3)
    mapping = SqsEventSourceMapping(sqs, url, lambda event, _: {"batchItemFailures": failures})

    # WHEN the mapping polls once
    mapping.poll_once()

    # THEN the whole batch failed and stays on the queue, as Lambda treats such a response
    assert left_on(sqs, url) == 3 and mapping.stats.failed == 3
