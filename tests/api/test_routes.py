"""Every route and form, from the events/ fixtures, checked against the emulator's state."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mypy_boto3_sqs import SQSClient

from tests.support.api_events import ApiFunctions, api_event
from tests.support.apps import ACCESS_ID, IOS_ACCESS_ID
from tests.support.bulk import drain_queue
from tests.support.lambda_runtime import FakeLambdaContext, load_function
from tests.support.paths import API_EVENTS_DIR, SEED_REQUESTS_PATH
from tpns_emulator import TpnsEmulator

SEEDS = json.loads(SEED_REQUESTS_PATH.read_text())


def seed_bindings(api: ApiFunctions) -> None:
    """token1 bound to 926@126.com (1005); token2 to it and to +8613711112222 (1002)."""
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


def test_bind_event_binds_and_answers_per_item(api: ApiFunctions, emulator: TpnsEmulator) -> None:
    # GIVEN the canonical bind event
    event = api_event("bind")
    # WHEN the bind function is invoked with it
    answer = api("bind", event)
    # THEN every item is accepted, in input order, and TPNS holds the bindings
    assert answer.status == 200, answer
    assert answer.body["operation"] == "bind" and answer.body["operator_type"] == 2
    assert [r["token"] for r in answer.body["results"]] == ["token1", "token2"]
    assert answer.body["accepted"] == 2 and answer.body["failed"] == 0
    assert emulator.bindings(ACCESS_ID) == {
        "token1": [("926@126.com", 1005)],
        "token2": [("+8613711112222", 1002)],
    }


def test_vendor_sample_bind_warns_about_the_override(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN the vendor's sample bind: two type-0 accounts per token
    event = api_event("bind-vendor-sample")
    # WHEN the bind function is invoked with it
    answer = api("bind", event)
    # THEN the answer warns which account TPNS keeps, and TPNS keeps just that one
    assert answer.status == 200, answer
    assert answer.body["warnings"] == [
        "token token1: accounts 926@126.com and 1527000000 share account_type 0; TPNS keeps only 1527000000",
        "token token2: accounts 926@163.com and 1527000001 share account_type 0; TPNS keeps only 1527000001",
    ]
    assert emulator.bindings(ACCESS_ID) == {
        "token1": [("1527000000", 0)],
        "token2": [("1527000001", 0)],
    }


def test_bind_accepts_operator_type_1_as_an_alias(api: ApiFunctions) -> None:
    # GIVEN the vendor's append sample (operator_type 1)
    body = dict(SEEDS["batchoperate"]["1"])
    # WHEN it is sent to the bind route
    answer = api("bind", api_event("bind", body))
    # THEN it is accepted, as the override TPNS makes of it
    assert answer.status == 200 and answer.body["operator_type"] == 2


def test_bind_reports_invalid_tokens_per_item(api: ApiFunctions, emulator: TpnsEmulator) -> None:
    # GIVEN TPNS refuses token2 as invalid
    emulator.invalid_tokens.add("token2")
    # WHEN the canonical bind is sent
    answer = api("bind", api_event("bind"))
    # THEN the answer is 200 with that item failed, its code and reason
    assert answer.status == 200
    assert answer.body["results"][1] == {
        "index": 1,
        "token": "token2",
        "status": "failed",
        "code": 1008006,
        "reason": "invalid token",
    }
    assert answer.body["failed"] == 1


def test_unbind_token_accounts_removes_only_those(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN token2 bound to two accounts
    seed_bindings(api)
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
    # WHEN one of them is unbound from it
    answer = api("unbind", event)
    # THEN it is operator_type 3, and only the other stays on token2
    assert answer.status == 200 and answer.body["operator_type"] == 3
    assert emulator.bindings(ACCESS_ID)["token2"] == [("+8613711112222", 1002)]


def test_unbind_token_list_removes_every_account_of_the_tokens(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN token1 and token2 bound
    seed_bindings(api)
    # WHEN token2 is unbound by token list
    answer = api("unbind", api_event("unbind-token-list", {"token_list": ["token2"]}))
    # THEN it is operator_type 4, and only token1 still has accounts
    assert answer.status == 200 and answer.body["operator_type"] == 4
    assert set(emulator.bindings(ACCESS_ID)) == {"token1"}


def test_unbind_account_list_removes_the_account_everywhere(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN 926@126.com bound on token1 and token2
    seed_bindings(api)
    body = {"account_list": [{"account": "926@126.com", "account_type": 1005}]}
    # WHEN it is unbound by account list
    answer = api("unbind", api_event("unbind-account-list", body))
    # THEN it is operator_type 5, answered per account, and no token carries it any more
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


@pytest.mark.parametrize(
    "name", ["unbind-token-accounts", "unbind-token-list", "unbind-account-list"]
)
def test_canonical_unbind_events_are_accepted(api: ApiFunctions, name: str) -> None:
    # GIVEN a canonical unbind event
    event = api_event(name)
    # WHEN the unbind function is invoked with it
    answer = api("unbind", event)
    # THEN it answers 200
    assert answer.status == 200, (name, answer)


@pytest.mark.parametrize("op", ["3", "4", "5", "5_typed"])
def test_vendor_unbind_samples_are_accepted(api: ApiFunctions, op: str) -> None:
    # GIVEN the vendor's sample body of an unbind operator type
    body = SEEDS["batchoperate"][op]
    # WHEN it is sent to the unbind route
    answer = api("unbind", api_event("unbind-token-list", body))
    # THEN it answers 200 with that operator type
    assert answer.status == 200, (op, answer)
    assert answer.body["operator_type"] == int(op[0])


def test_query_by_account_list_answers_the_tokens_of_each_account(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN 926@126.com bound on two tokens
    seed_bindings(api)
    body = {
        "account_list": [{"account": "926@126.com", "account_type": 1005}, {"account": "nobody"}]
    }
    # WHEN it and an unknown account are queried
    answer = api("query", api_event("query-account-list", body))
    # THEN each account gets its tokens (none for the unknown one), and both are counted
    assert answer.status == 200, answer
    assert answer.body["account_tokens"] == [
        {"account": "926@126.com", "account_type": 1005, "token_list": ["token1", "token2"]},
        {"account": "nobody", "account_type": None, "token_list": []},
    ]
    assert (answer.body["found"], answer.body["not_found"]) == (1, 1)


def test_query_by_token_list_answers_the_accounts_of_each_token(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN token2 bound to two accounts
    seed_bindings(api)
    # WHEN token2 is queried
    answer = api("query", api_event("query-token-list", {"token_list": ["token2"]}))
    # THEN both its accounts are listed with their types
    assert answer.body["token_accounts"] == [
        {
            "token": "token2",
            "account_list": [
                {"account": "926@126.com", "account_type": 1005},
                {"account": "+8613711112222", "account_type": 1002},
            ],
        }
    ]


@pytest.mark.parametrize("op", ["1", "2"])
def test_vendor_query_samples_are_accepted(api: ApiFunctions, op: str) -> None:
    # GIVEN the vendor's sample body of a query type
    body = SEEDS["query"][op]
    # WHEN it is sent to the query route
    answer = api("query", api_event("query-token-list", body))
    # THEN it answers 200 with that operator type
    assert answer.status == 200, (op, answer)
    assert answer.body["operator_type"] == int(op)


def test_get_tokens_of_an_url_encoded_account(api: ApiFunctions, emulator: TpnsEmulator) -> None:
    # GIVEN 926@126.com bound on two tokens
    seed_bindings(api)
    event = api_event(
        "get-account-tokens",
        path_parameters={"account": "926@126.com"},
        query={"account_type": "1005"},
    )
    # WHEN its tokens are asked for by GET, the account URL-encoded in the path
    answer = api("query", event)
    # THEN both tokens are listed
    assert answer.status == 200, answer
    assert answer.body["account_tokens"][0]["token_list"] == ["token1", "token2"]


def test_canonical_get_account_tokens_event_answers(api: ApiFunctions) -> None:
    # GIVEN the canonical event of GET /v1/accounts/{account}/tokens
    event = api_event("get-account-tokens")
    # WHEN the query function is invoked with it
    answer = api("query", event)
    # THEN it answers 200
    assert answer.status == 200


def test_canonical_get_token_accounts_event_answers_not_found(api: ApiFunctions) -> None:
    # GIVEN the canonical event of GET /v1/tokens/{token}/accounts, for a token never bound
    event = api_event("get-token-accounts")
    # WHEN the query function is invoked with it
    answer = api("query", event)
    # THEN it answers 200, the token not found
    assert answer.status == 200
    assert answer.body["results"][0]["status"] == "not_found"


def test_get_accounts_of_a_token_lists_them_with_their_types(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN token1 bound to one account
    seed_bindings(api)
    # WHEN its accounts are asked for by GET
    answer = api("query", api_event("get-token-accounts", path_parameters={"token": "token1"}))
    # THEN that account is listed with its type
    assert answer.body["token_accounts"][0]["account_list"] == [
        {"account": "926@126.com", "account_type": 1005}
    ]


def test_app_selects_the_ios_credentials(api: ApiFunctions, emulator: TpnsEmulator) -> None:
    # GIVEN an unbind naming the ios app
    body = {"app": "ios", "token_list": ["ios-token"]}
    # WHEN it is sent
    answer = api("unbind", api_event("unbind-token-list", body))
    # THEN TPNS got the call for the ios app's access id
    assert answer.status == 200
    assert emulator.stats.calls[-1]["access_id"] == IOS_ACCESS_ID


def test_more_items_than_sync_max_is_413_pointing_at_jobs(
    api: ApiFunctions, emulator: TpnsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN SYNC_MAX_ITEMS at 30
    monkeypatch.setenv("SYNC_MAX_ITEMS", "30")
    api.reset()
    # WHEN 31 tokens are unbound synchronously
    answer = api(
        "unbind", api_event("unbind-token-list", {"token_list": [f"t{i}" for i in range(31)]})
    )
    # THEN the answer is 413 pointing at /v1/jobs, and nothing reached TPNS
    assert answer.status == 413
    assert "/v1/jobs" in answer.body["error"]["message"]
    assert emulator.stats.requests == 0


def test_sync_request_is_split_and_merged_in_order(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN 100 tokens, the synchronous maximum
    tokens = [f"token-{i:03d}" for i in range(100)]
    # WHEN they are unbound in one request
    answer = api("unbind", api_event("unbind-token-list", {"token_list": tokens}))
    # THEN TPNS got five calls of 20, and the answer lists every token in input order
    assert answer.status == 200
    assert [r["token"] for r in answer.body["results"]] == tokens
    assert sorted(c["item_count"] for c in emulator.stats.calls) == [20] * 5


def test_jobs_split_the_body_into_bulk_messages(
    api: ApiFunctions, emulator: TpnsEmulator, bulk_queue_url: str, sqs: SQSClient
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
    received = [json.loads(m["Body"]) for m in drain_queue(sqs, bulk_queue_url)]
    assert len(received) == answer.body["messages"] > 1
    assert all(
        m["operation"] == "bind" and m["app"] == "android" and m["job_id"] == "nightly-42"
        for m in received
    )
    tokens = sorted(item["token"] for m in received for item in m["token_accounts"])
    assert tokens == [f"token-{i:05d}" for i in range(3000)]
    assert emulator.stats.requests == 0  # queued, not sent


@pytest.mark.parametrize("name", ["jobs-bind", "jobs-unbind"])
def test_canonical_job_events_are_accepted(api: ApiFunctions, name: str) -> None:
    # GIVEN a canonical jobs event
    event = api_event(name)
    # WHEN the jobs function is invoked with it
    answer = api("jobs", event)
    # THEN it answers 202, accepted
    assert answer.status == 202, (name, answer)


def test_jobs_merge_duplicates_and_say_so(api: ApiFunctions) -> None:
    # GIVEN a job naming t1 twice
    body = {"operation": "unbind", "token_list": ["t1", "t2", "t1"]}
    # WHEN submitted
    answer = api("jobs", api_event("jobs-unbind", body))
    # THEN it is accepted with two items, and one merged duplicate counted
    assert answer.status == 202
    assert (answer.body["items"], answer.body["merged_duplicates"]) == (2, 1)


def test_jobs_refuse_an_unknown_app_before_queueing(api: ApiFunctions) -> None:
    # GIVEN a job for an app the secret does not hold
    body = {"operation": "unbind", "app": "web", "token_list": ["t1"]}
    # WHEN submitted
    answer = api("jobs", api_event("jobs-unbind", body))
    # THEN it is refused with 400 unknown_app
    assert answer.status == 400 and answer.body["error"]["code"] == "unknown_app"


def test_unbind_direct_invocation_takes_an_unbind_body(
    api: ApiFunctions, emulator: TpnsEmulator
) -> None:
    # GIVEN bindings and the canonical direct-invocation payload (no API Gateway around it)
    seed_bindings(api)
    payload = json.loads((API_EVENTS_DIR / "unbind-direct-invoke.json").read_text())
    # WHEN the unbind function is invoked with it
    result = load_function("unbind").lambda_handler(payload, FakeLambdaContext())
    # THEN it answers like the API would, and the tokens are unbound
    assert result["statusCode"] == 200 and result["accepted"] == 2
    assert emulator.bindings(ACCESS_ID) == {}


def test_unbind_direct_invocation_reports_a_bad_body(api: ApiFunctions) -> None:
    # GIVEN a direct-invocation payload with an empty token list
    payload: dict[str, Any] = {"token_list": []}
    # WHEN the unbind function is invoked with it
    result = load_function("unbind").lambda_handler(payload, FakeLambdaContext())
    # THEN it answers 400 naming the field
    assert result["statusCode"] == 400
    assert result["error"]["message"] == "token_list: must not be empty"


def test_eventbridge_detail_is_an_unbind_body(api: ApiFunctions) -> None:
    # GIVEN an EventBridge event whose detail is an unbind body
    event = {
        "detail-type": "Scheduled cleanup",
        "source": "my.app",
        "detail": {"token_list": ["t1"]},
    }
    # WHEN the unbind function is invoked with it
    result = load_function("unbind").lambda_handler(event, FakeLambdaContext())
    # THEN the detail is unbound
    assert result["statusCode"] == 200


def test_openapi_spec_is_served(api: ApiFunctions) -> None:
    # GIVEN the canonical event of GET /v1/openapi.json
    event = api_event("openapi")
    # WHEN the query function is invoked with it
    spec = api("query", event)
    # THEN it answers the OpenAPI 3 document
    assert spec.status == 200 and spec.body["openapi"].startswith("3.")


def test_docs_page_is_served(api: ApiFunctions) -> None:
    # GIVEN the canonical event of GET /v1/docs
    event = api_event("docs")
    # WHEN the query function is invoked with it
    docs = api("query", event)
    # THEN it answers the Swagger UI page
    assert docs.status == 200 and "swagger-ui" in docs.text


def test_unknown_route_is_a_json_404(api: ApiFunctions) -> None:
    # GIVEN a bind event for a path the function does not serve
    event = api_event("bind", path="/v1/bindings")
    # WHEN the bind function is invoked with it
    answer = api("bind", event)
    # THEN it answers a JSON 404
    assert answer.status == 404
    assert answer.body["error"]["code"] == "not_found"
