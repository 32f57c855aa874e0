"""The binding store: token <-> account bindings per app, with TPNS's asynchronous apply.

Pure Python, no HTTP, so the semantics can be tested directly.  batchoperate only *accepts* a
task; with ``apply_delay > 0`` mutations wait in a queue and are applied, in order, lazily when
state is next read or written -- no background thread is needed.

An override (operator_type 2) is ambiguous in TPNS's pages (REFERENCE.md): it may replace all
of a token's accounts (``override_scope="token"``) or only those of the account types it names
(``"type"``, as the client SDK's clearAndAppendAccount does). Both are offered, so that code
converging TPNS to a desired state can be tested under either reading.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from tpns_account.limits import MAX_TOKENS_PER_ACCOUNT
from tpns_emulator.errors import ConfigError

logger = logging.getLogger(__name__)

AccountKey = tuple[str, int]
TokenAccounts = tuple[str, tuple[AccountKey, ...]]
OverrideScope = Literal["token", "type"]
OVERRIDE_SCOPES: frozenset[str] = frozenset({"token", "type"})
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Mutation:
    """One accepted batchoperate task (items with invalid tokens already removed)."""

    access_id: str
    operator_type: int
    token_accounts: tuple[TokenAccounts, ...] = ()
    token_list: tuple[str, ...] = ()
    account_list: tuple[AccountKey, ...] = ()


@dataclass(slots=True)
class _Pending:
    apply_at: float
    mutation: Mutation


@dataclass(slots=True)
class _AppBindings:
    # token -> accounts in binding order; account -> tokens as an insertion-ordered set
    # (oldest first), so the 100-token cap can evict the oldest in O(1).
    by_token: dict[str, list[AccountKey]] = field(default_factory=dict)
    by_account: dict[AccountKey, dict[str, None]] = field(default_factory=dict)


def one_per_type(accounts: Iterable[AccountKey]) -> tuple[AccountKey, ...]:
    """A later account of the same account_type replaces an earlier one (vendor sample)."""
    chosen: dict[int, str] = {}
    for account, account_type in accounts:
        chosen[account_type] = account
    return tuple((account, account_type) for account_type, account in chosen.items())


class BindingStore:
    """Thread-safe binding state of every app; one lock guards everything."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        max_tokens_per_account: int = MAX_TOKENS_PER_ACCOUNT,
        override_scope: OverrideScope = "token",
    ) -> None:
        self._clock = clock
        self._max_tokens = max_tokens_per_account
        self.override_scope = override_scope
        self._lock = threading.Lock()
        self._apps: dict[str, _AppBindings] = {}
        self._pending: deque[_Pending] = deque()
        self._last_apply_at = float("-inf")

    # -- writes ----------------------------------------------------------------------------

    def submit(self, mutation: Mutation, apply_delay: float = 0.0) -> None:
        """Accept a mutation; it takes effect now or after ``apply_delay`` seconds, in order."""
        with self._lock:
            if apply_delay <= 0 and not self._pending:
                self._apply(mutation)
                return
            # Never let a later task overtake an earlier one when the delay shrinks.
            apply_at = max(self._clock() + max(apply_delay, 0.0), self._last_apply_at)
            self._last_apply_at = apply_at
            self._pending.append(_Pending(apply_at, mutation))
            self._apply_due()

    def apply_due(self) -> None:
        """Apply every pending mutation whose time has come."""
        with self._lock:
            self._apply_due()

    def flush(self) -> int:
        """Apply all pending mutations now, ignoring their delay; returns how many."""
        with self._lock:
            count = len(self._pending)
            while self._pending:
                self._apply(self._pending.popleft().mutation)
            return count

    def reset(self) -> None:
        """Forget every binding and pending mutation."""
        with self._lock:
            self._apps.clear()
            self._pending.clear()
            self._last_apply_at = float("-inf")

    @property
    def override_scope(self) -> OverrideScope:
        return self._override_scope

    @override_scope.setter
    def override_scope(self, value: str) -> None:
        if value == "token":
            self._override_scope: OverrideScope = "token"
        elif value == "type":
            self._override_scope = "type"
        else:
            raise ConfigError(f"override_scope must be one of {sorted(OVERRIDE_SCOPES)}")

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    # -- reads (each applies due mutations first) ------------------------------------------

    def bindings(self, access_id: str) -> dict[str, list[AccountKey]]:
        """Applied state of one app: token -> [(account, account_type)]."""
        with self._lock:
            self._apply_due()
            app = self._apps.get(access_id)
            if app is None:
                return {}
            return {token: list(accounts) for token, accounts in app.by_token.items()}

    def tokens_of(self, access_id: str, account: str, account_type: int = 0) -> list[str]:
        """Tokens bound to one account, oldest binding first."""
        return self.query_accounts(access_id, [(account, account_type)])[0]

    def accounts_of(self, access_id: str, token: str) -> list[AccountKey]:
        """Accounts bound to one token."""
        return self.query_tokens(access_id, [token])[0]

    def query_accounts(self, access_id: str, accounts: Iterable[AccountKey]) -> list[list[str]]:
        """For each account, its tokens (empty list when none)."""
        return self._look_up(access_id, accounts, lambda app: app.by_account)

    def query_tokens(self, access_id: str, tokens: Iterable[str]) -> list[list[AccountKey]]:
        """For each token, its accounts (empty list when none)."""
        return self._look_up(access_id, tokens, lambda app: app.by_token)

    def _look_up(
        self,
        access_id: str,
        keys: Iterable[K],
        index: Callable[[_AppBindings], Mapping[K, Iterable[V]]],
    ) -> list[list[V]]:
        with self._lock:
            self._apply_due()
            app = self._apps.get(access_id)
            found = index(app) if app is not None else {}
            return [list(found.get(key, ())) for key in keys]

    # -- internals (caller holds the lock) -------------------------------------------------

    def _apply_due(self) -> None:
        if not self._pending:
            return
        now = self._clock()
        while self._pending and self._pending[0].apply_at <= now:
            self._apply(self._pending.popleft().mutation)

    def _apply(self, m: Mutation) -> None:
        app = self._apps.get(m.access_id)
        if app is None:
            app = self._apps[m.access_id] = _AppBindings()
        op = m.operator_type
        if op in (1, 2):  # 1 ("append") is disused and behaves as 2 (override)
            for token, accounts in m.token_accounts:
                self._override(app, token, one_per_type(accounts))
        elif op == 3:
            for token, accounts in m.token_accounts:
                self._unbind_all(app, [(token, key) for key in accounts])
        elif op == 4:
            for token in m.token_list:
                self._unbind_token(app, token)
        elif op == 5:
            for key in m.account_list:
                self._unbind_all(app, [(token, key) for token in app.by_account.get(key, ())])
        else:  # pragma: no cover - the protocol layer rejects other values
            raise ConfigError(f"unknown operator_type {op}")

    def _unbind_all(self, app: _AppBindings, pairs: list[tuple[str, AccountKey]]) -> None:
        for token, key in pairs:
            self._unbind(app, token, key)

    def _override(self, app: _AppBindings, token: str, accounts: tuple[AccountKey, ...]) -> None:
        if self._override_scope == "token":
            self._unbind_token(app, token)
        else:
            replaced = {account_type for _, account_type in accounts}
            for key in list(app.by_token.get(token, ())):
                if key[1] in replaced:
                    self._unbind(app, token, key)
        if not accounts:
            return
        app.by_token.setdefault(token, []).extend(accounts)
        for key in accounts:
            tokens = app.by_account.setdefault(key, {})
            tokens[token] = None
            while len(tokens) > self._max_tokens:
                oldest = next(iter(tokens))
                logger.debug("account cap reached, evicting oldest token of %r", key)
                self._unbind(app, oldest, key)

    def _unbind_token(self, app: _AppBindings, token: str) -> None:
        for key in app.by_token.pop(token, ()):
            tokens = app.by_account.get(key)
            if tokens is not None:
                tokens.pop(token, None)
                if not tokens:
                    del app.by_account[key]

    def _unbind(self, app: _AppBindings, token: str, key: AccountKey) -> None:
        accounts = app.by_token.get(token)
        if accounts is not None and key in accounts:
            accounts.remove(key)
            if not accounts:
                del app.by_token[token]
        tokens = app.by_account.get(key)
        if tokens is not None:
            tokens.pop(token, None)
            if not tokens:
                del app.by_account[key]
