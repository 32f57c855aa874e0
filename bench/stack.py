"""The AWS side of a benchmark run, as the template declares it.

The template's queues, tables, bucket and the TPNS secret are created in the benchmark's moto
by ``local_stack.resources`` (the local stack's own code, so the benchmark, the tests and the
local stack create them alike), and every function gets the environment the template gives it
(``local_stack.template.wire``): with ``LedgerMode`` on (the default: ``JOBS_TABLE``,
``LEDGER_TABLE``, ``VERIFY_QUEUE_URL``, ``VERIFY_DELAY_S``, ``JOB_RETENTION_DAYS``, ...) or off
(the same resources; ``LEDGER_TABLE`` and ``VERIFY_QUEUE_URL`` empty, as a deploy with
``LedgerMode=off`` sets them).

Parameters the benchmark sets itself: ``TpnsSecretId`` (required), ``TpnsEndpoint`` (the
emulator) and ``VerifyDelaySeconds`` 0, so that the verify path can be measured at once; the
delay is only a ``DelaySeconds`` on the message the API sends, which costs nothing more.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bench.template import TEMPLATE
from local_stack import resources
from local_stack.template import Physical, Template, Wiring, wire

STACK_NAME = "tpns-bench"
VERIFY_DELAY_S = "0"


class Stack:
    """The template's resources in moto, and each function's environment in either mode."""

    def __init__(
        self,
        client: Callable[[str], Any],
        secret_id: str,
        secret: dict[str, Any],
        tpns_url: str,
    ) -> None:
        self._client = client
        overrides = {"TpnsSecretId": secret_id}
        local = {"TpnsEndpoint": tpns_url, "VerifyDelaySeconds": VERIFY_DELAY_S}
        self.template = self._template(overrides, local, ledger="on")
        self.physical: Physical = resources.create(
            self.template, client, json.dumps(secret), STACK_NAME
        )
        self._wirings: dict[bool, Wiring] = {
            True: wire(self.template, self.physical),
            False: wire(self._template(overrides, local, ledger="off"), self.physical),
        }

    @staticmethod
    def _template(overrides: dict[str, str], local: dict[str, str], *, ledger: str) -> Template:
        return Template(
            TEMPLATE,
            {**overrides, "LedgerMode": ledger},
            local_overrides=local,
            stack_name=STACK_NAME,
        )

    def environment(self, logical_id: str, *, ledger: bool = True) -> dict[str, str]:
        """The function's environment variables as the template sets them."""
        return dict(self._wirings[ledger].functions[logical_id].environment)

    def ref(self, logical_id: str) -> str:
        """A resource's ``Ref`` (a queue's URL, a table's name)."""
        return self.physical.refs[logical_id]

    def parameter(self, name: str) -> str:
        return self.template.parameters[name]

    def purge(self, *queues: str) -> None:
        """Empty queues (moto's SQS slows down as a queue fills; PurgeQueue may run only once a
        minute, so the messages are received and deleted)."""
        sqs = self._client("sqs")
        for logical_id in queues:
            url = self.ref(logical_id)
            while True:
                batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                    "Messages", []
                )
                if not batch:
                    break
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                        for n, m in enumerate(batch)
                    ],
                )

    def drain(self, logical_id: str, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` messages taken off a queue (as the event source mapping would)."""
        sqs = self._client("sqs")
        messages: list[dict[str, Any]] = []
        while len(messages) < limit:
            batch = sqs.receive_message(
                QueueUrl=self.ref(logical_id),
                MaxNumberOfMessages=min(10, limit - len(messages)),
                AttributeNames=["All"],
                VisibilityTimeout=600,
            ).get("Messages", [])
            if not batch:
                break
            messages += batch
        return messages

    def largest_items(self, *tables: str) -> dict[str, int]:
        """The size of each table's largest item, as DynamoDB sizes it (bytes): what a write
        of it is billed by (``bench.aws_calls.item_size``)."""
        from bench.aws_calls import item_size

        dynamodb = self._client("dynamodb")
        largest: dict[str, int] = {}
        for logical_id in tables:
            sizes = [0]
            for page in dynamodb.get_paginator("scan").paginate(TableName=self.ref(logical_id)):
                sizes += [item_size(item) for item in page.get("Items", [])]
            largest[logical_id] = max(sizes)
        return largest
