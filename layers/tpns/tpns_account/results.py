"""Typed, per-item answers, in the caller's input order, whatever casing TPNS answered in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from tpns_account import codes
from tpns_account.errors import TpnsError
from tpns_account.models import Account, BatchOperation, Item, Query, item_key
from tpns_account.values import Value, field

ItemStatus = Literal["accepted", "failed", "error"]
QueryStatus = Literal["found", "not_found", "failed", "error"]


def item_fields(item: Item) -> dict[str, Any]:
    """How an answer names an item: its token, or its account and type (null: none given)."""
    if isinstance(item, Account):
        return {"account": item.account, "account_type": item.account_type}
    return {"token": item_key(item)}


class _Answered:
    """What a per-item result of either endpoint says: its item, status, code and reason."""

    __slots__ = ()
    index: int
    item: Item
    status: str
    code: int | None
    reason: str | None

    @property
    def key(self) -> str:
        return item_key(self.item)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, **item_fields(self.item)}
        out["status"] = self.status
        out["code"] = self.code
        if self.reason:
            out["reason"] = self.reason
        return out


class ItemResult(Value, _Answered):
    """One input item's fate. ``accepted`` is TPNS's word: batchoperate applies asynchronously.

    ``failed`` is a permanent per-item refusal (``code`` says why); ``error`` means the call
    carrying the item failed as a whole (``error`` holds the exception, ``error.retryable``
    whether sending it again may help).
    """

    index: int
    item: Item
    status: ItemStatus
    code: int | None
    reason: str | None = None
    error: TpnsError | None = None


class ItemsFailedError(TpnsError):
    """Some items were refused by TPNS (invalid token, not found); raised on request only."""

    def __init__(self, failed: Sequence[ItemResult]) -> None:
        self.failed = tuple(failed)
        sample = ", ".join(f"{item.key} ({item.code})" for item in self.failed[:5])
        super().__init__(f"{len(self.failed)} item(s) failed: {sample}")


def first_error(errors: Sequence[TpnsError]) -> TpnsError | None:
    """The error a caller should act on: permanent failures outrank retryable ones."""
    permanent = [e for e in errors if not e.retryable]
    candidates = permanent or list(errors)
    return candidates[0] if candidates else None


class BatchResult(Value, frozen=False):
    operation: BatchOperation
    items: list[ItemResult]
    warnings: list[str] = field(default_factory=list)
    calls: int = 0
    retries: int = 0
    throttled: int = 0

    @property
    def accepted(self) -> list[ItemResult]:
        return [i for i in self.items if i.status == "accepted"]

    @property
    def failed(self) -> list[ItemResult]:
        return [i for i in self.items if i.status == "failed"]

    @property
    def errored(self) -> list[ItemResult]:
        return [i for i in self.items if i.status == "error"]

    @property
    def ok(self) -> bool:
        return all(i.status == "accepted" for i in self.items)

    def raise_for_errors(self) -> None:
        """Raise the call-level error (auth, throttled, unreachable, ...) if any call failed."""
        error = first_error([i.error for i in self.items if i.error is not None])
        if error is not None:
            raise error

    def raise_for_failures(self) -> None:
        """Raise ``ItemsFailedError`` if TPNS refused any item (after ``raise_for_errors``)."""
        self.raise_for_errors()
        if self.failed:
            raise ItemsFailedError(self.failed)


class QueryItem(Value, _Answered):
    index: int
    item: str | Account
    status: QueryStatus
    code: int | None
    tokens: tuple[str, ...] = ()
    accounts: tuple[Account, ...] = ()
    reason: str | None = None
    error: TpnsError | None = None


class QueryResult(Value, frozen=False):
    query: Query
    items: list[QueryItem]
    calls: int = 0
    retries: int = 0

    def raise_for_errors(self) -> None:
        error = first_error([i.error for i in self.items if i.error is not None])
        if error is not None:
            raise error

    @property
    def account_tokens(self) -> list[dict[str, Any]]:
        """Query type 1 in the TPNS shape; ``account_type`` as asked (null: none given)."""
        return [
            {**item_fields(item.item), "token_list": list(item.tokens)}
            for item in self.items
            if isinstance(item.item, Account) and item.status != "error"
        ]

    @property
    def token_accounts(self) -> list[dict[str, Any]]:
        """Query type 2 in the TPNS shape; each account's type as TPNS holds it."""
        return [
            {"token": item.item, "account_list": [a.to_dict() for a in item.accounts]}
            for item in self.items
            if isinstance(item.item, str) and item.status != "error"
        ]


def item_status(code: int) -> ItemStatus:
    return "accepted" if code == codes.SUCCESS else "failed"


def query_status(code: int) -> QueryStatus:
    if code == codes.SUCCESS:
        return "found"
    if code == codes.NOT_FOUND:
        return "not_found"
    return "failed"


def error_item(index: int, item: Item, error: TpnsError) -> ItemResult:
    return ItemResult(index, item, "error", error.code, error.message, error)
