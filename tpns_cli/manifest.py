"""A submit file, read and validated line by line before anything is sent.

The formats are the cleanup manifest's (``tpns_api.queue.cleanup``): JSON lines
(``{"token": ...}``, ``{"account": ..., "account_type": ...}``) or CSV with a header naming
``token`` / ``account`` / ``account_type`` columns (any order and case, other columns ignored;
an empty ``account_type`` is 0, as the cleanup reads it). A line naming both a token and an
account is a ``token_accounts`` item: a bind for ``--operation bind`` (several lines of one token
bind it to all their accounts), an unbind of just those accounts otherwise. A JSON line may also
be a TPNS ``{"token", "account_list": [...]}`` element.

Each line is checked by the layer's own validators, as a one-item body of the operation it
means (``BatchOperation.from_dict``), so a line passes here exactly when the API would take it;
a bad line is kept with its number and the API's reason, and never sent.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from tpns_account import Account, BatchOperation, OperatorType, RequestValidationError, limits
from tpns_account.models import ListField, TokenAccounts
from tpns_api.http.contract import Operation, parse_account_type
from tpns_cli.errors import InputError

Format = Literal["csv", "jsonl"]
COLUMNS: Final = ("token", "account", "account_type")
JSON_FIELDS: Final = frozenset({"token", "account", "account_type", "account_list"})
#: The list fields in the order their parts are submitted.
LIST_ORDER: Final[tuple[ListField, ...]] = ("token_accounts", "token_list", "account_list")


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that is not sent, and why (the API's words for what is wrong with it)."""

    line: int
    reason: str


@dataclass
class Manifest:
    """A file's valid items grouped by list field (first-seen order), and its bad lines."""

    operation: Operation
    format: Format
    digest: str  # sha256 of the file's bytes: the idempotency keys derive from it
    lines: int = 0
    valid_lines: int = 0
    merged: int = 0  # valid lines that repeat an earlier one (sent once)
    bad: list[BadLine] = field(default_factory=list)
    token_accounts: dict[str, list[Account]] = field(default_factory=dict)
    tokens: dict[str, None] = field(default_factory=dict)
    accounts: dict[tuple[str, int], Account] = field(default_factory=dict)

    def items(self, list_field: ListField) -> list[Any]:
        """The items of ``list_field`` as the API's body carries them."""
        if list_field == "token_accounts":
            return [
                TokenAccounts(token, tuple(accounts)).to_dict()
                for token, accounts in self.token_accounts.items()
            ]
        if list_field == "token_list":
            return list(self.tokens)
        return [account.to_dict() for account in self.accounts.values()]

    @property
    def total_items(self) -> int:
        return len(self.token_accounts) + len(self.tokens) + len(self.accounts)

    def overridden(self) -> list[str]:
        """Tokens given two accounts of one account_type: TPNS keeps only the last of them."""
        return [
            token
            for token, accounts in self.token_accounts.items()
            if TokenAccounts(token, tuple(accounts)).overridden()
        ]


