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
from dataclasses import KW_ONLY, dataclass, field
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
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


@dataclass
class PollStats:
    batches: int = 0
    delivered: int = 0
    deleted: int = 0
    failed: int = 0


@dataclass(eq=False)
class SqsEventSourceMapping:
    """Lambda's SQS event source mapping for one queue and handler, polled in this process."""

    sqs: Any
    queue_url: str
    handler: Handler
    _: KW_ONLY
    batch_size: int = 10
    function_name: str = "local-function"
    timeout_s: float = 90.0
    retry_visibility_s: int = 0
    region: str = "us-east-1"
    report_batch_item_failures: bool = True
    batching_window_s: float = 0.0
    stats: PollStats = field(default_factory=PollStats, init=False)
    queue_arn: str = field(init=False)

    def __post_init__(self) -> None:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )
        self.queue_arn = attributes["Attributes"]["QueueArn"]

    def poll_once(self, wait_time_s: int = 0) -> int:
        """One receive → invoke → delete round; returns how many messages were delivered."""
        messages = self._gather(wait_time_s)
        if not messages:
            return 0
        self.stats.batches += 1
        self.stats.delivered += len(messages)
        event = {"Records": [self._record(m) for m in messages]}
        context = LocalContext(self.function_name, self.timeout_s)
        try:
            failed = self._failed(self.handler(event, context), messages)
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

    def _gather(self, wait_time_s: int) -> list[dict[str, Any]]:
        """Up to ``batch_size`` messages: what the first receive gets, then more until the batch
        is full or the batching window has passed (SQS hands out at most 10 per receive)."""
        messages = self._receive(min(10, self.batch_size), wait_time_s)
        deadline = time.monotonic() + self.batching_window_s
        while messages and len(messages) < self.batch_size:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            wanted = min(10, self.batch_size - len(messages))
            more = self._receive(wanted, min(int(left), 1))
            if not more:
                time.sleep(min(0.1, left))
            messages += more
        return messages

    def _receive(self, count: int, wait_time_s: int) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=wait_time_s,
        )
        return list(answer.get("Messages", []))

    def _failed(self, response: Any, messages: list[dict[str, Any]]) -> set[str]:
        """The messages to leave on the queue, as Lambda reads a partial batch response: none
        without ReportBatchItemFailures or with an empty/null list; all of them when the answer
        names a message that is not in the batch (or has no itemIdentifier)."""
        if not self.report_batch_item_failures or not isinstance(response, dict):
            return set()
        reported = response.get("batchItemFailures") or []
        batch = {m["MessageId"] for m in messages}
        try:
            failed = {str(item["itemIdentifier"]) for item in reported}
        except (TypeError, KeyError):
            failed = batch
        if not failed <= batch:
            logger.error("%s reported messages not in its batch", self.function_name)
            return batch
        return failed

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
