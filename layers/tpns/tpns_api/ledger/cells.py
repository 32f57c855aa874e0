"""The ledger's rules, as pure functions: how an operation changes a token, and what is bound.

Every write carries a *version*, ``issued_at`` (epoch ms, zero-padded) then the operation's id,
so versions order as operations were issued and two operations never tie. A token's item keeps:

- ``w``: the version of the last whole-token operation, a bind (op 2, 1) or an unbind of all
  its accounts (op 4). Every cell older than ``w`` is dead: that is how a bind replaces all of a
  token's accounts, and op 4 removes them, without knowing which cells exist.
- ``c<type>``: the account a bind set for that account type, with the bind's version.
- ``m<type>_<hash>``: the version of the last op 3 that unbound that account from the token.
- ``top``: the newest version the item holds, so that an operation newer than all of it can be
  written without reading it first (``tpns_api.ledger.store``).

And per account and type, elsewhere, the version of the last op 5 (unbind from every token).
A cell is bound when it is at least as new as ``w`` and no unbind of its account is newer.

Applying an operation only ever raises versions, so any delivery order, and any repetition,
leaves the item as the operations applied in issued order would: last issued wins, per cell.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

from tpns_account.values import Value, field

#: Older than any operation: what a backfill records (anything the bundle does later wins).
BACKFILL_VERSION: Final = "0000000000000.backfill"
TokenOpKind = Literal["bind", "unbind_accounts", "unbind_token", "observe"]
AccountKey = tuple[str, int]  # (account, account_type)


def version(issued_at_ms: int, op_id: str) -> str:
    """The order of an operation among all others (issued_at, then its id)."""
    return f"{max(0, issued_at_ms):013d}.{op_id}"


def issued_at_of(version_text: str) -> int:
    return int(version_text.split(".", 1)[0])


def cell_name(account_type: int) -> str:
    return f"c{account_type}"


def marker_name(account: str, account_type: int) -> str:
    digest = hashlib.sha1(account.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
    return f"m{account_type}_{digest}"


class TokenOp(Value):
    """One operation on one token (an item of a bind, op 3, op 4, or a backfill)."""

    kind: TokenOpKind
    token: str
    version: str
    op_id: str
    accounts: tuple[AccountKey, ...] = ()


class AccountVersion(Value):
    """An account of one account type, as an operation (its version and id) left it."""

    account: str
    account_type: int
    version: str
    op_id: str

    @property
    def key(self) -> AccountKey:
        return (self.account, self.account_type)


class Cell(AccountVersion):
    """An account bound to a token for one account type, and the operation that bound it."""


class TokenChange(Value):
    """What an operation did to a token's item.

    ``item`` is the new item (None: nothing to write); ``superseded`` the accounts (or, for a
    whole-token operation, everything) that newer operations had already decided.
    """

    item: dict[str, Any] | None
    superseded: bool
    superseded_accounts: frozenset[AccountKey] = field(default_factory=frozenset)


def apply(item: Mapping[str, Any] | None, op: TokenOp) -> TokenChange:
    """``op`` applied to a token's item (None: the token has none yet)."""
    current: dict[str, Any] = dict(item or {})
    wipe = str(current.get("w", ""))
    if op.kind == "observe":
        return _observe(current, op, wipe)
    if wipe > op.version:
        return TokenChange(None, True, frozenset(op.accounts))
    if op.kind == "unbind_accounts":
        return _unbind_accounts(current, op)
    current["w"] = op.version
    if op.kind == "bind":
        for account, account_type in op.accounts:
            current[cell_name(account_type)] = {"a": account, "v": op.version, "op": op.op_id}
    return TokenChange(_topped(_compacted(current), op.version), False)


def newest(op: TokenOp) -> dict[str, Any]:
    """The item after ``op`` when it is newer than everything the item held (``top``): a bind
    or op 4 leaves nothing older alive, so the item is just the operation's."""
    item: dict[str, Any] = {"w": op.version, "top": op.version}
    if op.kind == "bind":
        for account, account_type in op.accounts:
            item[cell_name(account_type)] = {"a": account, "v": op.version, "op": op.op_id}
    return item


def _topped(item: dict[str, Any], version_text: str) -> dict[str, Any]:
    item["top"] = max(str(item.get("top", "")), version_text)
    return item


def _unbind_accounts(current: dict[str, Any], op: TokenOp) -> TokenChange:
    superseded = set()
    for account, account_type in op.accounts:
        name = marker_name(account, account_type)
        marker = current.get(name)
        if isinstance(marker, Mapping) and str(marker.get("v", "")) > op.version:
            superseded.add((account, account_type))
            continue
        current[name] = {"a": account, "v": op.version}
    everything = len(superseded) == len(op.accounts)
    item = None if everything else _topped(current, op.version)
    return TokenChange(item, everything, frozenset(superseded))


def _observe(current: dict[str, Any], op: TokenOp, wipe: str) -> TokenChange:
    """A backfill: what TPNS holds, recorded only where the bundle knows nothing newer."""
    changed = False
    seen = set()
    for account, account_type in op.accounts:
        name = cell_name(account_type)
        if wipe or name in current:
            seen.add((account, account_type))
            continue
        current[name] = {"a": account, "v": BACKFILL_VERSION, "op": op.op_id}
        changed = True
    item = _topped(current, BACKFILL_VERSION) if changed else None
    return TokenChange(item, not changed, frozenset(seen))


def _compacted(item: dict[str, Any]) -> dict[str, Any]:
    """Drop cells and unbind markers older than the last whole-token operation."""
    wipe = str(item.get("w", ""))
    return {
        name: value
        for name, value in item.items()
        if not (
            name[:1] in ("c", "m") and isinstance(value, Mapping) and str(value.get("v", "")) < wipe
        )
    }


def cells_of(item: Mapping[str, Any] | None) -> list[Cell]:
    """Every cell of the item that no whole-token operation or op 3 has undone."""
    if not item:
        return []
    wipe = str(item.get("w", ""))
    cells = []
    for name, value in item.items():
        if not (name.startswith("c") and name[1:].isdigit() and isinstance(value, Mapping)):
            continue
        account_type = int(name[1:])
        cell = Cell(str(value["a"]), account_type, str(value["v"]), str(value.get("op", "")))
        if cell.version < wipe:
            continue
        marker = item.get(marker_name(cell.account, account_type))
        if isinstance(marker, Mapping) and str(marker.get("v", "")) > cell.version:
            continue
        cells.append(cell)
    return sorted(cells, key=lambda c: c.account_type)


def bound(item: Mapping[str, Any] | None, account_unbinds: Mapping[AccountKey, str]) -> list[Cell]:
    """The token's desired accounts: its cells, less those an op 5 issued later undid."""
    return [cell for cell in cells_of(item) if account_unbinds.get(cell.key, "") <= cell.version]


def accounts_needing_unbind_state(items: Iterable[Mapping[str, Any] | None]) -> set[AccountKey]:
    """The accounts whose op 5 version decides whether the items' cells are bound."""
    return {c.key for item in items for c in cells_of(item)}
