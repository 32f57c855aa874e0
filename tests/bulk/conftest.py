"""The bulk function against real SQS queues (moto server, redrive policy) and the emulator."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from local_stack.esm import SqsEventSourceMapping
from tests.conftest import REGION
from tests.functions import SECRET, FakeLambdaContext, configure_functions, load_function
from tpns_emulator import TpnsEmulator

MAX_RECEIVE_COUNT = 3


@dataclass
class BulkRig:
    sqs: Any
    queue_url: str
    dlq_url: str
    module: Any

    def send(self, body: Any) -> str:
        text = body if isinstance(body, str) else json.dumps(body)
        return str(self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=text)["MessageId"])

    def invoke(
        self, bodies: list[Any], *, remaining_ms: int = 60_000
    ) -> tuple[dict[str, Any], list[str]]:
        """Invoke the handler directly with one SQS event holding ``bodies`` (ids m0, m1, ...)."""
        records = [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"rh{i}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
            for i, body in enumerate(bodies)
        ]
        answer = self.module.lambda_handler({"Records": records}, FakeLambdaContext(remaining_ms))
        return answer, [f["itemIdentifier"] for f in answer["batchItemFailures"]]

    def esm(self, **options: Any) -> SqsEventSourceMapping:
        return SqsEventSourceMapping(
            self.sqs, self.queue_url, self.module.lambda_handler, function_name="bulk", **options
        )

    def dead_letters(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(
                    {
                        "body": message["Body"],
                        "attributes": {
                            k: v["StringValue"]
                            for k, v in message.get("MessageAttributes", {}).items()
                        },
                    }
                )
                self.sqs.delete_message(
                    QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture
def bulk(
    emulator: TpnsEmulator, make_secret: Any, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BulkRig]:
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
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
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
            ),
        },
    )["QueueUrl"]
    configure_functions(monkeypatch, make_secret(SECRET), emulator.url, moto_endpoint)
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", dlq_url)
    module = load_function("bulk")
    module.processor.cache_clear()
    yield BulkRig(sqs, queue_url, dlq_url, module)
    module.processor.cache_clear()
