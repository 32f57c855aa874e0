"""DynamoDB, as the bundle uses it: plain Python values, batches within limits, one error class.

The low-level client is used (``tpns_account.aws``: not boto3's resource layer, which costs a
cold start and turns numbers into ``Decimal``); items are ``dict``s of ``str``, ``int``,
``bool``, ``None``, ``list``, ``dict`` and ``set[str]``. Every call DynamoDB could not serve
(throttled, unreachable, a conflict between transactions that retries did not clear) raises
``StoreUnavailableError``: the caller answers 503, or hands the message back for redelivery.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from tpns_account.values import Value, field
from tpns_api.errors import BundleError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        KeysAndAttributesTypeDef,
        TransactWriteItemTypeDef,
    )

logger = logging.getLogger(__name__)

Item = dict[str, Any]
Key = dict[str, str]
T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
MAX_TRANSACTION = 100
ATTEMPTS = 6
#: Batches of one call in flight at once; a client's connection pool holds ``POOL_CONNECTIONS``.
CONCURRENCY = 8
POOL_CONNECTIONS = 64
BASE_DELAY_S = 0.05
#: What may clear on a later try (throttling, a transaction conflict, a service hiccup).
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)


class StoreError(BundleError):
    """The store was asked something it cannot do (a bug in the caller)."""


class StoreUnavailableError(BundleError):
    """DynamoDB could not be reached or kept refusing (throttled, conflicting) after retries."""

    retryable = True


class ConditionFailedError(BundleError):
    """A conditional write found the item otherwise; ``item`` is what it found (if any)."""

    def __init__(self, message: str, item: Item | None) -> None:
        super().__init__(message)
        self.item = item


class Cancelled(Value):
    """A transaction DynamoDB cancelled: which of its writes failed their condition."""

    failed: dict[int, Item | None] = field(default_factory=dict)


# -- values -----------------------------------------------------------------------------------


def to_attribute(value: Any) -> AttributeValueTypeDef:
    """A Python value as a DynamoDB attribute value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, set | frozenset):
        return {"SS": sorted(str(v) for v in value)}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")


