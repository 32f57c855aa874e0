"""The ledger's reads: what the bundle bound, from DynamoDB, in pages with no cap."""

from __future__ import annotations

from typing import Any

from tests.support.api_events import ApiFunctions, api_event

ACCOUNT = "reader@x.cn"


def test_an_account_with_250_tokens_pages_through_its_bindings_in_three_pages(
    api: ApiFunctions,
) -> None:
    # GIVEN one account bound to 250 tokens (three binds through the API; TPNS itself keeps
    # only 100 tokens per account, the ledger keeps every one)
    tokens = [f"reader-{i:03d}" for i in range(250)]
    for start in range(0, 250, 100):
        items = [{"token": t, "account_list": [{"account": ACCOUNT, "account_type": 1005}]}
                 for t in tokens[start : start + 100]]  # fmt: skip
        bound = api("bind", api_event("bind", {"token_accounts": items}))
        assert bound.status == 200 and bound.body["accepted"] == len(items), bound

    # WHEN its bindings are read 100 at a time, following next_cursor
    pages: list[dict[str, Any]] = []
    query = {"account_type": "1005", "limit": "100"}
    while not pages or pages[-1]["next_cursor"]:
        if pages:
            query["cursor"] = pages[-1]["next_cursor"]
        answer = api(
            "query",
            api_event("get-account-bindings", path_parameters={"account": ACCOUNT}, query=query),
        )
        assert answer.status == 200, answer
        pages.append(answer.body)
        assert len(pages) <= 4, "more pages than there are bindings"

    # THEN there are three pages (100, 100, 50), every token once, with issued_at and state
    assert [len(page["items"]) for page in pages] == [100, 100, 50]
    listed = [item for page in pages for item in page["items"]]
    assert sorted(item["token"] for item in listed) == tokens
    assert {(item["account"], item["account_type"]) for item in listed} == {(ACCOUNT, 1005)}
    assert all(isinstance(item["issued_at"], int) and item["state"] for item in listed)
    assert pages[-1]["next_cursor"] is None
