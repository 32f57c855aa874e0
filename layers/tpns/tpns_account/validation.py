"""Field-by-field validation of request bodies, collecting every issue with its path.

A caller fixing a request wants every problem at once (up to ``MAX_ISSUES``), each named by its
field (``token_accounts[3].token``). Methods return the parsed value, or None after recording
why; ``raise_if_any`` ends a stage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from enum import IntEnum
from typing import Any, TypeVar

from tpns_account import limits
from tpns_account.errors import FieldIssue, RequestValidationError

MAX_ISSUES = 20
E = TypeVar("E", bound=IntEnum)
T = TypeVar("T")


class Missing:
    """A field that was not sent at all (``null`` is sent, and refused where it means nothing)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


def json_object(text: str | bytes, *, not_json: str, not_object: str) -> dict[str, Any]:
    """``text`` parsed, if it is a JSON object; else ``ValueError(not_json)`` or
    ``ValueError(not_object)``. JSON nested deeper than the parser goes is not JSON (the parser
    raises ``RecursionError`` for it, which would pass every ``except ValueError``)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError(not_json) from None
    if not isinstance(data, dict):
        raise ValueError(not_object)
    return data


def kind(value: object) -> str:
    """The JSON name of ``value``'s type, for messages."""
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


def invalid(field: str, message: str) -> RequestValidationError:
    """The error refusing a request for one reason (``raise invalid(...)``)."""
    return RequestValidationError([FieldIssue(field, message)])


def join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


class Validator:
    """Collects the issues of one request so the caller sees them together."""

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
            raise self.error()

    def error(self) -> RequestValidationError:
        """The issues so far, to raise once a stage cannot go on."""
        return RequestValidationError(self.issues, more=self.more)

    def _unless(self, problem: str | None, where: str, value: T) -> T | None:
        """``value``, or None once ``problem`` (when there is one) is recorded against it."""
        if problem:
            self.fail(where, problem)
            return None
        return value

    def mapping(self, data: object) -> Mapping[str, Any]:
        """``data`` as an object, or raise: nothing else can be checked without one."""
        if isinstance(data, Mapping):
            return data
        self.fail("", f"must be a JSON object, got {kind(data)}")
        raise self.error()

    def enum(self, data: Mapping[str, Any], name: str, enum: type[E]) -> E | None:
        value = data.get(name)
        allowed = ", ".join(str(int(m)) for m in enum)
        if name not in data:
            self.fail(name, f"is required (one of {allowed})")
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(name, f"must be an integer (one of {allowed}), got {kind(value)}")
            return None
        try:
            return enum(value)
        except ValueError:
            self.fail(name, f"must be one of {allowed}, got {value}")
            return None

    def platform(self, data: Mapping[str, Any]) -> str | None:
        if "platform" not in data:
            return None
        value = data["platform"]
        if not isinstance(value, str) or value.lower() not in limits.PLATFORMS:
            self.fail("platform", "must be 'android' or 'ios' when given (it is optional)")
            return None
        return value.lower()

    def account_type(self, value: object, where: str) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(where, f"must be an integer, got {kind(value)}")
            return None
        return self._unless(limits.account_type_problem(value), where, value)

    def default_account_type(self, data: Mapping[str, Any]) -> int | None:
        """The request's top-level ``account_type``: the type of every element without one."""
        if "account_type" not in data:
            return None
        return self.account_type(data["account_type"], "account_type")

    def only_list_field(
        self, data: Mapping[str, Any], expected: str, others: tuple[str, ...], context: str
    ) -> None:
        for other in others:
            if other != expected and other in data:
                self.fail(other, f"is not accepted with {context}; send {expected}")

    def list_of(self, data: Mapping[str, Any], name: str) -> list[Any] | None:
        if name not in data:
            self.fail(name, "is required")
            return None
        return self.non_empty_array(data[name], name)

    def non_empty_array(self, value: object, where: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.fail(where, f"must be an array, got {kind(value)}")
            return None
        if not value:
            self.fail(where, "must not be empty")
            return None
        return value

    def token(self, value: object, where: str) -> str | None:
        if not isinstance(value, str):
            self.fail(where, f"must be a string, got {kind(value)}")
            return None
        return self._unless(limits.token_problem(value), where, value)

    def tokens(self, raw: list[Any], name: str) -> Iterator[tuple[int, str]]:
        for index, value in enumerate(raw):
            token = self.token(value, f"{name}[{index}]")
            if token is not None:
                yield index, token

    def account(
        self, value: object, where: str, default_type: int | None
    ) -> tuple[str, int | None] | None:
        """``(account, account_type)``; the type is the element's, else ``default_type``."""
        if not isinstance(value, Mapping):
            self.fail(where, f"must be an object with 'account', got {kind(value)}")
            return None
        unknown = sorted(set(value) - {"account", "account_type"})
        if unknown:
            self.fail(join(where, unknown[0]), "is not a known field (account, account_type)")
        name = value.get("account")
        problem = (
            f"must be a string, got {kind(name)}"
            if not isinstance(name, str)
            else limits.account_problem(name)
        )
        if problem:
            self.fail(join(where, "account"), problem)
        account_type = default_type
        type_ok = True
        if "account_type" in value:
            account_type = self.account_type(value["account_type"], join(where, "account_type"))
            type_ok = account_type is not None
        if problem or unknown or not type_ok or not isinstance(name, str):
            return None
        return name, account_type

    def account_list(
        self, raw: list[Any], name: str, default_type: int | None
    ) -> Iterator[tuple[int, tuple[str, int | None]]]:
        for index, value in enumerate(raw):
            account = self.account(value, f"{name}[{index}]", default_type)
            if account is not None:
                yield index, account

    def token_entry(
        self, value: object, where: str, default_type: int | None
    ) -> tuple[str, list[tuple[str, int | None]]] | None:
        """One ``{"token", "account_list"}`` element of ``token_accounts``."""
        if not isinstance(value, Mapping):
            self.fail(where, f"must be an object with token and account_list, got {kind(value)}")
            return None
        unknown = sorted(set(value) - {"token", "account_list"})
        for extra in unknown:
            self.fail(f"{where}.{extra}", "is not a known field (token, account_list)")
        token = self.token(value.get("token"), f"{where}.token")
        field = f"{where}.account_list"
        raw = self.non_empty_array(value.get("account_list"), field)
        if raw is None:
            return None
        if len(raw) > limits.MAX_ACCOUNTS_PER_TOKEN_ENTRY:
            self.fail(
                field,
                f"must hold at most {limits.MAX_ACCOUNTS_PER_TOKEN_ENTRY} accounts, got {len(raw)}",
            )
            return None
        accounts = [account for _, account in self.account_list(raw, field, default_type)]
        if token is None or len(accounts) != len(raw) or unknown:
            return None
        return token, accounts
