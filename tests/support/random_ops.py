"""Random binds and unbinds as bulk-queue messages, and what applying them in issued order gives.

The four operations a queue message can carry, each issued at its own instant:

- ``bind`` (op 2): afterwards the token is bound to exactly the given accounts;
- ``unbind_accounts`` (op 3): those accounts are unbound from the token;
- ``unbind_token`` (op 4): the token is unbound from all its accounts;
- ``unbind_account`` (op 5): the account is unbound from all its tokens.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

AccountKey = tuple[str, int]
Kind = Literal["bind", "unbind_accounts", "unbind_token", "unbind_account"]
KINDS: list[Kind] = ["bind", "unbind_accounts", "unbind_token", "unbind_account"]
WEIGHTS = [45, 20, 15, 20]


@dataclass(frozen=True)
class RandomOp:
    kind: Kind
    issued_at: int
    token: str = ""
    accounts: tuple[AccountKey, ...] = ()

    def message(self) -> dict[str, Any]:
        """The bulk-queue message of this operation (another producer's, with ``issued_at``)."""
        accounts = [{"account": a, "account_type": t} for a, t in self.accounts]
        head: dict[str, Any] = {
            "operation": "bind" if self.kind == "bind" else "unbind",
            "issued_at": self.issued_at,
        }
        if self.kind in ("bind", "unbind_accounts"):
            return head | {"token_accounts": [{"token": self.token, "account_list": accounts}]}
        if self.kind == "unbind_token":
            return head | {"token_list": [self.token]}
        return head | {"account_list": accounts}


def random_ops(
    rng: random.Random, count: int, tokens: list[str], accounts: list[AccountKey], start_ms: int
) -> list[RandomOp]:
    """``count`` operations on ``tokens`` and ``accounts``, issued at distinct random instants
    within ``count`` seconds from ``start_ms``."""
    instants = sorted(rng.sample(range(start_ms, start_ms + count * 1000), count))
    rng.shuffle(instants)
    ops = []
    for issued_at in instants:
        kind = rng.choices(KINDS, WEIGHTS)[0]
        token = rng.choice(tokens)
        if kind == "unbind_account":
            ops.append(RandomOp(kind, issued_at, accounts=(rng.choice(accounts),)))
        elif kind == "unbind_token":
            ops.append(RandomOp(kind, issued_at, token))
        else:
            chosen = rng.sample(accounts, rng.randint(1, 3))
            if kind == "bind":  # one account per type, as TPNS keeps
                chosen = list({t: (a, t) for a, t in chosen}.values())
            ops.append(RandomOp(kind, issued_at, token, tuple(chosen)))
    return ops


def state_in_issued_order(ops: list[RandomOp], tokens: list[str]) -> dict[str, set[AccountKey]]:
    """What every token is bound to had each operation been applied once, in issued order."""
    state: dict[str, set[AccountKey]] = {token: set() for token in tokens}
    for op in sorted(ops, key=lambda o: o.issued_at):
        if op.kind == "bind":
            state[op.token] = set(op.accounts)
        elif op.kind == "unbind_accounts":
            state[op.token] -= set(op.accounts)
        elif op.kind == "unbind_token":
            state[op.token] = set()
        else:
            for held in state.values():
                held -= set(op.accounts)
    return state