def from_attribute(attribute: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as a Python value (numbers are ``int``)."""
    kind, value = next(iter(attribute.items()))
    if kind == "S":
        return value
    if kind == "N":
        return int(value)
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attribute(v) for k, v in value.items()}
    if kind == "L":
        return [from_attribute(v) for v in value]
    if kind == "SS":
        return set(value)
    raise TypeError(f"unexpected DynamoDB type {kind}")


def to_item(values: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    return {name: to_attribute(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> Item:
    return {name: from_attribute(value) for name, value in item.items()}


# -- the table --------------------------------------------------------------------------------


class Table(Value, frozen=False):
    """One table (keys ``pk`` and ``sk``, both strings) through the low-level client."""

    client: DynamoDBClient
    name: str
    attempts: int = ATTEMPTS
    concurrency: int = CONCURRENCY

    def get(self, key: Key) -> Item | None:
        """The item, read consistently, or None."""
        answer = self._call(
            "GetItem",
            lambda: self.client.get_item(
                TableName=self.name, Key=to_item(key), ConsistentRead=True
            ),
        )
        found = answer.get("Item")
        return from_item(found) if found else None

    def get_many(self, keys: Sequence[Key]) -> dict[tuple[str, str], Item]:
        """Every item found among ``keys`` (consistent reads), by ``(pk, sk)``; batches of 100
        read concurrently."""
        unique = list({(k["pk"], k["sk"]): k for k in keys}.values())
        found: dict[tuple[str, str], Item] = {}
        for items in self._fan_out(self._get_batch, _chunked(unique, MAX_BATCH_GET)):
            found |= {(item["pk"], item["sk"]): item for item in items}
        return found

    def put_many(self, items: Sequence[Item]) -> None:
        """Unconditional puts (immutable facts, idempotent by key); batches of 25 written
        concurrently."""
        unique = list({(i["pk"], i["sk"]): i for i in items}.values())
        self._fan_out(self._put_batch, _chunked(unique, MAX_BATCH_WRITE))

    def _get_batch(self, keys: Sequence[Key]) -> list[Item]:
        found: list[Item] = []
        pending: list[Any] = [to_item(k) for k in keys]
        for attempt in range(self.attempts):
            request: dict[str, KeysAndAttributesTypeDef] = {
                self.name: {"Keys": pending, "ConsistentRead": True}
            }
            answer = self._call(
                "BatchGetItem", partial(self.client.batch_get_item, RequestItems=request)
            )
            found += [from_item(raw) for raw in answer.get("Responses", {}).get(self.name, [])]
            unprocessed = answer.get("UnprocessedKeys", {}).get(self.name)
            pending = list(unprocessed["Keys"]) if unprocessed else []
            if not pending:
                return found
            _backoff(attempt)
        raise StoreUnavailableError(f"{self.name}: {len(pending)} reads left unprocessed")

    def _put_batch(self, items: Sequence[Item]) -> None:
        pending: list[Any] = [{"PutRequest": {"Item": to_item(item)}} for item in items]
        for attempt in range(self.attempts):
            request = {self.name: pending}
            answer = self._call(
                "BatchWriteItem", partial(self.client.batch_write_item, RequestItems=request)
            )
            pending = list(answer.get("UnprocessedItems", {}).get(self.name, []))
            if not pending:
                return
            _backoff(attempt)
        raise StoreUnavailableError(f"{self.name}: {len(pending)} writes left unprocessed")

    def _fan_out(self, call: Callable[[Sequence[T]], R], chunks: list[Sequence[T]]) -> list[R]:
        return fan_out(call, chunks, self.concurrency)

    def put(self, item: Item, *, condition: str | None = None, values: Item | None = None) -> None:
        """One put; ``ConditionFailedError`` (with what was there) if ``condition`` fails."""
        options: dict[str, Any] = {"TableName": self.name, "Item": to_item(item)}
        if condition:
            options["ConditionExpression"] = condition
            options["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            if values:
                options["ExpressionAttributeValues"] = to_item(values)
        self._call("PutItem", lambda: self.client.put_item(**options))

    def delete(self, key: Key) -> None:
        self._call(
            "DeleteItem", partial(self.client.delete_item, TableName=self.name, Key=to_item(key))
        )

    def update(
        self,
        key: Key,
        expression: str,
        *,
        names: Mapping[str, str] | None = None,
        values: Item | None = None,
        condition: str | None = None,
    ) -> Item:
        """One update; returns the whole item after it (``ConditionFailedError`` as ``put``)."""
        options: dict[str, Any] = {
            "TableName": self.name,
            "Key": to_item(key),
            "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
        }
        if names:
            options["ExpressionAttributeNames"] = dict(names)
        if values:
            options["ExpressionAttributeValues"] = to_item(values)
        if condition:
            options["ConditionExpression"] = condition
            options["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        answer = self._call("UpdateItem", lambda: self.client.update_item(**options))
        return from_item(answer.get("Attributes", {}))

    def transact(self, writes: Sequence[TransactWriteItemTypeDef]) -> Cancelled | None:
        """Write all or nothing (at most 100); a ``Cancelled`` names the failed conditions."""
        if len(writes) > MAX_TRANSACTION:
            raise StoreError(f"a transaction takes at most {MAX_TRANSACTION} writes")
        for attempt in range(self.attempts):
            try:
                self.client.transact_write_items(TransactItems=list(writes))
            except ClientError as exc:
                cancelled = _cancellation(exc)
                if cancelled is None:
                    self._raise_or_retry("TransactWriteItems", exc, attempt)
                    continue
                if cancelled.failed:
                    return cancelled
                _backoff(attempt)  # cancelled by conflicts only: try the whole again
                continue
            except BotoCoreError as exc:
                self._raise_or_retry("TransactWriteItems", exc, attempt)
                continue
            return None
        raise StoreUnavailableError(f"{self.name}: transaction kept conflicting")

    def query(
        self,
        pk: str,
        *,
        begins_with: str | None = None,
        limit: int | None = None,
        start: Key | None = None,
    ) -> tuple[list[Item], Key | None]:
        """One page of the partition ``pk`` (consistent), and where the next page starts."""
        options: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        if begins_with:
            options["KeyConditionExpression"] += " AND begins_with(sk, :prefix)"
            options["ExpressionAttributeValues"][":prefix"] = {"S": begins_with}
        if limit:
            options["Limit"] = limit
        if start:
            options["ExclusiveStartKey"] = to_item(start)
        answer = self._call("Query", lambda: self.client.query(**options))
        items = [from_item(raw) for raw in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        return items, ({k: from_attribute(v) for k, v in last.items()} if last else None)

    def query_all(self, pk: str, *, begins_with: str | None = None) -> Iterator[Item]:
        """Every item of the partition, page after page."""
        start: Key | None = None
        while True:
            items, start = self.query(pk, begins_with=begins_with, start=start)
            yield from items
            if start is None:
                return

    def scan(
        self, *, segment: int, segments: int, start: Key | None = None, limit: int = 500
    ) -> tuple[list[Item], Key | None]:
        """One page of one segment of a parallel scan."""
        options: dict[str, Any] = {
            "TableName": self.name,
            "Segment": segment,
            "TotalSegments": segments,
            "Limit": limit,
            "ConsistentRead": True,
        }
        if start:
            options["ExclusiveStartKey"] = to_item(start)
        answer = self._call("Scan", lambda: self.client.scan(**options))
        last = answer.get("LastEvaluatedKey")
        items = [from_item(raw) for raw in answer.get("Items", [])]
        return items, ({k: from_attribute(v) for k, v in last.items()} if last else None)

    # -- failures -------------------------------------------------------------------------------

    def _call(self, operation: str, call: Callable[[], T]) -> T:
        for attempt in range(self.attempts):
            try:
                return call()
            except ClientError as exc:
                code = _code(exc)
                if code == "ConditionalCheckFailedException":
                    raw = exc.response.get("Item")
                    item = from_item(raw) if isinstance(raw, Mapping) else None
                    raise ConditionFailedError(f"{self.name}: condition failed", item) from None
                self._raise_or_retry(operation, exc, attempt)
            except BotoCoreError as exc:
                self._raise_or_retry(operation, exc, attempt)
        raise StoreUnavailableError(f"{self.name}: {operation} kept failing")  # pragma: no cover

    def _raise_or_retry(self, operation: str, exc: Exception, attempt: int) -> None:
        code = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
        retryable = isinstance(exc, BotoCoreError) or code in RETRYABLE_CODES
        if not retryable or attempt + 1 >= self.attempts:
            logger.error("DynamoDB %s on %s failed: %s", operation, self.name, code)
            raise StoreUnavailableError(f"{self.name}: {operation} failed ({code})") from None
        logger.info("DynamoDB %s on %s: %s; retrying", operation, self.name, code)
        _backoff(attempt)


def _chunked(values: Sequence[T], size: int) -> list[Sequence[T]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def fan_out(call: Callable[[T], R], chunks: Sequence[T], concurrency: int = CONCURRENCY) -> list[R]:
    """``call`` on every chunk, ``concurrency`` at a time (in this thread if just one), in
    order; the first exception raised is raised."""
    if len(chunks) <= 1 or concurrency <= 1:
        return [call(chunk) for chunk in chunks]
    with ThreadPoolExecutor(min(len(chunks), concurrency), "dynamodb") as pool:
        return list(pool.map(call, chunks))


def dynamodb_client() -> DynamoDBClient:
    """The functions' DynamoDB client: connections for concurrent batches, and no retries of
    botocore's own (``Table`` retries what may clear, with backoff, and says when it gives up)."""
    from botocore.config import Config

    from tpns_account import aws

    config = Config(max_pool_connections=POOL_CONNECTIONS, retries={"total_max_attempts": 1})
    return aws.client("dynamodb", config=config)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def _cancellation(exc: ClientError) -> Cancelled | None:
    """The failed conditions of a cancelled transaction; None if it was not a cancellation."""
    if _code(exc) != "TransactionCanceledException":
        return None
    failed: dict[int, Item | None] = {}
    for index, reason in enumerate(exc.response.get("CancellationReasons", []) or []):
        if reason.get("Code") == "ConditionalCheckFailed":
            raw = reason.get("Item")
            failed[index] = from_item(raw) if raw else None
    return Cancelled(failed)


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, BASE_DELAY_S * 2**attempt))
