"""An SQS event source mapping, done locally: poll, invoke, delete what succeeded.

Behaves like Lambda's: batches of up to ``batch_size`` records in the documented event shape;
with ReportBatchItemFailures only the reported messages stay on the queue (a handler that raises
fails the whole batch); redelivery is left to the queue's visibility timeout, and the queue's own
redrive policy moves a message to the DLQ after ``maxReceiveCount`` receives.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalContext:
    """The LambdaContext attributes handlers and Powertools read."""

    function_name: str = "local-function"
    timeout_s: float = 90.0
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


@dataclass
class PollStats:
    batches: int = 0
    delivered: int = 0
    deleted: int = 0
    failed: int = 0


class SqsEventSourceMapping:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Handler,
        *,
        batch_size: int = 10,
        function_name: str = "local-function",
        timeout_s: float = 90.0,
        retry_visibility_s: int = 0,
        region: str = "us-east-1",
        report_batch_item_failures: bool = True,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.batch_size = batch_size
        self.function_name = function_name
        self.timeout_s = timeout_s
        self.retry_visibility_s = retry_visibility_s
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.region = region
        self.report_batch_item_failures = report_batch_item_failures
        self.stats = PollStats()

    def poll_once(self, wait_time_s: int = 0) -> int:
        """One receive → invoke → delete round; returns how many messages were delivered."""
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=wait_time_s,
        )
        messages = answer.get("Messages", [])
        if not messages:
            return 0
        self.stats.batches += 1
        self.stats.delivered += len(messages)
        event = {"Records": [self._record(m) for m in messages]}
        context = LocalContext(self.function_name, self.timeout_s)
        try:
            response = self.handler(event, context)
            reported = (response or {}).get("batchItemFailures", [])
            failed = (
                {f["itemIdentifier"] for f in reported}
                if self.report_batch_item_failures
                else set()
            )
        except Exception:
            logger.exception("%s failed its whole batch", self.function_name)
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            part = done[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(part)
                ],
            )
        for message in messages:
            if message["MessageId"] in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self.retry_visibility_s,
                )
        self.stats.deleted += len(done)
        self.stats.failed += len(failed)
        return len(messages)

    def drain(self, *, max_seconds: float = 120.0) -> PollStats:
        """Poll until the queue holds nothing, visible or in flight (or the time runs out)."""
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            if self.poll_once() == 0 and self._empty():
                return self.stats
        raise TimeoutError(f"queue not drained within {max_seconds} s")

    def _empty(self) -> bool:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return all(int(v) == 0 for v in attributes.values())

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attributes.get("SentTimestamp", "0"),
                "SenderId": attributes.get("SenderId", "local"),
                "ApproximateFirstReceiveTimestamp": attributes.get(
                    "ApproximateFirstReceiveTimestamp", "0"
                ),
            },
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value.get("DataType", "String"),
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
