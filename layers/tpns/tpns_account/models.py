"""Validated request models for TPNS batchoperate and query.

Models are plain frozen value classes (``tpns_account.values``), not pydantic: validation runs
on every request and the import runs on every cold start, so both stay cheap. A body is parsed once,
straight into these models (``tpns_account.validation`` names every offending field).

An account sent without an ``account_type`` stays without one: TPNS gets exactly what the
caller gave (``Account.account_type is None``), and TPNS's default (0) is assumed only where
a type must be known, such as which accounts one token keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import IntEnum
from typing import Any, Literal, TypeVar

from tpns_account import limits
from tpns_account.validation import Validator
from tpns_account.values import Value, field

Duplicates = Literal["reject", "merge"]
ListField = Literal["token_accounts", "token_list", "account_list"]
LIST_FIELDS: tuple[ListField, ...] = ("token_accounts", "token_list", "account_list")
Operator = TypeVar("Operator", bound=IntEnum)


class OperatorType(IntEnum):
    """batchoperate ``operator_type``; APPEND is disused upstream and sent as OVERRIDE."""

    APPEND = 1
    OVERRIDE = 2
    UNBIND_ACCOUNTS = 3
    UNBIND_ALL_ACCOUNTS = 4
    UNBIND_ALL_TOKENS = 5


class QueryType(IntEnum):
    """query ``operator_type``."""

    TOKENS_BY_ACCOUNT = 1
    ACCOUNTS_BY_TOKEN = 2


BATCH_FIELD: dict[OperatorType, ListField] = {
    OperatorType.APPEND: "token_accounts",
    OperatorType.OVERRIDE: "token_accounts",
    OperatorType.UNBIND_ACCOUNTS: "token_accounts",
    OperatorType.UNBIND_ALL_ACCOUNTS: "token_list",
    OperatorType.UNBIND_ALL_TOKENS: "account_list",
}
QUERY_FIELD: dict[QueryType, ListField] = {
    QueryType.TOKENS_BY_ACCOUNT: "account_list",
    QueryType.ACCOUNTS_BY_TOKEN: "token_list",
}
BIND_TYPES = frozenset({OperatorType.APPEND, OperatorType.OVERRIDE})


class Account(Value):
    account: str
    account_type: int | None = None

    @property
    def effective_type(self) -> int:
        """The type TPNS applies: the given one, else its documented default."""
        return limits.DEFAULT_ACCOUNT_TYPE if self.account_type is None else self.account_type

    def to_dict(self) -> dict[str, Any]:
        """As sent to TPNS: ``account_type`` only when the caller gave one."""
        if self.account_type is None:
            return {"account": self.account}
        return {"account": self.account, "account_type": self.account_type}


class TokenAccounts(Value):
    token: str
    account_list: tuple[Account, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"token": self.token, "account_list": [a.to_dict() for a in self.account_list]}

    def overridden(self) -> list[tuple[Account, Account]]:
        """Pairs (dropped, kept) that TPNS collapses: one account per account_type per token."""
        last: dict[int, Account] = {}
        pairs: list[tuple[Account, Account]] = []
        for account in self.account_list:
            previous = last.get(account.effective_type)
            if previous is not None:
                pairs.append((previous, account))
            last[account.effective_type] = account
        return pairs

    def kept(self) -> tuple[Account, ...]:
        """The accounts TPNS keeps: the last one of each account_type."""
        return _last_of_each(self.account_list, lambda account: account.effective_type)


Item = TokenAccounts | str | Account


class BatchOperation(Value):
    """One logical bind/unbind, of any size; the payload builder splits it into TPNS calls."""

    operator_type: OperatorType
    items: tuple[Item, ...]
    platform: str | None = None
    merged_duplicates: int = field(default=0, compare=False)

    @property
    def list_field(self) -> ListField:
        return BATCH_FIELD[self.operator_type]

    @property
    def is_bind(self) -> bool:
        return self.operator_type in BIND_TYPES

    @property
    def wire_operator_type(self) -> int:
        """What is sent: APPEND behaves as OVERRIDE upstream, so it is sent as such."""
        if self.operator_type is OperatorType.APPEND:
            return int(OperatorType.OVERRIDE)
        return int(self.operator_type)

    @classmethod
    def from_dict(
        cls, data: object, *, duplicates: Duplicates = "reject", path: str = ""
    ) -> BatchOperation:
        """Validate a TPNS-shaped batchoperate body (``operator_type`` plus its list field).

        A top-level ``account_type`` is the type of every account element that has none.
        """
        v, body, operator, platform, default_type = _header(data, path, OperatorType)
        return cls.from_fields(operator, body, v, platform, default_type, duplicates)

    @classmethod
    def from_fields(
        cls,
        operator: OperatorType,
        body: Mapping[str, Any],
        v: Validator,
        platform: str | None,
        default_type: int | None,
        duplicates: Duplicates,
    ) -> BatchOperation:
        """The operation ``operator`` over the list field of ``body`` (operator already known)."""
        context = f"operator_type {int(operator)}"
        items, merged = _list_items(
            v, body, BATCH_FIELD[operator], context, default_type, duplicates, operator
        )
        return cls(operator, tuple(items), platform, merged)

    @classmethod
    def bind(cls, token_accounts: Iterable[TokenAccounts]) -> BatchOperation:
        """Each token's accounts become exactly the given list (operator_type 2)."""
        return cls._checked(OperatorType.OVERRIDE, token_accounts)

    @classmethod
    def unbind(cls, token_accounts: Iterable[TokenAccounts]) -> BatchOperation:
        """Unbind the listed accounts from each token (operator_type 3)."""
        return cls._checked(OperatorType.UNBIND_ACCOUNTS, token_accounts)

    @classmethod
    def unbind_all_accounts(cls, tokens: Iterable[str]) -> BatchOperation:
        """Unbind each token from all its accounts (operator_type 4)."""
        return cls._checked(OperatorType.UNBIND_ALL_ACCOUNTS, tokens)

    @classmethod
    def unbind_all_tokens(cls, accounts: Iterable[Account]) -> BatchOperation:
        """Unbind each account from all its tokens (operator_type 5)."""
        return cls._checked(OperatorType.UNBIND_ALL_TOKENS, accounts)

    @classmethod
    def _checked(cls, operator: OperatorType, items: Iterable[Item]) -> BatchOperation:
        """Build from typed items, re-validating them exactly as a JSON body would be."""
        body = {"operator_type": int(operator), BATCH_FIELD[operator]: [wire(i) for i in items]}
        return cls.from_dict(body)

    def with_items(self, items: Sequence[Item]) -> BatchOperation:
        """The same operation over other (already valid) items."""
        return BatchOperation(self.operator_type, tuple(items), self.platform)

    def to_dict(self) -> dict[str, Any]:
        return _body(self.wire_operator_type, self.platform, self.list_field, self.items)


