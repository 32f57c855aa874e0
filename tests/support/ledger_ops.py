"""Random ledger operations, and what applying them once in issued order gives."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tpns_api.ledger import cells
from tpns_api.ledger.cells import AccountKey, TokenOp

TOKENS = ["t0", "t1", "t2"]
ACCOUNTS: list[AccountKey] = [("alice", 0), ("bob", 0), ("a@x.cn", 1005), ("b@x.cn", 1005)]


@dataclass(frozen=True)
class Unbind5:
    """An op 5: unbind the account from every token."""

    account: AccountKey
    version: str


Op = TokenOp | Unbind5


def random_op(rng: random.Random, issued_at: int) -> Op:
    version = cells.version(issued_at, f"op{issued_at}")
    kind = rng.choice(["bind", "bind", "unbind_accounts", "unbind_token", "op5"])
    token = rng.choice(TOKENS)
    if kind == "op5":
        return Unbind5(rng.choice(ACCOUNTS), version)
    if kind == "unbind_token":
        return TokenOp("unbind_token", token, version, f"op{issued_at}")
    chosen = rng.sample(ACCOUNTS, rng.randint(1, 2))
    if kind == "bind":
        kept = {account_type: account for account, account_type in chosen}
        chosen = [(account, account_type) for account_type, account in kept.items()]
    return TokenOp(kind, token, version, f"op{issued_at}", tuple(chosen))


def in_issued_order(ops: list[Op]) -> dict[str, set[AccountKey]]:
    """What TPNS would hold had every operation been applied once, in the order issued."""
    state: dict[str, dict[int, str]] = {t: {} for t in TOKENS}
    for op in sorted(ops, key=lambda o: o.version):
        if isinstance(op, Unbind5):
            account, account_type = op.account
            for cells_of_token in state.values():
                if cells_of_token.get(account_type) == account:
                    del cells_of_token[account_type]
        elif op.kind == "bind":
            state[op.token] = {account_type: account for account, account_type in op.accounts}
        elif op.kind == "unbind_token":
            state[op.token] = {}
        else:
            for account, account_type in op.accounts:
                if state[op.token].get(account_type) == account:
                    del state[op.token][account_type]
    return {t: {(a, k) for k, a in held.items()} for t, held in state.items()}
