"""The ledger table's items and what recording and reading them give back.

Items of the ledger table (keys ``pk``, ``sk``), per TPNS app (its AccessID):

| item | pk | sk |
|---|---|---|
| a token's cells (``tpns_api.ledger.cells``) | ``T#<app>#<token>`` | ``T`` |
| the last op 5 of an account and type | ``A#<app>#<account>`` | ``<type>`` |
| an index entry: this token was bound to the account | ``A#<app>#<account>`` | ``<type>#<token>`` |
| what TPNS answered an operation (refused, unanswered tokens) | ``O#<app>#<op>`` | ``S`` |
| the verification of an operation on a token | ``T#<app>#<token>`` | ``V#<op>`` |
"""

from __future__ import annotations

from typing import Any

from tpns_account.values import Value
from tpns_api.ledger.cells import AccountKey, AccountVersion, Cell, TokenOp
from tpns_api.store.dynamo import Item, Key


def token_key(app: str, token: str) -> Key:
    return {"pk": f"T#{app}#{token}", "sk": "T"}


def account_unbind_key(app: str, account: str, account_type: int) -> Key:
    return {"pk": f"A#{app}#{account}", "sk": str(account_type)}


def index_key(app: str, account: str, account_type: int, token: str) -> Key:
    return {"pk": f"A#{app}#{account}", "sk": f"{account_type}#{token}"}


def op_key(app: str, op_id: str) -> Key:
    return {"pk": f"O#{app}#{op_id}", "sk": "S"}


def verification_key(app: str, token: str, op_id: str) -> Key:
    return {"pk": f"T#{app}#{token}", "sk": f"V#{op_id}"}


class Recorded(Value):
    """A token operation once in the ledger: what newer operations had decided, and what is
    now bound to the token (for a bind: what TPNS should hold)."""

    op: TokenOp
    superseded: bool
    superseded_accounts: frozenset[AccountKey]
    bound: tuple[Cell, ...] = ()


class AccountUnbind(AccountVersion):
    """An op 5 of one account and type."""


class AccountUnbindRecorded(Value):
    """An op 5 once in the ledger; ``newer_holders`` are tokens a later bind gave the account
    again (TPNS must keep those), ``older_holders`` those this op 5 unbinds."""

    op: AccountUnbind
    superseded: bool
    older_holders: tuple[str, ...] = ()
    newer_holders: tuple[str, ...] = ()


#: What a binding's reader sees; ``op_id`` only finds the operation's facts in the ledger.
BINDING_FIELDS = ("token", "account", "account_type", "issued_at", "state")


class Binding(Value):
    """One bound account of a token, as the ledger's reads answer it."""

    token: str
    account: str
    account_type: int
    issued_at: int
    state: str  # pending | applied | failed | verified | unverified
    op_id: str

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in BINDING_FIELDS}


def binding_state(token: str, sent: Item | None, verified: Item | None) -> str:
    """A bound cell's state, from its operation's fact (what TPNS answered for it) and its
    verification's (what TPNS was later found to hold); no fact yet: pending."""
    if verified is not None:
        return "verified" if verified.get("verified") else "unverified"
    if sent is None:
        return "pending"
    if token in (sent.get("refused") or set()):
        return "failed"
    return "pending" if token in (sent.get("unanswered") or set()) else "applied"