class Query(Value):
    """One logical query, of any size."""

    operator_type: QueryType
    items: tuple[str | Account, ...]
    platform: str | None = None

    @property
    def list_field(self) -> ListField:
        return QUERY_FIELD[self.operator_type]

    @classmethod
    def from_dict(cls, data: object, *, path: str = "") -> Query:
        v, body, operator, platform, default_type = _header(data, path, QueryType)
        return cls.from_fields(operator, body, v, platform, default_type)

    @classmethod
    def from_fields(
        cls,
        operator: QueryType,
        body: Mapping[str, Any],
        v: Validator,
        platform: str | None,
        default_type: int | None,
    ) -> Query:
        context = f"query operator_type {int(operator)}"
        items, _ = _list_items(
            v, body, QUERY_FIELD[operator], context, default_type, "reject", None
        )
        return cls(operator, tuple(i for i in items if not isinstance(i, TokenAccounts)), platform)

    @classmethod
    def tokens_of(cls, accounts: Iterable[Account]) -> Query:
        return cls.from_dict({"operator_type": 1, "account_list": [a.to_dict() for a in accounts]})

    @classmethod
    def accounts_of(cls, tokens: Iterable[str]) -> Query:
        return cls.from_dict({"operator_type": 2, "token_list": list(tokens)})

    def to_dict(self) -> dict[str, Any]:
        return _body(int(self.operator_type), self.platform, self.list_field, self.items)


def parse_token(value: object, field: str = "token") -> str:
    """Validate one token on its own (manifests, path parameters)."""
    v = Validator()
    token = v.token(value, field)
    if token is None:
        raise v.error()
    return token


def parse_account(value: object, field: str = "") -> Account:
    """Validate one ``{"account", "account_type"}`` object on its own."""
    v = Validator()
    parsed = v.account(value, field, None)
    if parsed is None:
        raise v.error()
    return Account(*parsed)


def wire(item: Item) -> Any:
    """An item as TPNS receives it."""
    if isinstance(item, Account | TokenAccounts):
        return item.to_dict()
    return item


def item_key(item: Item) -> str:
    """The token or account an item is about (what TPNS's per-item code refers to)."""
    if isinstance(item, TokenAccounts):
        return item.token
    if isinstance(item, Account):
        return item.account
    return item


def _header(
    data: object, path: str, operators: type[Operator]
) -> tuple[Validator, Mapping[str, Any], Operator, str | None, int | None]:
    """What precedes the list field: ``operator_type``, ``platform``, a default account_type."""
    v = Validator(path)
    body = v.mapping(data)
    operator = v.enum(body, "operator_type", operators)
    platform = v.platform(body)
    default_type = v.default_account_type(body)
    if operator is None or v.issues:
        raise v.error()
    return v, body, operator, platform, default_type


