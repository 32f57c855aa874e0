"""The payload builder: one logical request becomes TPNS-sized calls whose answers map back.

Each ``Chunk`` remembers where its items start in the caller's list, so per-item answers can be
merged back in input order however many calls were made and in whatever order they finished.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tpns_account.errors import SettingsError
from tpns_account.limits import MAX_ITEMS_PER_CALL
from tpns_account.models import BatchOperation, Query, TokenAccounts
from tpns_account.values import Value, field

BATCHOPERATE_PATH = "/v3/device/account/batchoperate"
QUERY_PATH = "/v3/device/account/query"


class Chunk(Value):
    """One TPNS call: the serialised body (signed and sent as is) and its slice of the input."""

    path: str
    start: int
    items: tuple[Any, ...]
    body: bytes
    header: dict[str, Any] = field(repr=False, compare=False)
    list_field: str = field(compare=False)
    wire_items: tuple[Any, ...] = field(repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.items)

    def subset(self, positions: list[int]) -> Chunk:
        """The same call for some of its items only (to retry just those)."""
        wire = [self.wire_items[p] for p in positions]
        return Chunk(
            self.path,
            self.start,
            tuple(self.items[p] for p in positions),
            serialize({**self.header, self.list_field: wire}),
            self.header,
            self.list_field,
            tuple(wire),
        )


def serialize(body: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent (compact, UTF-8, never re-serialised)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chunks(request: BatchOperation | Query, size: int = MAX_ITEMS_PER_CALL) -> Iterator[Chunk]:
    """Split ``request`` into calls of at most ``size`` items, in input order."""
    if not 1 <= size <= MAX_ITEMS_PER_CALL:
        raise SettingsError(f"chunk size must be 1-{MAX_ITEMS_PER_CALL}, got {size}")
    path = BATCHOPERATE_PATH if isinstance(request, BatchOperation) else QUERY_PATH
    header = request.to_dict()
    wire = header.pop(request.list_field)
    for start in range(0, len(wire), size):
        part = wire[start : start + size]
        body = serialize({**header, request.list_field: part})
        items = tuple(request.items[start : start + size])
        yield Chunk(path, start, items, body, header, request.list_field, tuple(part))


def override_warnings(request: BatchOperation) -> list[str]:
    """Say which accounts TPNS will drop: it keeps one account per account_type per token.

    True whatever TPNS's override scope (whole token or per type): both keep one per type.
    """
    if not request.is_bind:
        return []
    warnings = []
    for item in request.items:
        if not isinstance(item, TokenAccounts):
            continue
        for dropped, kept in item.overridden():
            warnings.append(
                f"token {item.token}: accounts {dropped.account} and {kept.account} share "
                f"account_type {kept.effective_type}; TPNS keeps only {kept.account}"
            )
    return warnings
