"""The bulk function on real SQS queues (moto server): a queue, its DLQ, and the function."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from mypy_boto3_sqs import SQSClient
from mypy_boto3_sqs.type_defs import MessageTypeDef

from local_stack.esm import SqsEventSourceMapping
from tests.support.lambda_runtime import FakeLambdaContext

# The test queue's redrive: a message is dead-lettered after this many deliveries.
MAX_RECEIVE_COUNT = 3


def drain_queue(sqs: SQSClient, queue_url: str) -> list[MessageTypeDef]:
    """Receive and delete every message on the queue (with its attributes), until it is empty."""
    drained: list[MessageTypeDef] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return drained
        drained += batch
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]}
                for i, message in enumerate(batch)
            ],
        )


def create_queue_with_dlq(sqs: SQSClient, max_receive_count: int) -> tuple[str, str]:
    """A uniquely named queue redriving to its own dead-letter queue: (queue URL, DLQ URL)."""
    name = uuid.uuid4().hex[:8]
    dlq_url = sqs.create_queue(QueueName=f"bulk-dlq-{name}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=f"bulk-{name}",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
            ),
        },
    )["QueueUrl"]
    return queue_url, dlq_url


@dataclass
class BulkRig:
    """The bulk function configured like the template does, with its queue and DLQ."""

    sqs: SQSClient
    queue_url: str
    dlq_url: str
    module: ModuleType

    def send(self, body: Any) -> str:
        """Put one message on the bulk queue (a JSON-able body, or raw text); its id."""
        text = body if isinstance(body, str) else json.dumps(body)
        return str(self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=text)["MessageId"])

    def invoke(
        self, bodies: list[Any], *, remaining_ms: int = 60_000, receive_count: int = 1
    ) -> tuple[dict[str, Any], list[str]]:
        """Invoke the handler directly with one SQS event holding ``bodies`` (ids m0, m1, ...),
        each delivered for the ``receive_count``-th time; the answer and the ids it reports
        failed."""
        event = sqs_event(bodies, receive_count)
        answer = self.module.lambda_handler(event, FakeLambdaContext(remaining_ms))
        return answer, [f["itemIdentifier"] for f in answer["batchItemFailures"]]

    def esm(self, **options: Any) -> SqsEventSourceMapping:
        """The local event source mapping from the bulk queue to the function."""
        return SqsEventSourceMapping(
            self.sqs, self.queue_url, self.module.lambda_handler, function_name="bulk", **options
        )

    def queued(self) -> list[dict[str, Any]]:
        """The bodies waiting on the bulk queue (taken off it)."""
        return [json.loads(message["Body"]) for message in drain_queue(self.sqs, self.queue_url)]

    def dead_letters(self) -> list[dict[str, Any]]:
        """The messages in the DLQ (taken off it): their raw body and string attributes."""
        return [
            {
                "body": message["Body"],
                "attributes": {
                    k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()
                },
            }
            for message in drain_queue(self.sqs, self.dlq_url)
        ]


def sqs_event(bodies: list[Any], receive_count: int = 1) -> dict[str, Any]:
    """An SQS event delivering ``bodies`` (ids m0, m1, ...), each for the ``receive_count``-th
    time."""
    records = [
        {
            "messageId": f"m{i}",
            "receiptHandle": f"rh{i}",
            "body": body if isinstance(body, str) else json.dumps(body),
            "attributes": {"ApproximateReceiveCount": str(receive_count)},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
        }
        for i, body in enumerate(bodies)
    ]
    return {"Records": records}
