"""The verify function on the verify queue (moto server), and driving both queues to the end."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from mypy_boto3_sqs import SQSClient

from local_stack.esm import SqsEventSourceMapping


@dataclass
class VerifyRig:
    """The verify function configured like the template does, on the test's verify queue
    (its messages are not delayed: the test decides when they are processed)."""

    sqs: SQSClient
    queue_url: str
    module: ModuleType

    def esm(self, **options: Any) -> SqsEventSourceMapping:
        """The local event source mapping from the verify queue to the function."""
        return SqsEventSourceMapping(
            self.sqs, self.queue_url, self.module.lambda_handler, function_name="verify", **options
        )


def queue_empty(mapping: SqsEventSourceMapping) -> bool:
    """Nothing on the mapping's queue: not waiting, not in flight, not delayed."""
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = mapping.sqs.get_queue_attributes(QueueUrl=mapping.queue_url, AttributeNames=names)
    return all(int(v) == 0 for v in attributes["Attributes"].values())


def run_until_idle(
    mappings: Sequence[SqsEventSourceMapping],
    *,
    between: Callable[[], object] = lambda: None,
    max_polls: int = 5000,
) -> int:
    """Poll each mapping in turn (``between`` runs after each round, e.g. TPNS applying what it
    accepted) until no queue holds anything; how many rounds it took."""
    for rounds in range(1, max_polls + 1):
        delivered = sum(mapping.poll_once() for mapping in mappings)
        between()
        if not delivered and all(queue_empty(m) for m in mappings):
            return rounds
    raise AssertionError(f"the queues were still busy after {max_polls} rounds")
