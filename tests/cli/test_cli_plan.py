"""A file cut into job bodies of bounded size, with idempotency keys that make re-runs safe."""

from __future__ import annotations

import json

import pytest

from tpns_api.http import contract
from tpns_cli.manifest import Manifest, parse_manifest
from tpns_cli.plan import MAX_PART_BYTES, idempotency_key, plan_parts, run_id


def unbind_manifest(tokens: int, accounts: int = 0) -> Manifest:
    """An unbind file of ``tokens`` token lines then ``accounts`` account lines."""
    lines = [json.dumps({"token": f"t{i}"}) for i in range(tokens)]
    lines += [json.dumps({"account": f"user{i}@example.com"}) for i in range(accounts)]
    return parse_manifest("\n".join(lines).encode(), "unbind")


def test_parts_hold_at_most_job_size_items_of_one_list_field_each() -> None:
    # GIVEN 25 token lines and 7 account lines
    manifest = unbind_manifest(25, 7)

    # WHEN they are planned in jobs of 10
    parts = plan_parts(manifest, None, job_size=10)

    # THEN tokens and accounts go in separate jobs of at most 10 items, numbered in order
    shapes = [(p.number, p.list_field, p.items) for p in parts]
    assert shapes == [
        (1, "token_list", 10),
        (2, "token_list", 10),
        (3, "token_list", 5),
        (4, "account_list", 7),
    ]
    bodies = [json.loads(p.body) for p in parts]
    assert [t for body in bodies[:3] for t in body["token_list"]] == [f"t{i}" for i in range(25)]


def test_every_part_is_a_body_the_apis_own_parser_takes() -> None:
    # GIVEN a bind file for an app, several accounts per token
    rows = [f"t{i // 3},user{i}@example.com,{i % 3}" for i in range(300)]
    manifest = parse_manifest(("token,account,account_type\n" + "\n".join(rows)).encode(), "bind")

    # WHEN it is planned
    parts = plan_parts(manifest, "android", job_size=40)

    # THEN the API's parser reads each body as that bind, for that app, with the part's items
    for part in parts:
        job = contract.parse_job(json.loads(part.body))
        assert job.operation == "bind" and job.app == "android"
        assert len(job.batch.items) == part.items
    assert sum(p.items for p in parts) == 100


def test_a_part_stays_under_the_apis_body_limit_whatever_the_job_size() -> None:
    # GIVEN unbinds of 70,000 accounts of about 100 characters (7 MB of body)
    accounts = [{"account": f"{i:08d}" + "x" * 90, "account_type": 0} for i in range(70_000)]
    manifest = parse_manifest("\n".join(json.dumps(a) for a in accounts).encode(), "unbind")

    # WHEN they are planned with a job size larger than that
    parts = plan_parts(manifest, None, job_size=1_000_000)

    # THEN they are split so no body passes the API's limit
    assert len(parts) > 1
    assert all(len(p.body) <= MAX_PART_BYTES < contract.MAX_BODY_BYTES for p in parts)
    assert sum(p.items for p in parts) == 70_000


def test_the_same_command_over_the_same_file_makes_the_same_keys() -> None:
    # GIVEN one file read twice (another run, another machine)
    first = plan_parts(unbind_manifest(30), "ios", job_size=10)
    second = plan_parts(unbind_manifest(30), "ios", job_size=10)

    # THEN the parts are the same bodies under the same keys, one key per part
    assert [(p.key, p.body) for p in first] == [(p.key, p.body) for p in second]
    assert len({p.key for p in first}) == 3


@pytest.mark.parametrize(
    "change",
    [
        {"digest": "0" * 64},
        {"operation": "bind"},
        {"app": "ios"},
        {"job_size": 11},
    ],
    ids=["file content", "operation", "app", "job size"],
)
def test_keys_change_with_the_file_the_operation_the_app_or_the_job_size(
    change: dict[str, object],
) -> None:
    # GIVEN the inputs of one run
    base: dict[str, object] = {"digest": "f" * 64, "operation": "unbind", "app": None}
    base["job_size"] = 10

    # WHEN any one of them changes
    changed = {**base, **change}

    # THEN its keys differ from the base run's, part for part
    assert idempotency_key(run_id(**base), 1) != idempotency_key(run_id(**changed), 1)  # type: ignore[arg-type]


def test_keys_are_valid_idempotency_keys_for_the_api() -> None:
    # GIVEN the key of a high part number
    key = idempotency_key(run_id("a" * 64, "bind", "some-app.with_a-long.name", 10_000), 99_999)

    # THEN the API's own header check takes it as it is
    assert contract.idempotency_key(key) == key
