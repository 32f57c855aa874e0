"""What the handler asks of AWS, counted in the measured process (``bench/child.py``'s warm and
bulk modes load this file beside it): calls per operation, items, the request units DynamoDB
would bill, SQS's billed requests, and the time in each call.

Standard library only at import (the layer's AWS session is reached when counting starts):
the child loads it by path, never through the ``bench`` package, so nothing of the
benchmark's shadows the handler's modules.
"""

from __future__ import annotations

import json
import time
from typing import Any

KB = 1024
READ_UNIT_BYTES = 4 * KB


class AwsCalls:
    """Every AWS call the handler makes while ``active``, per service and operation: calls,
    items, the request units DynamoDB would bill, SQS's billed requests, and time in the call.

    botocore's ``before-call``/``after-call`` events on the layer's one botocore session
    (``tpns_account.aws``: the functions' clients are made from it, after this is installed).
    DynamoDB request units follow its pricing rules: a write is 1 unit per KB of item (2 in a
    transaction, condition checks included), a read 1 per 4 KB (half for an eventually
    consistent one); an item's size is its attribute names and values as DynamoDB sizes them. An
    update's unit counts the item at 1 KB or less (``bench.ledger_calls`` reports the largest
    item the tables hold).
    """

    def __init__(self) -> None:
        from tpns_account import aws

        self.active = False
        self.calls: list[tuple[str, str, Any, Any, float]] = []
        session: Any = aws.session()  # its handlers take keyword arguments as botocore passes them
        session.register("before-call", self._before)
        session.register("after-call", self._after)

    def _before(self, model: Any, params: dict[str, Any], context: Any, **_: Any) -> None:
        if self.active and isinstance(context, dict):
            context["bench_started"] = time.perf_counter()
            context["bench_body"] = params.get("body", b"")

    def _after(self, model: Any, parsed: Any, context: Any, **_: Any) -> None:
        if not isinstance(context, dict) or "bench_started" not in context:
            return
        elapsed = time.perf_counter() - context.pop("bench_started")
        # Only kept here: reading them (units, sizes) would cost the measured process CPU.
        self.calls.append(
            (
                model.service_model.service_name,
                model.name,
                context.pop("bench_body"),
                parsed,
                elapsed,
            )
        )

    def summary(self) -> dict[str, dict[str, float]]:
        """Per ``service:Operation``: calls, items, wru, rru, billed requests, seconds."""
        stats: dict[str, dict[str, float]] = {}
        for service, operation, body, parsed, elapsed in self.calls:
            if service == "dynamodb":
                items, wru, rru = dynamodb_units(operation, json.loads(body or b"{}"), parsed)
            elif service == "sqs":
                items, wru, rru = sqs_requests(operation, body), 0.0, 0.0
            else:
                items, wru, rru = 1, 0.0, 0.0
            entry = stats.setdefault(
                f"{service}:{operation}",
                {"calls": 0, "items": 0, "wru": 0.0, "rru": 0.0, "billed": 0, "seconds": 0.0},
            )
            entry["calls"] += 1
            entry["items"] += items
            entry["wru"] += wru
            entry["rru"] += rru
            entry["billed"] += items if service == "sqs" else 1
            entry["seconds"] += elapsed
        return stats


def attribute_size(value: dict[str, Any]) -> int:
    """One attribute value's size as DynamoDB counts it (bytes)."""
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return len(raw.lstrip("-").replace(".", "")) // 2 + 2
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode()) for v in raw)
    if kind == "NS":
        return sum(len(v) // 2 + 2 for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in raw.items())
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in raw)
    return len(str(raw))


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def _write_units(item: dict[str, Any] | None) -> int:
    return max(1, -(-item_size(item) // KB)) if item else 1


def _read_units(size: int, consistent: bool) -> float:
    units = max(1, -(-size // READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


Units = tuple[int, float, float]  # items, write request units, read request units


def _transact_write(request: dict[str, Any], parsed: Any) -> Units:
    entries = request.get("TransactItems", [])
    units = sum(2 * _write_units(next(iter(e.values())).get("Item")) for e in entries)
    return len(entries), float(units), 0.0


def _batch_write(request: dict[str, Any], parsed: Any) -> Units:
    writes = [w for table in request.get("RequestItems", {}).values() for w in table]
    units = sum(_write_units(w.get("PutRequest", {}).get("Item")) for w in writes)
    return len(writes), float(units), 0.0


def _single_write(request: dict[str, Any], parsed: Any) -> Units:
    return 1, float(_write_units(request.get("Item"))), 0.0


def _get(request: dict[str, Any], parsed: Any) -> Units:
    found = parsed.get("Item") if isinstance(parsed, dict) else None
    size = item_size(found) if found else 0
    return 1, 0.0, _read_units(size, bool(request.get("ConsistentRead")))


def _batch_get(request: dict[str, Any], parsed: Any) -> Units:
    responses = parsed.get("Responses", {}) if isinstance(parsed, dict) else {}
    keys, units = 0, 0.0
    for name, spec in request.get("RequestItems", {}).items():
        consistent = bool(spec.get("ConsistentRead"))
        found = responses.get(name, [])
        keys += len(spec.get("Keys", []))
        # A key not found costs the minimum, as a GetItem of it would.
        units += (len(spec.get("Keys", [])) - len(found)) * _read_units(0, consistent)
        units += sum(_read_units(item_size(i), consistent) for i in found)
    return keys, 0.0, units


def _query(request: dict[str, Any], parsed: Any) -> Units:
    found = parsed.get("Items", []) if isinstance(parsed, dict) else []
    size = sum(item_size(i) for i in found)
    return len(found), 0.0, _read_units(size, bool(request.get("ConsistentRead")))


DYNAMODB_UNITS = {
    "TransactWriteItems": _transact_write,
    "BatchWriteItem": _batch_write,
    "PutItem": _single_write,
    "UpdateItem": _single_write,
    "DeleteItem": _single_write,
    "GetItem": _get,
    "BatchGetItem": _batch_get,
    "Query": _query,
    "Scan": _query,
}


def dynamodb_units(operation: str, request: dict[str, Any], parsed: Any) -> Units:
    """(items, write request units, read request units) of one DynamoDB call."""
    count = DYNAMODB_UNITS.get(operation)
    return count(request, parsed) if count is not None else (1, 0.0, 0.0)


def sqs_requests(operation: str, body: bytes | str) -> int:
    """SQS bills a request per 64 KB of payload (SendMessageBatch: the batch's total)."""
    size = len(body) if isinstance(body, bytes | str) else 0
    if operation in ("SendMessage", "SendMessageBatch"):
        return max(1, -(-size // (64 * KB)))
    return 1
