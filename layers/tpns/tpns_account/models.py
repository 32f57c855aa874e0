"""Validated request models for TPNS batchoperate and query.

Models are plain frozen dataclasses, not pydantic: validation runs on every request and the
import runs on every cold start, so both stay in the standard library. Every problem is reported
with the path of the offending field (``token_accounts[3].token``) so a caller can fix it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

from tpns_account.errors import FieldIssue, RequestValidationError

TOKEN_MIN, TOKEN_MAX = 1, 64
# Device tokens are hex, UUID-like or base64-ish; anything else is refused before TPNS sees it.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_:.+/=-]+")
TOKEN_CHARACTERS = "letters, digits and _ : . + / = -"  # noqa: S105 (a description)
ACCOUNT_MIN, ACCOUNT_MAX = 2, 100
MAX_ACCOUNTS_PER_TOKEN = 100
PLATFORMS = frozenset({"android", "ios"})

# The current TPNS account type table (REFERENCE.md); the legacy XG numbers are not accepted.
ACCOUNT_TYPES: frozenset[int] = frozenset(
    [0, *range(1, 17), 991, 992, 997, 998, 999, *range(1002, 1016)]
)

Duplicates = Literal["reject", "merge"]


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


ListField = Literal["token_accounts", "token_list", "account_list"]

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
LIST_FIELDS: tuple[ListField, ...] = ("token_accounts", "token_list", "account_list")


@dataclass(frozen=True, slots=True)
class Account:
    account: str
    account_type: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"account": self.account, "account_type": self.account_type}


@dataclass(frozen=True, slots=True)
class TokenAccounts:
    token: str
    account_list: tuple[Account, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"token": self.token, "account_list": [a.to_dict() for a in self.account_list]}

    def overridden(self) -> list[tuple[Account, Account]]:
        """Pairs (dropped, kept) that TPNS collapses: one account per account_type per token."""
        last: dict[int, Account] = {}
        pairs: list[tuple[Account, Account]] = []
        for account in self.account_list:
            previous = last.get(account.account_type)
            if previous is not None:
                pairs.append((previous, account))
            last[account.account_type] = account
        return pairs


Item = TokenAccounts | str | Account


@dataclass(frozen=True, slots=True)
class BatchOperation:
    """One logical bind/unbind, of any size; the payload builder splits it into TPNS calls."""

    operator_type: OperatorType
    items: tuple[Item, ...]
    platform: str | None = None
    merged_duplicates: int = field(default=0, compare=False)

    @property
    def list_field(self) -> ListField:
        return BATCH_FIELD[self.operator_type]

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
        """Validate a TPNS-shaped batchoperate body (``operator_type`` plus its list field)."""
        v = _Validator(path)
        if not isinstance(data, Mapping):
            v.fail("", f"must be a JSON object, got {_kind(data)}")
            v.raise_if_any()
        assert isinstance(data, Mapping)
        operator = v.enum(data, "operator_type", OperatorType)
        platform = v.platform(data)
        v.raise_if_any()
        assert operator is not None
        return cls._from_field(v, data, OperatorType(operator), platform, duplicates)

    @classmethod
    def _from_field(
        cls,
        v: _Validator,
        data: Mapping[str, Any],
        operator: OperatorType,
        platform: str | None,
        duplicates: Duplicates,
    ) -> BatchOperation:
        list_field = BATCH_FIELD[operator]
        v.only_list_field(data, list_field, f"operator_type {int(operator)}")
        raw = v.list_of(data, list_field)
        v.raise_if_any()
        assert raw is not None
        items: list[Item]
        if list_field == "token_accounts":
            items = list(v.token_accounts(raw, list_field))
        elif list_field == "token_list":
            items = list(v.tokens(raw, list_field))
        else:
            items = list(v.accounts(raw, list_field))
        v.raise_if_any()
        items, merged = _deduplicate(v, list_field, items, duplicates, operator)
        v.raise_if_any()
        return cls(operator, tuple(items), platform, merged)

    @classmethod
    def bind(cls, token_accounts: Iterable[TokenAccounts]) -> BatchOperation:
        return cls._checked(OperatorType.OVERRIDE, token_accounts)

    @classmethod
    def unbind_accounts(cls, token_accounts: Iterable[TokenAccounts]) -> BatchOperation:
        return cls._checked(OperatorType.UNBIND_ACCOUNTS, token_accounts)

    @classmethod
    def unbind_tokens(cls, tokens: Iterable[str]) -> BatchOperation:
        """Unbind each token from all its accounts (operator_type 4)."""
        return cls._checked(OperatorType.UNBIND_ALL_ACCOUNTS, tokens)

    @classmethod
    def unbind_accounts_everywhere(cls, accounts: Iterable[Account]) -> BatchOperation:
        """Unbind each account from all its tokens (operator_type 5)."""
        return cls._checked(OperatorType.UNBIND_ALL_TOKENS, accounts)

    @classmethod
    def _checked(cls, operator: OperatorType, items: Iterable[Any]) -> BatchOperation:
        """Build from typed items, re-validating them exactly as a JSON body would be."""
        list_field = BATCH_FIELD[operator]
        body = {"operator_type": int(operator), list_field: [_as_json(i) for i in items]}
        return cls.from_dict(body)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"operator_type": self.wire_operator_type}
        if self.platform is not None:
            body["platform"] = self.platform
        body[self.list_field] = [_as_json(item) for item in self.items]
        return body


@dataclass(frozen=True, slots=True)
class Query:
    """One logical query, of any size."""

    operator_type: QueryType
    items: tuple[str | Account, ...]
    platform: str | None = None

    @property
    def list_field(self) -> ListField:
        return QUERY_FIELD[self.operator_type]

    @classmethod
    def from_dict(cls, data: object, *, path: str = "") -> Query:
        v = _Validator(path)
        if not isinstance(data, Mapping):
            v.fail("", f"must be a JSON object, got {_kind(data)}")
            v.raise_if_any()
        assert isinstance(data, Mapping)
        operator = v.enum(data, "operator_type", QueryType)
        platform = v.platform(data)
        v.raise_if_any()
        assert operator is not None
        query_type = QueryType(operator)
        list_field = QUERY_FIELD[query_type]
        v.only_list_field(data, list_field, f"query operator_type {int(query_type)}")
        raw = v.list_of(data, list_field)
        v.raise_if_any()
        assert raw is not None
        items: list[str | Account] = (
            list(v.tokens(raw, list_field))
            if list_field == "token_list"
            else list(v.accounts(raw, list_field))
        )
        v.raise_if_any()
        _deduplicate(v, list_field, list(items), "reject", None)
        v.raise_if_any()
        return cls(query_type, tuple(items), platform)

    @classmethod
    def tokens_of(cls, accounts: Iterable[Account]) -> Query:
        return cls.from_dict({"operator_type": 1, "account_list": [a.to_dict() for a in accounts]})

    @classmethod
    def accounts_of(cls, tokens: Iterable[str]) -> Query:
        return cls.from_dict({"operator_type": 2, "token_list": list(tokens)})

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"operator_type": int(self.operator_type)}
        if self.platform is not None:
            body["platform"] = self.platform
        body[self.list_field] = [_as_json(item) for item in self.items]
        return body


def parse_token(value: object, field: str = "token") -> str:
    """Validate one token on its own (manifests, path parameters)."""
    v = _Validator()
    token = v.token(value, field)
    v.raise_if_any()
    assert token is not None
    return token


def parse_account(value: object) -> Account:
    """Validate one ``{"account", "account_type"}`` object on its own."""
    v = _Validator()
    account = v.account(value, "")
    v.raise_if_any()
    assert account is not None
    return account


def _as_json(item: object) -> Any:
    if isinstance(item, Account | TokenAccounts):
        return item.to_dict()
    return item


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _is_utf8(text: str) -> bool:
    """False for lone surrogates, which JSON can carry but UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _has_control_chars(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


MAX_ISSUES = 20


class _Validator:
    """Collects the issues of one request so the caller sees them at once (the first 20)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.issues: list[FieldIssue] = []
        self.more = 0

    def path(self, name: str) -> str:
        if not self.prefix:
            return name
        if not name:
            return self.prefix
        return f"{self.prefix}{name}" if name.startswith("[") else f"{self.prefix}.{name}"

    def fail(self, name: str, message: str) -> None:
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(FieldIssue(self.path(name), message))
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if self.issues:
            raise RequestValidationError(self.issues, more=self.more)

    def enum(self, data: Mapping[str, Any], name: str, kind: type[IntEnum]) -> int | None:
        value = data.get(name)
        allowed = ", ".join(str(int(m)) for m in kind)
        if name not in data:
            self.fail(name, f"is required (one of {allowed})")
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(name, f"must be an integer (one of {allowed}), got {_kind(value)}")
            return None
        if value not in {int(m) for m in kind}:
            self.fail(name, f"must be one of {allowed}, got {value}")
            return None
        return value

    def platform(self, data: Mapping[str, Any]) -> str | None:
        value = data.get("platform")
        if value is None:
            return None
        if not isinstance(value, str) or value.lower() not in PLATFORMS:
            self.fail("platform", "must be 'android' or 'ios' when given (it is optional)")
            return None
        return value.lower()

    def only_list_field(self, data: Mapping[str, Any], expected: str, context: str) -> None:
        for other in LIST_FIELDS:
            if other != expected and other in data:
                self.fail(other, f"is not accepted with {context}; send {expected}")

    def list_of(self, data: Mapping[str, Any], name: str) -> list[Any] | None:
        if name not in data:
            self.fail(name, "is required")
            return None
        value = data[name]
        if not isinstance(value, list):
            self.fail(name, f"must be an array, got {_kind(value)}")
            return None
        if not value:
            self.fail(name, "must not be empty")
            return None
        return value

    def token(self, value: object, where: str) -> str | None:
        if not isinstance(value, str):
            self.fail(where, f"must be a string, got {_kind(value)}")
            return None
        if not TOKEN_MIN <= len(value) <= TOKEN_MAX:
            self.fail(where, f"must be {TOKEN_MIN}-{TOKEN_MAX} characters, got {len(value)}")
            return None
        if not TOKEN_PATTERN.fullmatch(value):
            self.fail(where, f"must contain only {TOKEN_CHARACTERS}")
            return None
        return value

    def tokens(self, raw: list[Any], name: str) -> Iterable[str]:
        for index, value in enumerate(raw):
            token = self.token(value, f"{name}[{index}]")
            if token is not None:
                yield token

    def account(self, value: object, where: str) -> Account | None:
        if not isinstance(value, Mapping):
            self.fail(where, f"must be an object with 'account', got {_kind(value)}")
            return None
        unknown = sorted(set(value) - {"account", "account_type"})
        if unknown:
            self.fail(_join(where, unknown[0]), "is not a known field (account, account_type)")
        name = value.get("account")
        ok = True
        if not isinstance(name, str):
            self.fail(_join(where, "account"), f"must be a string, got {_kind(name)}")
            ok = False
        elif not ACCOUNT_MIN <= len(name) <= ACCOUNT_MAX:
            self.fail(
                _join(where, "account"),
                f"must be {ACCOUNT_MIN}-{ACCOUNT_MAX} characters, got {len(name)}",
            )
            ok = False
        elif _has_control_chars(name) or not name.strip() or not _is_utf8(name):
            self.fail(
                _join(where, "account"), "must be valid text, not blank, without control characters"
            )
            ok = False
        account_type = value.get("account_type", 0)
        if not isinstance(account_type, int) or isinstance(account_type, bool):
            self.fail(
                _join(where, "account_type"), f"must be an integer, got {_kind(account_type)}"
            )
            ok = False
        elif account_type not in ACCOUNT_TYPES:
            self.fail(
                _join(where, "account_type"),
                f"{account_type} is not a TPNS account type "
                "(0, 1-16, 991, 992, 997, 998, 999, 1002-1015)",
            )
            ok = False
        if not ok or unknown:
            return None
        assert isinstance(name, str)
        return Account(name, account_type)

    def accounts(self, raw: list[Any], name: str) -> Iterable[Account]:
        for index, value in enumerate(raw):
            account = self.account(value, f"{name}[{index}]")
            if account is not None:
                yield account

    def token_accounts(self, raw: list[Any], name: str) -> Iterable[TokenAccounts]:
        for index, value in enumerate(raw):
            where = f"{name}[{index}]"
            if not isinstance(value, Mapping):
                self.fail(
                    where, f"must be an object with token and account_list, got {_kind(value)}"
                )
                continue
            unknown = sorted(set(value) - {"token", "account_list"})
            for extra in unknown:
                self.fail(f"{where}.{extra}", "is not a known field (token, account_list)")
            token = self.token(value.get("token"), f"{where}.token")
            accounts_raw = value.get("account_list")
            if not isinstance(accounts_raw, list):
                self.fail(f"{where}.account_list", f"must be an array, got {_kind(accounts_raw)}")
                continue
            if not accounts_raw:
                self.fail(f"{where}.account_list", "must not be empty")
                continue
            if len(accounts_raw) > MAX_ACCOUNTS_PER_TOKEN:
                self.fail(
                    f"{where}.account_list",
                    f"must hold at most {MAX_ACCOUNTS_PER_TOKEN} accounts, got {len(accounts_raw)}",
                )
                continue
            accounts = list(self.accounts(accounts_raw, f"{where}.account_list"))
            if token is None or len(accounts) != len(accounts_raw) or unknown:
                continue
            yield TokenAccounts(token, tuple(accounts))


def _deduplicate(
    v: _Validator,
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
        key = item.token if isinstance(item, TokenAccounts) else item
        if isinstance(item, TokenAccounts):
            inner = _duplicate_accounts(item)
            if inner and duplicates == "reject":
                v.fail(
                    f"{list_field}[{index}].account_list[{inner[0]}]",
                    "repeats an account already listed for this token",
                )
        if key in first_seen:
            if duplicates == "reject":
                v.fail(
                    f"{list_field}[{index}]",
                    f"duplicates {list_field}[{first_seen[key]}]; send each item once",
                )
                continue
            count += 1
            at = first_seen[key]
            previous = merged[at]
            if isinstance(previous, TokenAccounts) and isinstance(item, TokenAccounts):
                if operator is OperatorType.UNBIND_ACCOUNTS:
                    item = TokenAccounts(item.token, previous.account_list + item.account_list)
                merged[at] = item
            continue
        first_seen[key] = len(merged)
        merged.append(item)
    if duplicates == "merge":
        for position, item in enumerate(merged):
            if isinstance(item, TokenAccounts) and _duplicate_accounts(item):
                # Keep the last repeat: with one account per type, the last one is what stays.
                unique = tuple(reversed(dict.fromkeys(reversed(item.account_list))))
                count += len(item.account_list) - len(unique)
                merged[position] = TokenAccounts(item.token, unique)
    return merged, count


def _duplicate_accounts(item: TokenAccounts) -> list[int]:
    seen: set[Account] = set()
    repeated: list[int] = []
    for index, account in enumerate(item.account_list):
        if account in seen:
            repeated.append(index)
        seen.add(account)
    return repeated
