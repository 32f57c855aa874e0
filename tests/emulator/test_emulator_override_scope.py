"""The two readings of an override (operator_type 2): whole token, or per account type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.apps import ACCESS_ID
from tests.support.tpns_client import TpnsTestClient
from tpns_emulator import BindingStore, ConfigError, Mutation, TpnsEmulator

ROOT = Path(__file__).resolve().parents[2]


def override(token: str, *accounts: tuple[str, int]) -> Mutation:
    return Mutation(ACCESS_ID, 2, token_accounts=((token, tuple(accounts)),))


def test_token_scope_replaces_every_account_of_the_token() -> None:
    # GIVEN a token bound to an account of type 0 and one of type 1005
    store = BindingStore(override_scope="token")
    store.submit(override("t1", ("alice", 0), ("a@x.com", 1005)))
    # WHEN it is overridden with a type-0 account only
    store.submit(override("t1", ("bob", 0)))
    # THEN the type-1005 account is gone too
    assert store.bindings(ACCESS_ID) == {"t1": [("bob", 0)]}
    assert store.tokens_of(ACCESS_ID, "a@x.com", 1005) == []


def test_type_scope_replaces_only_the_accounts_of_the_types_it_names() -> None:
    # GIVEN the same token and accounts
    store = BindingStore(override_scope="type")
    store.submit(override("t1", ("alice", 0), ("a@x.com", 1005)))
    # WHEN it is overridden with a type-0 account only
    store.submit(override("t1", ("bob", 0)))
    # THEN the type-1005 account stays, the type-0 one is replaced
    assert store.bindings(ACCESS_ID) == {"t1": [("a@x.com", 1005), ("bob", 0)]}
    assert store.tokens_of(ACCESS_ID, "alice") == []
    assert store.tokens_of(ACCESS_ID, "a@x.com", 1005) == ["t1"]


@pytest.mark.parametrize("scope", ["token", "type"])
def test_both_scopes_keep_one_account_per_type(scope: str) -> None:
    # GIVEN either reading
    store = BindingStore(override_scope="type" if scope == "type" else "token")
    # WHEN one override names two type-0 accounts (the vendor's sample)
    store.submit(override("token1", ("926@126.com", 0), ("1527000000", 0)))
    # THEN only the later one stays
    assert store.bindings(ACCESS_ID) == {"token1": [("1527000000", 0)]}


def test_an_unknown_scope_is_refused() -> None:
    # GIVEN / WHEN a scope that is neither reading THEN the emulator refuses it
    with pytest.raises(ConfigError, match="override_scope"):
        BindingStore().override_scope = "account"


def test_the_scope_can_be_changed_over_the_admin_api(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a running emulator in token scope
    client.bind("t1", ("alice", 0), ("a@x.com", 1005))
    # WHEN the admin API switches it to type scope
    answer = client.admin("POST", "config", {"override_scope": "type"}).json()
    client.bind("t1", ("bob", 0))
    # THEN the next override is read per type
    assert answer["config"]["override_scope"] == "type"
    assert emulator.bindings(ACCESS_ID) == {"t1": [("a@x.com", 1005), ("bob", 0)]}


def test_the_cli_takes_the_scope() -> None:
    # GIVEN / WHEN the CLI asked for help THEN it offers both scopes
    done = subprocess.run(
        [sys.executable, "-m", "tpns_emulator", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--override-scope {token,type}" in done.stdout
