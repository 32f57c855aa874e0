"""The template's DynamoDB policies allow every request the layer's stores make (moto checks no
IAM, so this is where a missing action shows before a deployment does)."""

from __future__ import annotations

from tests.support.iam import DynamoActions, policy_actions
from tests.support.memory import Memory
from tests.support.template import Template
from tpns_api.jobs.model import Counts, Failure
from tpns_api.jobs.store import NewJob
from tpns_api.ledger.cells import TokenOp, version
from tpns_api.ledger.items import AccountUnbind

APP = "1500000001"


def test_the_ledger_write_policy_allows_every_request_of_recording_and_verifying(
    memory: Memory, sam_template: Template
) -> None:
    # GIVEN the ledger's store, its DynamoDB requests recorded
    store = memory.ledger()
    requests = DynamoActions().record(memory.dynamodb)
    # WHEN it records every kind of operation, on both paths (blind, and read-apply-write for
    # one older than what the token holds), their answers and their verifications
    store.record(APP, [TokenOp("bind", "t0", version(3, "b3"), "b3", (("alice", 0),))])
    store.record(APP, [TokenOp("bind", "t0", version(1, "b1"), "b1", (("bob", 0),))])
    store.record(APP, [TokenOp("unbind_accounts", "t0", version(4, "u4"), "u4", (("alice", 0),))])
    store.record(APP, [TokenOp("unbind_token", "t1", version(5, "u5"), "u5")])
    store.record_account_unbinds(APP, [AccountUnbind("alice", 0, version(6, "a6"), "a6")])
    store.record_sent(APP, "b3", ["t0"], ["t1"])
    store.record_verifications(APP, [("t0", "b3", True)])
    store.bound(APP, ["t0", "t1"])
    # THEN the policy the bind, unbind, bulk and verify functions have allows each of them
    assert requests.actions <= policy_actions(sam_template, "LedgerWritePolicy")


def test_the_ledger_read_policy_allows_every_request_of_the_query_routes(
    memory: Memory, sam_template: Template
) -> None:
    # GIVEN a ledger holding a binding, its reads recorded
    store = memory.ledger()
    store.record(APP, [TokenOp("bind", "t0", version(3, "b3"), "b3", (("alice", 0),))])
    requests = DynamoActions().record(memory.dynamodb)
    # WHEN the query function's routes read it
    store.token_bindings(APP, "t0")
    store.account_bindings(APP, "alice", None, limit=10)
    # THEN the query function's policy allows each of them
    assert requests.actions <= policy_actions(sam_template, "LedgerReadPolicy")


def test_the_export_policies_allow_every_request_of_an_export_page(
    memory: Memory, sam_template: Template
) -> None:
    # GIVEN a ledger holding a binding, its reads recorded
    store = memory.ledger()
    store.record(APP, [TokenOp("bind", "t0", version(3, "b3"), "b3", (("alice", 0),))])
    requests = DynamoActions().record(memory.dynamodb)
    # WHEN the bulk function reads one page of it for an export
    store.page_of_bindings(APP, start=None, limit=10)
    # THEN the bulk function's policies allow each of them
    allowed = policy_actions(sam_template, "LedgerWritePolicy", "LedgerExportPolicy")
    assert requests.actions <= allowed


def test_the_jobs_write_policy_allows_every_request_of_a_jobs_life(
    memory: Memory, sam_template: Template
) -> None:
    # GIVEN the jobs' store, its DynamoDB requests recorded
    store = memory.jobs()
    requests = DynamoActions().record(memory.dynamodb)
    # WHEN a job is created, started, counted (with a failure, twice), verified, read and listed
    store.create(NewJob("j1", "bind", 2, None, "api", 2, 1, True))
    store.start("j1")
    failure = Failure(0, "failed", token="t0", code=10110008, reason="token does not exist")
    for _ in range(2):
        store.settle("j1", "j1.0", Counts(accepted=1, failed=1), [failure])
    store.settle_verification("j1", [0], [])
    store.get("j1")
    store.failures("j1", limit=10, cursor=None)
    store.part_settled("j1", "j1.0")
    # THEN the policy of the functions that keep jobs allows each of them
    assert requests.actions <= policy_actions(sam_template, "JobsWritePolicy")