def _list_items(
    v: Validator,
    body: Mapping[str, Any],
    list_field: ListField,
    context: str,
    default_type: int | None,
    duplicates: Duplicates,
    operator: OperatorType | None,
) -> tuple[list[Item], int]:
    """The items of ``list_field``, the only list field ``context`` accepts, deduplicated."""
    v.only_list_field(body, list_field, LIST_FIELDS, context)
    raw = v.list_of(body, list_field)
    items = _items(v, list_field, raw or [], default_type)
    v.raise_if_any()
    items, merged = _deduplicate(v, list_field, items, duplicates, operator)
    v.raise_if_any()
    return items, merged


def _body(
    operator_type: int, platform: str | None, list_field: ListField, items: Iterable[Item]
) -> dict[str, Any]:
    body: dict[str, Any] = {"operator_type": operator_type}
    if platform is not None:
        body["platform"] = platform
    body[list_field] = [wire(item) for item in items]
    return body


def _items(
    v: Validator, list_field: ListField, raw: list[Any], default_type: int | None
) -> list[Item]:
    if list_field == "token_list":
        return [token for _, token in v.tokens(raw, list_field)]
    if list_field == "account_list":
        return [Account(*a) for _, a in v.account_list(raw, list_field, default_type)]
    items: list[Item] = []
    for index, value in enumerate(raw):
        entry = v.token_entry(value, f"{list_field}[{index}]", default_type)
        if entry is not None:
            token, accounts = entry
            items.append(TokenAccounts(token, tuple(Account(*a) for a in accounts)))
    return items


def _dedupe_key(item: Item) -> object:
    if isinstance(item, TokenAccounts):
        return item.token
    if isinstance(item, Account):
        return (item.account, item.effective_type)
    return item


def _deduplicate(
    v: Validator,
    list_field: str,
    items: Sequence[Item],
    duplicates: Duplicates,
    operator: OperatorType | None,
) -> tuple[list[Item], int]:
    """Reject repeated items (the caller can fix them) or merge them (the caller cannot).

    Merging keeps the first position of an item and gives the result TPNS would have reached
    had the repeats been sent one after the other: for an override the later account list
    replaces the earlier one; for an unbind of listed accounts the lists are united.
    """
    first_seen: dict[object, int] = {}
    merged: list[Item] = []
    count = 0
    for index, item in enumerate(items):
        if duplicates == "reject":
            _reject_repeated_accounts(v, f"{list_field}[{index}]", item)
        key = _dedupe_key(item)
        if key not in first_seen:
            first_seen[key] = len(merged)
            merged.append(item)
        elif duplicates == "reject":
            v.fail(
                f"{list_field}[{index}]",
                f"duplicates {list_field}[{first_seen[key]}]; send each item once",
            )
        else:
            count += 1
            merged[first_seen[key]] = _merged(merged[first_seen[key]], item, operator)
    if duplicates == "merge":
        count += _merge_repeated_accounts(merged)
    return merged, count


def _reject_repeated_accounts(v: Validator, path: str, item: Item) -> None:
    inner = _repeated_accounts(item) if isinstance(item, TokenAccounts) else []
    if inner:
        v.fail(
            f"{path}.account_list[{inner[0]}]", "repeats an account already listed for this token"
        )


def _merged(previous: Item, item: Item, operator: OperatorType | None) -> Item:
    """A repeat of ``previous``: what sending both, one after the other, amounts to."""
    if not (isinstance(previous, TokenAccounts) and isinstance(item, TokenAccounts)):
        return previous
    if operator is OperatorType.UNBIND_ACCOUNTS:
        return TokenAccounts(item.token, previous.account_list + item.account_list)
    return item


def _merge_repeated_accounts(merged: list[Item]) -> int:
    """Drop an entry's repeated accounts, keeping the last of each (with one account per type,
    the last is what stays); how many were dropped."""
    count = 0
    for position, item in enumerate(merged):
        if isinstance(item, TokenAccounts) and _repeated_accounts(item):
            unique = _last_of_each(item.account_list, _dedupe_key)
            count += len(item.account_list) - len(unique)
            merged[position] = TokenAccounts(item.token, unique)
    return count


def _last_of_each(
    accounts: Sequence[Account], key: Callable[[Account], object]
) -> tuple[Account, ...]:
    """The last account of each key, in their order."""
    last = {key(account): index for index, account in enumerate(accounts)}
    return tuple(a for index, a in enumerate(accounts) if last[key(a)] == index)


def _repeated_accounts(item: TokenAccounts) -> list[int]:
    seen: set[object] = set()
    repeated: list[int] = []
    for index, account in enumerate(item.account_list):
        key = _dedupe_key(account)
        if key in seen:
            repeated.append(index)
        seen.add(key)
    return repeated