def read_manifest(path: Path, operation: Operation) -> Manifest:
    """Read and validate ``path`` whole (binds group a token's lines, wherever they are)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return parse_manifest(data, operation, name=str(path))


def parse_manifest(data: bytes, operation: Operation, *, name: str = "input") -> Manifest:
    """Validate every line of ``data``; raise only if the file as a whole is unusable."""
    manifest: Manifest | None = None
    header: list[str] | None = None
    for number, text in _lines(data, name):
        if text is None:
            if manifest is not None:
                manifest.bad.append(BadLine(number, "not valid UTF-8"))
            continue
        if manifest is None:  # the first non-blank line decides the format
            fmt: Format = "jsonl" if text.startswith("{") else "csv"
            manifest = Manifest(operation, fmt, hashlib.sha256(data).hexdigest())
            if fmt == "csv":
                header = _header(text, operation, name)
                continue
        try:
            element = _json_element(text) if header is None else _csv_element(text, header)
            _add(manifest, element)
        except (ValueError, csv.Error) as exc:  # RequestValidationError is a ValueError
            manifest.bad.append(BadLine(number, str(exc)))
            continue
        manifest.valid_lines += 1
    if manifest is None:
        raise InputError(f"{name}: has no lines to submit")
    manifest.lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return manifest


def _lines(data: bytes, name: str) -> Iterator[tuple[int, str | None]]:
    """Non-blank lines with their numbers (from 1), stripped; None for one that is not UTF-8."""
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8").strip().lstrip("\ufeff")
        except UnicodeDecodeError:
            yield number, None
            continue
        if text:
            yield number, text


def _header(text: str, operation: Operation, name: str) -> list[str]:
    header = [column.strip().lower() for column in next(csv.reader([text]))]
    known = [column for column in header if column in COLUMNS]
    if len(known) != len(set(known)):
        raise InputError(f"{name}: the CSV header names a column twice ({text[:80]})")
    needed = {"token", "account"} if operation == "bind" else set()
    if not {"token", "account"} & set(header) or not needed <= set(header):
        columns = "token and account" if operation == "bind" else "a token or an account"
        raise InputError(
            f"{name}: line 1 must be a CSV header naming {columns} column "
            f"(token, account, account_type), or the file JSON lines; got {text[:80]!r}"
        )
    return header


def _csv_element(text: str, header: list[str]) -> dict[str, Any]:
    values = next(csv.reader([text]))
    if len(values) != len(header):
        raise ValueError(f"has {len(values)} fields, the header {len(header)}")
    row = {name: value.strip() for name, value in zip(header, values, strict=True)}
    element: dict[str, Any] = {}
    if row.get("token"):
        element["token"] = row["token"]
    if row.get("account"):
        element["account"] = row["account"]
        element["account_type"] = parse_account_type(row.get("account_type") or "0")
    elif row.get("account_type"):
        element["account_type"] = row["account_type"]  # refused: there is no account
    return element


def _json_element(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("must be a JSON object with a token or an account")
    unknown = sorted(set(data) - JSON_FIELDS)
    if unknown:
        raise ValueError(f"{unknown[0]}: is not a known field (token, account, account_type)")
    if "account_list" in data and ("account" in data or "account_type" in data):
        raise ValueError("give account (with account_type) or account_list, not both")
    return data


def _add(manifest: Manifest, element: Mapping[str, Any]) -> None:
    """Validate ``element`` as the API would, then add it (repeats merged, counted)."""
    list_field, operator, item = _as_item(element, manifest.operation)
    body = {"operator_type": int(operator), list_field: [item]}
    try:
        parsed = BatchOperation.from_dict(body).items[0]
    except RequestValidationError as exc:
        single = "account_list" not in element
        raise ValueError(
            "; ".join(_named(str(i), list_field, single) for i in exc.issues)
        ) from None
    if isinstance(parsed, TokenAccounts):
        _add_accounts(manifest, parsed)
    elif isinstance(parsed, Account):
        key = (parsed.account, parsed.effective_type)
        manifest.merged += key in manifest.accounts
        manifest.accounts.setdefault(key, parsed)
    else:
        manifest.merged += parsed in manifest.tokens
        manifest.tokens[parsed] = None


def _add_accounts(manifest: Manifest, entry: TokenAccounts) -> None:
    accounts = manifest.token_accounts.get(entry.token, [])
    have = {(a.account, a.effective_type) for a in accounts}
    new = [a for a in entry.account_list if (a.account, a.effective_type) not in have]
    if len(accounts) + len(new) > limits.MAX_ACCOUNTS_PER_TOKEN_ENTRY:
        raise ValueError(
            f"token {entry.token!r} would have more than {limits.MAX_ACCOUNTS_PER_TOKEN_ENTRY} "
            "accounts in this file (the most one operation takes for a token)"
        )
    manifest.merged += not new
    manifest.token_accounts[entry.token] = accounts + new


def _as_item(element: Mapping[str, Any], operation: Operation) -> tuple[ListField, int, Any]:
    """The list field, operator type and wire item a line means for ``operation``."""
    has_token = "token" in element
    has_accounts = "account" in element or "account_list" in element
    if has_token and has_accounts:
        account_list = element.get("account_list")
        if account_list is None:
            account = {k: element[k] for k in ("account", "account_type") if k in element}
            account_list = [account]
        item = {"token": element["token"], "account_list": account_list}
        operator = OperatorType.OVERRIDE if operation == "bind" else OperatorType.UNBIND_ACCOUNTS
        return "token_accounts", operator, item
    if operation == "bind":
        raise ValueError("a bind line needs a token and an account")
    if "account_type" in element and "account" not in element:
        raise ValueError("account_type: is given without an account")
    if has_token:
        return "token_list", OperatorType.UNBIND_ALL_ACCOUNTS, element["token"]
    if "account" in element:
        return "account_list", OperatorType.UNBIND_ALL_TOKENS, dict(element)
    raise ValueError("must fill a token or an account")


def _named(issue: str, list_field: ListField, single_account: bool) -> str:
    """An issue of the one-item body, named as the line's field (``account``, not
    ``token_accounts[0].account_list[0].account``)."""
    prefixes = {
        "token_list": (("token_list[0]", "token"),),
        "account_list": (("account_list[0].", ""),),
        "token_accounts": (
            ("token_accounts[0].account_list[0].", "") if single_account else ("", ""),
            ("token_accounts[0].", ""),
        ),
    }[list_field]
    for prefix, name in prefixes:
        if prefix and issue.startswith(prefix):
            return name + issue[len(prefix) :]
    return issue
