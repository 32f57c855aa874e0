"""moto in server mode, made to keep the promises of the services the bundle relies on.

Used by the local stack, the tests and the benchmark alike, so all three see the same AWS:

- **One DynamoDB request at a time.** DynamoDB applies each write atomically (a conditional
  write is checked and applied in one step) and a transaction in isolation; moto's threaded
  server interleaves requests, so its conditions could race. DynamoDB calls are serialised.
- **Transactions check first, then write.** moto's ``TransactWriteItems`` deep-copies the
  whole table once per item for its rollback (seconds per call on a table of thousands of
  items). The same semantics without the copies: every condition is checked against the
  state before the transaction, and the writes are applied only if all hold.
- **A query reads its partition.** moto's ``Query`` on a table sorts every item of the table to
  find one partition's (tens of milliseconds on a table of thousands); DynamoDB reads just the
  partition. A query of the table (not an index) is given that partition only.
- **Local clients only.** moto accepts any signature and allows every CORS origin, so a web
  page open in a browser could read the TPNS secret: requests carrying an ``Origin`` header,
  or for another ``Host`` (DNS rebinding), are refused.
"""

from __future__ import annotations

import inspect
import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from werkzeug.serving import BaseWSGIServer

logger = logging.getLogger(__name__)

_DYNAMODB_LOCK = threading.RLock()
_FIXED = False


def faithful_moto() -> None:
    """Apply the fixes above to moto in this process (once)."""
    global _FIXED
    if _FIXED:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action

    def serialised(self: DynamoHandler) -> Any:
        with _DYNAMODB_LOCK:
            return call_action(self)

    DynamoHandler.call_action = serialised  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    _query_partition_only()
    _FIXED = True


def _query_partition_only() -> None:
    from moto.dynamodb.models.table import Table

    query = Table.query
    signature = inspect.signature(query)

    def partition_query(self: Table, *args: Any, **kwargs: Any) -> Any:
        call = signature.bind(self, *args, **kwargs).arguments
        hash_key = call.get("hash_key")
        if call.get("index_name") or hash_key is None or not self.range_key_attr:
            return query(self, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: partition  # type: ignore[method-assign]
        try:  # (under the DynamoDB lock: no other request sees this table meanwhile)
            return query(self, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = partition_query  # type: ignore[method-assign]


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """DynamoDB's TransactWriteItems: all conditions hold, then every write, else nothing."""
    from moto.dynamodb.exceptions import TransactionCanceledException

    operations = _transaction(self, transact_items)
    errors = [_condition_failure(self, op, key) for _kind, op, key in operations]
    if any(code for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    for kind, op, key in operations:
        if kind == "Put":
            self.put_item(op["TableName"], op["Item"])
        elif kind == "Delete":
            self.delete_item(op["TableName"], key)
        elif kind == "Update":
            self.update_item(
                op["TableName"],
                key,
                update_expression=op["UpdateExpression"],
                expression_attribute_names=op.get("ExpressionAttributeNames"),
                expression_attribute_values=op.get("ExpressionAttributeValues"),
            )


Operation = tuple[str, dict[str, Any], dict[str, Any]]  # kind, its request, the item's key


def _transaction(backend: Any, transact_items: list[dict[str, Any]]) -> list[Operation]:
    """The transaction's operations, refused as DynamoDB refuses them (too many, two on one
    item, more than one action in an entry)."""
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    operations = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        kind, op = next(iter(entry.items()))
        table = backend.get_table(op["TableName"])
        attrs = op["Item"] if kind == "Put" else op["Key"]
        key = {table.hash_key_attr: attrs[table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = attrs[table.range_key_attr]
        identity = (op["TableName"], str(sorted(key.items())))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        operations.append((kind, op, key))
    return operations


def _condition_failure(
    backend: Any, op: dict[str, Any], key: dict[str, Any]
) -> tuple[str | None, str | None, dict[str, Any] | None]:
    """The cancellation reason of one operation, checked against the state before any write."""
    from moto.dynamodb.comparisons import get_filter_expression

    condition = op.get("ConditionExpression")
    if not condition:
        return (None, None, None)
    current = backend.get_item(op["TableName"], key)
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    if get_filter_expression(condition, names, values).expr(current):
        return (None, None, None)
    old = current.to_json()["Attributes"] if current else None
    wanted = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    return ("ConditionalCheckFailed", "The conditional request failed", old if wanted else None)


def serve(port: int = 0, *, hosts_extra: Iterable[str] = ()) -> tuple[BaseWSGIServer, str]:
    """moto on 127.0.0.1:``port`` (0: any), local clients only; the server and its URL.

    The caller runs ``server.serve_forever`` (in a thread) and stops it with ``shutdown``.
    """
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    faithful_moto()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = DomainDispatcherApplication(create_backend_app)
    hosts: set[str] = set(hosts_extra)

    def local_clients_only(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if "HTTP_ORIGIN" in environ or environ.get("HTTP_HOST") not in hosts:
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"local stack: AWS calls from local clients only (no Origin header)\n"]
        return moto(environ, start_response)

    server = make_server(
        "127.0.0.1", port, local_clients_only, threaded=True, request_handler=MotoRequestHandler
    )
    bound = server.server_address[1]
    hosts.update({f"127.0.0.1:{bound}", f"localhost:{bound}"})
    return server, f"http://127.0.0.1:{bound}"


def start_in_thread(port: int = 0) -> tuple[BaseWSGIServer, str]:
    """``serve`` in a daemon thread: for tests and the benchmark's moto process."""
    server, url = serve(port)
    threading.Thread(target=server.serve_forever, daemon=True, name="moto").start()
    return server, url
