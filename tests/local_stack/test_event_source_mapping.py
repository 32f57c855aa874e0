"""The local SQS event source mapping reads batches and partial batch responses as Lambda does."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from local_stack.esm import SqsEventSourceMapping
from tests.conftest import REGION


@pytest.fixture
def queue(moto_endpoint: str) -> tuple[Any, str]:
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
    url = sqs.create_queue(QueueName=f"esm-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    return sqs, url


def send(sqs: Any, url: str, count: int) -> None:
    for start in range(0, count, 10):
        entries = [
            {"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(min(10, count - start))
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def left_on(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def test_a_batch_larger_than_10_is_gathered_within_the_batching_window(
    queue: tuple[Any, str],
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
    "response", [None, {}, {"batchItemFailures": None}, {"batchItemFailures": []}]
)
def test_an_empty_partial_batch_response_deletes_the_whole_batch(
    queue: tuple[Any, str], response: Any
) -> None:
    sqs, url = queue
    send(sqs, url, 3)
    mapping = SqsEventSourceMapping(sqs, url, lambda event, _: response)

    mapping.poll_once()

    assert left_on(sqs, url) == 0


def test_only_the_reported_messages_stay_on_the_queue(queue: tuple[Any, str]) -> None:
    sqs, url = queue
    send(sqs, url, 3)

    def fail_first(event: dict[str, Any], _: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}

    mapping = SqsEventSourceMapping(sqs, url, fail_first)

    mapping.poll_once()

    assert left_on(sqs, url) == 1


@pytest.mark.parametrize(
    "failures", [[{"itemIdentifier": "not-in-this-batch"}], [{"id": "no identifier"}]]
)
def test_a_response_naming_no_message_of_the_batch_fails_the_whole_batch(
    queue: tuple[Any, str], failures: list[dict[str, str]]
) -> None:
    sqs, url = queue
    send(sqs, url, 3)
    mapping = SqsEventSourceMapping(sqs, url, lambda event, _: {"batchItemFailures": failures})

    mapping.poll_once()

    assert left_on(sqs, url) == 3 and mapping.stats.failed == 3
