"""The binding ledger in DynamoDB: record operations (last issued wins), read what is bound.

Its items are described in ``tpns_api.ledger.items``.

An operation newer than everything its token's item holds (``top``) is written blind, in one
transaction with its index entries and, for a bind, a check per account that no later op 5
unbound it: the usual case, one round trip. Any other is recorded with optimistic concurrency:
read, apply (``cells.apply``), and write back on condition that nobody wrote it meanwhile
(``rev``), up to 100 tokens per transaction; a conflict is read again and reapplied. Index
entries and facts are immutable and idempotent, written in batches without conditions. Whether
a cell is bound also depends on its account's op 5 version, so an op 5 and a bind of the same
account resolve by ``issued_at`` whatever order they are recorded in.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from tpns_account.values import Value
from tpns_api.ledger import cells
from tpns_api.ledger.cells import AccountKey, Cell, TokenOp
from tpns_api.ledger.items import (
    AccountUnbind,
    AccountUnbindRecorded,
    Binding,
    Recorded,
    account_unbind_key,
    binding_state,
    index_key,
    op_key,
    token_key,
    verification_key,
)
from tpns_api.store.dynamo import (
    MAX_TRANSACTION,
    Item,
    Key,
    StoreUnavailableError,
    Table,
    fan_out,
    to_attribute,
    to_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import PutTypeDef, TransactWriteItemTypeDef

logger = logging.getLogger(__name__)

ROUNDS = 8  # read-apply-write rounds before contention counts as unavailability
QUERY_CONCURRENCY = 16  # an op 5 message queries this many accounts' partitions at once


class LedgerStore(Value, frozen=False):
    """The ledger of one table; every method takes the app's AccessID."""

    table: Table

    # -- recording ------------------------------------------------------------------------------

    def record(self, app: str, ops: Sequence[TokenOp]) -> list[Recorded]:
        """Record token operations (one per token); last issued wins per cell.

        An operation newer than everything its token holds (the usual case: it was just issued)
        is written blind, in one transaction with its index entries and a check that no later
        op 5 unbound its accounts. The others are read, applied and written back.
        """
        by_token = {op.token: op for op in ops}
        done = self._record_newest(app, [op for op in by_token.values() if op.kind != "observe"])
        rest = [op for token, op in by_token.items() if token not in done]
        if rest:
            done |= {r.op.token: r for r in self._read_apply_write(app, rest)}
        return [done[token] for token in by_token]

    def _record_newest(self, app: str, ops: Sequence[TokenOp]) -> dict[str, Recorded]:
        """Write each operation on condition it is its token's newest; those it held for."""
        groups = [(op, self._newest_writes(app, op)) for op in ops]
        batches: list[list[tuple[TokenOp, list[TransactWriteItemTypeDef]]]] = [[]]
        size = 0
        for op, writes in groups:
            # Its writes, and a check per account (at most; fewer when tokens share one).
            need = len(writes) + (len(op.accounts) if op.kind == "bind" else 0)
            if need > MAX_TRANSACTION:
                continue  # too many accounts for one transaction: read, apply, write
            if size + need > MAX_TRANSACTION:
                batches.append([])
                size = 0
            batches[-1].append((op, writes))
            size += need

        def one(batch: list[tuple[TokenOp, list[TransactWriteItemTypeDef]]]) -> list[TokenOp]:
            writes = [w for _, group in batch for w in group]
            writes += self._no_later_account_unbinds(app, [op for op, _ in batch])
            return [op for op, _ in batch] if self.table.transact(writes) is None else []

        written = [
            op for ops_written in fan_out(one, [b for b in batches if b]) for op in ops_written
        ]
        return {op.token: _newest_recorded(op) for op in written}

    def _newest_writes(self, app: str, op: TokenOp) -> list[TransactWriteItemTypeDef]:
        """The writes recording ``op`` as its token's newest (cancelled if it is not)."""
        key = token_key(app, op.token)
        condition = "attribute_not_exists(#top) OR #top < :v"
        writes: list[TransactWriteItemTypeDef] = []
        if op.kind == "unbind_accounts":
            names = {"#top": "top", "#rev": "rev", "#token": "token"}
            values: dict[str, Any] = {":v": op.version, ":rev": _revision(), ":token": op.token}
            sets = ["#top = :v", "#rev = :rev", "#token = :token"]
            for n, (account, account_type) in enumerate(op.accounts):
                names[f"#m{n}"] = cells.marker_name(account, account_type)
                values[f":m{n}"] = {"a": account, "v": op.version}
                sets.append(f"#m{n} = :m{n}")
            update = {
                "TableName": self.table.name,
                "Key": to_item(key),
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item(values),
            }
            writes.append({"Update": update})  # type: ignore[typeddict-item]
            return writes
        item = {**cells.newest(op), **key, "token": op.token, "rev": _revision()}
        put = {
            "TableName": self.table.name,
            "Item": to_item(item),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#top": "top"},
            "ExpressionAttributeValues": {":v": {"S": op.version}},
        }
        writes.append({"Put": put})  # type: ignore[typeddict-item]
        for account, account_type in op.accounts:
            index = index_key(app, account, account_type, op.token)
            writes.append({"Put": {"TableName": self.table.name, "Item": to_item(index)}})
        return writes

    def _no_later_account_unbinds(
        self, app: str, ops: Sequence[TokenOp]
    ) -> list[TransactWriteItemTypeDef]:
        """Checks that no op 5 issued after these binds unbound their accounts: one per account
        (a transaction touches an item once), with the earliest version, the strictest."""
        earliest: dict[AccountKey, str] = {}
        for op in ops:
            if op.kind != "bind":
                continue
            for account in op.accounts:
                earliest[account] = min(earliest.get(account, op.version), op.version)
        return [
            {
                "ConditionCheck": {
                    "TableName": self.table.name,
                    "Key": to_item(account_unbind_key(app, account, account_type)),
                    "ConditionExpression": "attribute_not_exists(u) OR u < :v",
                    "ExpressionAttributeValues": {":v": {"S": version_text}},
                }
            }
            for (account, account_type), version_text in earliest.items()
        ]

    def _read_apply_write(self, app: str, ops: Sequence[TokenOp]) -> list[Recorded]:
        """Read the tokens, apply the operations, write back on condition nobody wrote
        meanwhile; again for the tokens someone did."""
        self.table.put_many(
            [
                index_key(app, account, account_type, op.token)
                for op in ops
                if op.kind in ("bind", "observe")
                for account, account_type in op.accounts
            ]
        )
        by_token = {op.token: op for op in ops}
        unbind_keys = {a for op in ops if op.kind == "bind" for a in op.accounts}
        changes: dict[str, cells.TokenChange] = {}
        pending = list(by_token)
        items = self._read(app, pending)
        for _ in range(ROUNDS):
            writes: list[tuple[str, TransactWriteItemTypeDef]] = []
            for token in pending:
                change = cells.apply(items.get(token), by_token[token])
                changes[token] = change
                if change.item is not None:
                    writes.append((token, self._put(app, token, items.get(token), change.item)))
            conflicted = self._write(writes)
            if not conflicted:
                break
            pending = conflicted
            items |= self._read(app, pending)
        else:
            raise StoreUnavailableError(f"ledger: {len(pending)} token(s) kept conflicting")
        # Read after the write: an op 5 writes its version before it looks for holders, so
        # either it finds this bind's cells, or this read finds its version.
        unbinds = self.account_unbinds(app, unbind_keys)
        return [self._recorded(by_token[t], changes[t], unbinds) for t in by_token]

    def record_account_unbinds(
        self, app: str, ops: Sequence[AccountUnbind]
    ) -> list[AccountUnbindRecorded]:
        """Record op 5s: each account's version rises, unless a later op 5 was recorded."""
        current = self.account_unbinds(app, {op.key for op in ops})
        latest: dict[AccountKey, AccountUnbind] = {}  # one write per account and type
        for op in ops:
            if op.version < current.get(op.key, ""):
                continue
            if op.key not in latest or op.version > latest[op.key].version:
                latest[op.key] = op
        raised = self._raise_versions(app, list(latest.values()))
        holders = self._holders(app, [latest[key] for key in raised])
        results = []
        for op in ops:
            if op.key in raised and latest[op.key] is op:
                older, newer = holders[op.key]
                results.append(AccountUnbindRecorded(op, False, older, newer))
            else:
                results.append(AccountUnbindRecorded(op, True))
        return results

    def _raise_versions(self, app: str, ops: Sequence[AccountUnbind]) -> set[AccountKey]:
        """Set each account's op 5 version, 100 per transaction; the accounts it was set for
        (the others had a later op 5 recorded meanwhile)."""
        raised: set[AccountKey] = set()
        pending = list(ops)
        for _ in range(ROUNDS):
            retry: list[AccountUnbind] = []
            for start in range(0, len(pending), MAX_TRANSACTION):
                part = pending[start : start + MAX_TRANSACTION]
                cancelled = self.table.transact([self._raise(app, op) for op in part])
                if cancelled is None:
                    raised.update(op.key for op in part)
                    continue
                # Nothing applied: the ops whose condition held go again, the others lost.
                retry += [op for index, op in enumerate(part) if index not in cancelled.failed]
            if not retry:
                return raised
            pending = retry
        raise StoreUnavailableError(f"ledger: {len(pending)} account unbind(s) kept conflicting")

    def _raise(self, app: str, op: AccountUnbind) -> TransactWriteItemTypeDef:
        return {
            "Update": {
                "TableName": self.table.name,
                "Key": to_item(account_unbind_key(app, op.account, op.account_type)),
                "UpdateExpression": "SET u = :v, #op = :op",
                "ConditionExpression": "attribute_not_exists(u) OR u <= :v",
                "ExpressionAttributeNames": {"#op": "op"},
                "ExpressionAttributeValues": {":v": {"S": op.version}, ":op": {"S": op.op_id}},
            }
        }

    def record_sent(
        self,
        app: str,
        op_id: str,
        refused_tokens: Iterable[str],
        unanswered_tokens: Iterable[str] = (),
    ) -> None:
        """TPNS accepted the operation, but for ``refused_tokens`` (failed) and
        ``unanswered_tokens`` (its calls failed: still pending); its other cells are applied."""
        fact = {
            **op_key(app, op_id),
            "refused": set(refused_tokens) or None,
            "unanswered": set(unanswered_tokens) or None,
        }
        self.table.put_many([fact])

    def record_verifications(self, app: str, results: Iterable[tuple[str, str, bool]]) -> None:
        """(token, op, verified?): whether TPNS was found holding what the operation set."""
        self.table.put_many(
            [
                {**verification_key(app, token, op_id), "verified": ok}
                for token, op_id, ok in results
            ]
        )

    # -- reading --------------------------------------------------------------------------------

    def bound(self, app: str, tokens: Sequence[str]) -> dict[str, list[Cell]]:
        """What each token should be bound to now."""
        items = self._read(app, tokens)
        unbinds = self.account_unbinds(app, cells.accounts_needing_unbind_state(items.values()))
        return {token: cells.bound(items.get(token), unbinds) for token in tokens}

    def account_unbinds(self, app: str, accounts: Iterable[AccountKey]) -> dict[AccountKey, str]:
        """The version of each account's last op 5 (absent: never)."""
        keys = {_pair(account_unbind_key(app, *account)): account for account in accounts}
        if not keys:
            return {}
        found = self.table.get_many([{"pk": pk, "sk": sk} for pk, sk in keys])
        return {keys[pair]: str(item["u"]) for pair, item in found.items() if item.get("u")}

    def page_of_bindings(
        self, app: str, *, start: Key | None, limit: int
    ) -> tuple[list[Binding], Key | None]:
        """The bindings of the tokens in one page of a scan of the table (every binding of the
        app, page after page); where the next page starts (None: that was the last)."""
        items, next_start = self.table.scan(segment=0, segments=1, start=start, limit=limit)
        prefix = token_key(app, "")["pk"]
        tokens = {
            str(item["token"]): item
            for item in items
            if item.get("sk") == "T" and str(item.get("pk", "")).startswith(prefix)
        }
        unbinds = self.account_unbinds(app, cells.accounts_needing_unbind_state(tokens.values()))
        held = {token: cells.bound(item, unbinds) for token, item in sorted(tokens.items())}
        return self._bindings(app, held), next_start

    def token_bindings(self, app: str, token: str) -> list[Binding]:
        """A token's bound accounts, with their state."""
        return self._bindings(app, self.bound(app, [token]))

    def account_bindings(
        self,
        app: str,
        account: str,
        account_type: int | None,
        *,
        limit: int,
        start: Key | None = None,
    ) -> tuple[list[Binding], Key | None]:
        """One page of the tokens an account is bound to (any number of pages)."""
        prefix = f"{account_type}#" if account_type is not None else None
        entries, next_start = self.table.query(
            f"A#{app}#{account}", begins_with=prefix, limit=limit, start=start
        )
        # One cell per index entry (``<type>#<token>``), so a page holds at most ``limit``.
        indexed = [str(e["sk"]).split("#", 1) for e in entries if "#" in str(e["sk"])]
        bound = self.bound(app, sorted({token for _, token in indexed}))
        held: dict[str, list[Cell]] = {}
        for indexed_type, token in indexed:
            held.setdefault(token, []).extend(
                c
                for c in bound[token]
                if (c.account, str(c.account_type)) == (account, indexed_type)
            )
        return self._bindings(app, held), next_start

    # -- internals ------------------------------------------------------------------------------

    def _read(self, app: str, tokens: Iterable[str]) -> dict[str, Item]:
        found = self.table.get_many([token_key(app, token) for token in tokens])
        return {str(item["token"]): item for item in found.values() if "token" in item}

    def _put(self, app: str, token: str, old: Item | None, new: Item) -> TransactWriteItemTypeDef:
        item = {**new, **token_key(app, token), "token": token, "rev": _revision()}
        put: PutTypeDef = {
            "TableName": self.table.name,
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if old is not None:
            put["ConditionExpression"] = "#rev = :rev"
            put["ExpressionAttributeNames"] = {"#rev": "rev"}
            put["ExpressionAttributeValues"] = {":rev": to_attribute(old.get("rev"))}
        return {"Put": put}

    def _write(self, writes: Sequence[tuple[str, TransactWriteItemTypeDef]]) -> list[str]:
        """Write in transactions; the tokens someone else wrote meanwhile, to read again."""

        def one(part: Sequence[tuple[str, TransactWriteItemTypeDef]]) -> list[str]:
            cancelled = self.table.transact([write for _, write in part])
            # Nothing of a cancelled transaction applied: its other tokens go again too.
            return [token for token, _ in part] if cancelled is not None else []

        parts = [writes[i : i + MAX_TRANSACTION] for i in range(0, len(writes), MAX_TRANSACTION)]
        return [token for conflicted in fan_out(one, parts) for token in conflicted]

    def _recorded(
        self, op: TokenOp, change: cells.TokenChange, unbinds: Mapping[AccountKey, str]
    ) -> Recorded:
        if change.superseded or op.kind != "bind" or change.item is None:
            return Recorded(op, change.superseded, change.superseded_accounts)
        return Recorded(op, False, frozenset(), tuple(cells.bound(change.item, unbinds)))

    def _holders(
        self, app: str, ops: Sequence[AccountUnbind]
    ) -> dict[AccountKey, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Per op 5, the tokens indexed under its account: bound before it, and bound again
        after it. One query per account (concurrently), one read of every token found."""

        def indexed(op: AccountUnbind) -> list[str]:
            prefix = f"{op.account_type}#"
            entries = self.table.query_all(f"A#{app}#{op.account}", begins_with=prefix)
            return [str(e["sk"]).split("#", 1)[1] for e in entries]

        if not ops:
            return {}
        with ThreadPoolExecutor(max_workers=min(len(ops), QUERY_CONCURRENCY)) as pool:
            tokens = dict(zip((op.key for op in ops), pool.map(indexed, ops), strict=True))
        items = self._read(app, {t for found in tokens.values() for t in found})
        holders: dict[AccountKey, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for op in ops:
            older: list[str] = []
            newer: list[str] = []
            for token in tokens[op.key]:
                for cell in cells.cells_of(items.get(token)):
                    if (cell.account, cell.account_type) == op.key:
                        (newer if cell.version > op.version else older).append(token)
            holders[op.key] = (tuple(sorted(older)), tuple(sorted(newer)))
        return holders

    def _bindings(self, app: str, held: Mapping[str, Sequence[Cell]]) -> list[Binding]:
        """Cells with their state, from what TPNS answered and what verification found."""
        pairs = [(token, cell) for token, cell_list in held.items() for cell in cell_list]
        keys = [op_key(app, c.op_id) for _, c in pairs]
        keys += [verification_key(app, t, c.op_id) for t, c in pairs]
        facts = self.table.get_many(keys)
        return [
            Binding(
                token,
                cell.account,
                cell.account_type,
                cells.issued_at_of(cell.version),
                binding_state(
                    token,
                    facts.get(_pair(op_key(app, cell.op_id))),
                    facts.get(_pair(verification_key(app, token, cell.op_id))),
                ),
                cell.op_id,
            )
            for token, cell in pairs
        ]


def _revision() -> str:
    """A token item's revision: new at every write, so a read-apply-write can tell it lost."""
    return uuid.uuid4().hex


def _newest_recorded(op: TokenOp) -> Recorded:
    """An operation written as its token's newest: a bind's accounts are all bound now."""
    if op.kind != "bind":
        return Recorded(op, False, frozenset())
    bound = sorted(
        (
            cells.Cell(account, account_type, op.version, op.op_id)
            for account, account_type in op.accounts
        ),
        key=lambda cell: cell.account_type,
    )
    return Recorded(op, False, frozenset(), tuple(bound))


def _pair(key: Key) -> tuple[str, str]:
    return (key["pk"], key["sk"])
