"""The client's operations under both readings of TPNS's override: what each one can promise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.apps import ACCESS_ID
from tpns_account import Account, TokenAccounts, TpnsClient
from tpns_emulator import OverrideScope, TpnsEmulator


@pytest.fixture(params=["token", "type"])
def scoped(request: pytest.FixtureRequest, emulator: TpnsEmulator) -> Iterator[TpnsEmulator]:
    """The emulator in one override scope, then back to the default."""
    scope: OverrideScope = request.param
    emulator.override_scope = scope
    yield emulator
    emulator.override_scope = "token"


def test_a_bind_replaces_the_account_of_the_same_type_in_either_scope(
    client: TpnsClient, scoped: TpnsEmulator
) -> None:
    # GIVEN a token bound to alice (type 0)
    client.bind([TokenAccounts("t1", (Account("alice", 0),))])
    # WHEN it is bound to bob (type 0)
    result = client.bind([TokenAccounts("t1", (Account("bob", 0),))])
    # THEN bob replaced alice, whatever the scope
    assert result.ok
    assert scoped.bindings(ACCESS_ID) == {"t1": [("bob", 0)]}


def test_another_type_survives_a_bind_only_in_type_scope(
    client: TpnsClient, scoped: TpnsEmulator
) -> None:
    # GIVEN a token bound to an email (1005)
    client.bind([TokenAccounts("t1", (Account("a@x.com", 1005),))])
    # WHEN it is bound to a type-0 account
    client.bind([TokenAccounts("t1", (Account("bob", 0),))])
    # THEN the email stays in type scope only: the client cannot promise either
    expected = [("bob", 0)] if scoped.override_scope == "token" else [("a@x.com", 1005), ("bob", 0)]
    assert scoped.bindings(ACCESS_ID) == {"t1": expected}


def test_the_keeps_only_warning_holds_in_either_scope(
    client: TpnsClient, scoped: TpnsEmulator
) -> None:
    # GIVEN a bind naming two accounts of one type
    result = client.bind([TokenAccounts("t1", (Account("aa", 0), Account("bb", 0)))])
    # WHEN TPNS applies it THEN what the warning says is what happened
    assert result.warnings == [
        "token t1: accounts aa and bb share account_type 0; TPNS keeps only bb"
    ]
    assert scoped.bindings(ACCESS_ID) == {"t1": [("bb", 0)]}


def test_unbinds_mean_the_same_in_either_scope(client: TpnsClient, scoped: TpnsEmulator) -> None:
    # GIVEN a token with two types and another token
    client.bind([TokenAccounts("t1", (Account("aa", 0), Account("a@x.com", 1005)))])
    client.bind([TokenAccounts("t2", (Account("aa", 0),))])
    # WHEN op 3 unbinds the email from t1 and op 5 unbinds aa everywhere
    client.unbind([TokenAccounts("t1", (Account("a@x.com", 1005),))])
    client.unbind_all_tokens([Account("aa", 0)])
    # THEN nothing is left in either scope
    assert scoped.bindings(ACCESS_ID) == {}
