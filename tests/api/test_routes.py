"""Every route and form, from the events/ fixtures, checked against the emulator's state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from tests.api.conftest import EVENTS, FakeLambdaContext, api_event, load_function
from tests.conftest import ACCESS_ID, IOS_ACCESS_ID, REGION
from tpns_emulator import TpnsEmulator

SEEDS = json.loads(
    (Path(__file__).resolve().parents[2] / "events" / "tpns" / "seed-requests.json").read_text()
)


def seed_bindings(emulator: TpnsEmulator, api: Any) -> None:
    answer = api(
        "bind",
        api_event(
            "bind",
            {
                "token_accounts": [
                    {
                        "token": "token1",
                        "account_list": [{"account": "926@126.com", "account_type": 1005}],
                    },
                    {
                        "token": "token2",
                        "account_list": [
                            {"account": "926@126.com", "account_type": 1005},
                            {"account": "+8613711112222", "account_type": 1002},
                        ],
                    },
                ]
            },
        ),
    )
    assert answer.status == 200, answer


def test_bind_event_binds_and_answers_per_item(api: Any, emulator: TpnsEmulator) -> None:
    # GIVEN the canonical bind event WHEN invoked
    answer = api("bind", api_event("bind"))
    # THEN every item is accepted, in input order, and TPNS holds the bindings
    assert answer.status == 200, answer
    assert answer.body["operation"] == "bind" and answer.body["operator_type"] == 2
    assert [r["token"] for r in answer.body["results"]] == ["token1", "token2"]
    assert answer.body["accepted"] == 2 and answer.body["failed"] == 0
    assert emulator.bindings(ACCESS_ID) == {
        "token1": [("926@126.com", 1005)],
        "token2": [("+8613711112222", 1002)],
    }


def test_vendor_sample_bind_warns_about_the_override(api: Any, emulator: TpnsEmulator) -> None:
    answer = api("bind", api_event("bind-vendor-sample"))
    assert answer.status == 200, answer
    assert answer.body["warnings"] == [
        "token token1: accounts 926@126.com and 1527000000 share account_type 0; TPNS keeps only 1527000000",
        "token token2: accounts 926@163.com and 1527000001 share account_type 0; TPNS keeps only 1527000001",
    ]
    assert emulator.bindings(ACCESS_ID) == {
        "token1": [("1527000000", 0)],
        "token2": [("1527000001", 0)],
    }


def test_bind_accepts_operator_type_1_as_an_alias(api: Any, emulator: TpnsEmulator) -> None:
    body = {k: v for k, v in SEEDS["batchoperate"]["1"].items()}
    answer = api("bind", api_event("bind", body))
    assert answer.status == 200 and answer.body["operator_type"] == 2


def test_bind_reports_invalid_tokens_per_item(api: Any, emulator: TpnsEmulator) -> None:
    emulator.invalid_tokens.add("token2")
    answer = api("bind", api_event("bind"))
    assert answer.status == 200
    assert answer.body["results"][1] == {
        "index": 1,
        "token": "token2",
        "status": "failed",
        "code": 1008006,
        "reason": "invalid token",
    }
    assert answer.body["failed"] == 1


def test_unbind_token_accounts_removes_only_those(api: Any, emulator: TpnsEmulator) -> None:
    seed_bindings(emulator, api)
    event = api_event(
        "unbind-token-accounts",
        {
            "token_accounts": [
                {
                    "token": "token2",
                    "account_list": [{"account": "926@126.com", "account_type": 1005}],
                }
            ]
        },
    )
    answer = api("unbind", event)
    assert answer.status == 200 and answer.body["operator_type"] == 3
    assert emulator.bindings(ACCESS_ID)["token2"] == [("+8613711112222", 1002)]


def test_unbind_token_list_removes_every_account_of_the_tokens(
    api: Any, emulator: TpnsEmulator
) -> None:
    seed_bindings(emulator, api)
    answer = api("unbind", api_event("unbind-token-list", {"token_list": ["token2"]}))
    assert answer.status == 200 and answer.body["operator_type"] == 4
    assert set(emulator.bindings(ACCESS_ID)) == {"token1"}


def test_unbind_account_list_removes_the_account_everywhere(
    api: Any, emulator: TpnsEmulator
) -> None:
    seed_bindings(emulator, api)
    body = {"account_list": [{"account": "926@126.com", "account_type": 1005}]}
    answer = api("unbind", api_event("unbind-account-list", body))
    assert answer.status == 200 and answer.body["operator_type"] == 5
    assert answer.body["results"] == [
        {
            "index": 0,
            "account": "926@126.com",
            "account_type": 1005,
            "status": "accepted",
            "code": 0,
        }
    ]
    assert emulator.bindings(ACCESS_ID) == {"token2": [("+8613711112222", 1002)]}


def test_canonical_unbind_events_are_accepted(api: Any, emulator: TpnsEmulator) -> None:
    for name in ("unbind-token-accounts", "unbind-token-list", "unbind-account-list"):
        answer = api("unbind", api_event(name))
        assert answer.status == 200, (name, answer)


def test_vendor_unbind_samples_are_accepted(api: Any, emulator: TpnsEmulator) -> None:
    for op in ("3", "4", "5", "5_typed"):
        answer = api("unbind", api_event("unbind-token-list", SEEDS["batchoperate"][op]))
        assert answer.status == 200, (op, answer)
        assert answer.body["operator_type"] == int(op[0])


def test_query_by_account_list(api: Any, emulator: TpnsEmulator) -> None:
    seed_bindings(emulator, api)
    body = {
        "account_list": [{"account": "926@126.com", "account_type": 1005}, {"account": "nobody"}]
    }
    answer = api("query", api_event("query-account-list", body))
    assert answer.status == 200, answer
    assert answer.body["account_tokens"] == [
        {"account": "926@126.com", "account_type": 1005, "token_list": ["token1", "token2"]},
        {"account": "nobody", "account_type": None, "token_list": []},
    ]
    assert (answer.body["found"], answer.body["not_found"]) == (1, 1)


def test_query_by_token_list(api: Any, emulator: TpnsEmulator) -> None:
    seed_bindings(emulator, api)
    answer = api("query", api_event("query-token-list", {"token_list": ["token2"]}))
    assert answer.body["token_accounts"] == [
        {
            "token": "token2",
            "account_list": [
                {"account": "926@126.com", "account_type": 1005},
                {"account": "+8613711112222", "account_type": 1002},
            ],
        }
    ]


def test_vendor_query_samples_are_accepted(api: Any, emulator: TpnsEmulator) -> None:
    for op in ("1", "2"):
        answer = api("query", api_event("query-token-list", SEEDS["query"][op]))
        assert answer.status == 200, (op, answer)
        assert answer.body["operator_type"] == int(op)


def test_get_tokens_of_an_url_encoded_account(api: Any, emulator: TpnsEmulator) -> None:
    seed_bindings(emulator, api)
    event = api_event(
        "get-account-tokens",
        path_parameters={"account": "926@126.com"},
        query={"account_type": "1005"},
    )
    answer = api("query", event)
    assert answer.status == 200, answer
    assert answer.body["account_tokens"][0]["token_list"] == ["token1", "token2"]


def test_canonical_get_events_answer(api: Any, emulator: TpnsEmulator) -> None:
    assert api("query", api_event("get-account-tokens")).status == 200
    answer = api("query", api_event("get-token-accounts"))
    assert answer.status == 200
    assert answer.body["results"][0]["status"] == "not_found"


def test_get_accounts_of_a_token(api: Any, emulator: TpnsEmulator) -> None:
    seed_bindings(emulator, api)
    answer = api("query", api_event("get-token-accounts", path_parameters={"token": "token1"}))
    assert answer.body["token_accounts"][0]["account_list"] == [
        {"account": "926@126.com", "account_type": 1005}
    ]


def test_app_selects_the_ios_credentials(api: Any, emulator: TpnsEmulator) -> None:
    body = {"app": "ios", "token_list": ["ios-token"]}
    answer = api("unbind", api_event("unbind-token-list", body))
    assert answer.status == 200
    assert emulator.stats.calls[-1]["access_id"] == IOS_ACCESS_ID


def test_more_items_than_sync_max_is_413_pointing_at_jobs(
    api: Any, emulator: TpnsEmulator, monkeypatch: Any
) -> None:
    monkeypatch.setenv("SYNC_MAX_ITEMS", "30")
    api.reset()
    answer = api(
        "unbind", api_event("unbind-token-list", {"token_list": [f"t{i}" for i in range(31)]})
    )
    assert answer.status == 413
    assert "/v1/jobs" in answer.body["error"]["message"]
    assert emulator.stats.requests == 0


def test_sync_request_is_split_and_merged_in_order(api: Any, emulator: TpnsEmulator) -> None:
    tokens = [f"token-{i:03d}" for i in range(100)]
    answer = api("unbind", api_event("unbind-token-list", {"token_list": tokens}))
    assert answer.status == 200
    assert [r["token"] for r in answer.body["results"]] == tokens
    assert sorted(c["item_count"] for c in emulator.stats.calls) == [20] * 5


def test_jobs_split_the_body_into_bulk_messages(
    api: Any, emulator: TpnsEmulator, bulk_queue: dict[str, str], moto_endpoint: str
) -> None:
    # GIVEN a job of 3,000 bindings
    token_accounts = [
        {"token": f"token-{i:05d}", "account_list": [{"account": f"user-{i:05d}"}]}
        for i in range(3000)
    ]
    body = {
        "operation": "bind",
        "app": "android",
        "job_id": "nightly-42",
        "token_accounts": token_accounts,
    }
    # WHEN submitted
    answer = api("jobs", api_event("jobs-bind", body))
    # THEN it is accepted with counts, and the queue holds every item exactly once
    assert answer.status == 202, answer
    assert answer.body["job_id"] == "nightly-42" and answer.body["items"] == 3000
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
    received: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=bulk_queue["url"], MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not batch:
            break
        received += [json.loads(m["Body"]) for m in batch]
        sqs.delete_message_batch(
            QueueUrl=bulk_queue["url"],
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
            ],
        )
    assert len(received) == answer.body["messages"] > 1
    assert all(
        m["operation"] == "bind" and m["app"] == "android" and m["job_id"] == "nightly-42"
        for m in received
    )
    tokens = sorted(item["token"] for m in received for item in m["token_accounts"])
    assert tokens == [f"token-{i:05d}" for i in range(3000)]
    assert emulator.stats.requests == 0  # queued, not sent


def test_canonical_job_events_are_accepted(api: Any, emulator: TpnsEmulator) -> None:
    for name in ("jobs-bind", "jobs-unbind"):
        answer = api("jobs", api_event(name))
        assert answer.status == 202, (name, answer)


def test_jobs_merge_duplicates_and_say_so(api: Any, emulator: TpnsEmulator) -> None:
    body = {"operation": "unbind", "token_list": ["t1", "t2", "t1"]}
    answer = api("jobs", api_event("jobs-unbind", body))
    assert answer.status == 202
    assert (answer.body["items"], answer.body["merged_duplicates"]) == (2, 1)


def test_jobs_refuse_an_unknown_app_before_queueing(api: Any, emulator: TpnsEmulator) -> None:
    body = {"operation": "unbind", "app": "web", "token_list": ["t1"]}
    answer = api("jobs", api_event("jobs-unbind", body))
    assert answer.status == 400 and answer.body["error"]["code"] == "unknown_app"


def test_unbind_direct_invocation_takes_an_unbind_body(api: Any, emulator: TpnsEmulator) -> None:
    # GIVEN bindings and the canonical direct-invocation payload (no API Gateway around it)
    seed_bindings(emulator, api)
    payload = json.loads((EVENTS / "unbind-direct-invoke.json").read_text())
    # WHEN the unbind function is invoked with it
    result = load_function("unbind").lambda_handler(payload, FakeLambdaContext())
    # THEN it answers like the API would, and the tokens are unbound
    assert result["statusCode"] == 200 and result["accepted"] == 2
    assert emulator.bindings(ACCESS_ID) == {}


def test_unbind_direct_invocation_reports_a_bad_body(api: Any, emulator: TpnsEmulator) -> None:
    result = load_function("unbind").lambda_handler({"token_list": []}, FakeLambdaContext())
    assert result["statusCode"] == 400
    assert result["error"]["message"] == "token_list: must not be empty"


def test_eventbridge_detail_is_an_unbind_body(api: Any, emulator: TpnsEmulator) -> None:
    event = {
        "detail-type": "Scheduled cleanup",
        "source": "my.app",
        "detail": {"token_list": ["t1"]},
    }
    result = load_function("unbind").lambda_handler(event, FakeLambdaContext())
    assert result["statusCode"] == 200


def test_openapi_and_docs_are_served(api: Any) -> None:
    spec = api("query", api_event("openapi"))
    docs = api("query", api_event("docs"))
    assert spec.status == 200 and spec.body["openapi"].startswith("3.")
    assert docs.status == 200 and "swagger-ui" in docs.text


def test_unknown_route_is_a_json_404(api: Any) -> None:
    answer = api("bind", api_event("bind", path="/v1/bindings"))
    assert answer.status == 404
    assert answer.body["error"]["code"] == "not_found"
