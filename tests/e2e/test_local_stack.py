"""End to end through the running local stack: gateway → functions → emulator, queue, bucket."""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import subprocess
from typing import Any

import requests
from mypy_boto3_sqs.type_defs import MessageTypeDef

from tests.support.local_stack import RunningStack, trigger_cleanup
from tests.support.paths import README_PATH, ROOT
from tests.support.polling import eventually
from tpns_api.http import docs_page


def accounts_of(stack: RunningStack, token: str) -> list[dict[str, Any]]:
    """The accounts TPNS holds for ``token``, through GET /v1/tokens/{token}/accounts."""
    answer = stack.call("GET", f"/v1/tokens/{token}/accounts")
    assert answer.status_code == 200, answer.text
    accounts: list[dict[str, Any]] = answer.json()["token_accounts"][0]["account_list"]
    return accounts


def tokens_of(stack: RunningStack, account: str, account_type: int = 0) -> list[str]:
    """The tokens TPNS holds for ``account``, through GET /v1/accounts/{account}/tokens."""
    answer = stack.call("GET", f"/v1/accounts/{account}/tokens?account_type={account_type}")
    assert answer.status_code == 200, answer.text
    tokens: list[str] = answer.json()["account_tokens"][0]["token_list"]
    return tokens


def bind(stack: RunningStack, token: str, *accounts: str) -> None:
    """Bind ``accounts`` to ``token``, as account types 0, 1, ... (TPNS keeps one per type)."""
    account_list = [{"account": a, "account_type": kind} for kind, a in enumerate(accounts)]
    body = {"token_accounts": [{"token": token, "account_list": account_list}]}
    answer = stack.call("POST", "/v1/bind", body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1


def test_bind_then_query_returns_the_binding_after_the_apply_delay(stack: RunningStack) -> None:
    # GIVEN a bind accepted by the stack
    bind(stack, "e2e-bind-token", "e2e-alice@example.com")

    # WHEN the token is queried until TPNS has applied it
    accounts = eventually(lambda: accounts_of(stack, "e2e-bind-token"))

    # THEN the binding is there, and the account's tokens list it too
    assert accounts == [{"account": "e2e-alice@example.com", "account_type": 0}]
    assert tokens_of(stack, "e2e-alice@example.com") == ["e2e-bind-token"]


def test_unbind_of_token_accounts_removes_just_that_pair(stack: RunningStack) -> None:
    # GIVEN a token bound to two accounts
    bind(stack, "e2e-pair-token", "e2e-pair-a", "e2e-pair-b")
    assert eventually(lambda: len(accounts_of(stack, "e2e-pair-token")) == 2)

    # WHEN one pair is unbound
    body = {
        "token_accounts": [
            {
                "token": "e2e-pair-token",
                "account_list": [{"account": "e2e-pair-a", "account_type": 0}],
            }
        ]
    }
    answer = stack.call("POST", "/v1/unbind", body)

    # THEN only the other account stays bound
    assert answer.status_code == 200 and answer.json()["operator_type"] == 3
    remaining = eventually(
        lambda: [a["account"] for a in accounts_of(stack, "e2e-pair-token")] == ["e2e-pair-b"]
    )
    assert remaining


def test_unbind_of_a_token_list_removes_all_its_accounts(stack: RunningStack) -> None:
    # GIVEN a bound token
    bind(stack, "e2e-list-token", "e2e-list-a", "e2e-list-b")
    assert eventually(lambda: accounts_of(stack, "e2e-list-token"))

    # WHEN it is unbound by token
    answer = stack.call("POST", "/v1/unbind", {"token_list": ["e2e-list-token"]})

    # THEN it has no accounts left
    assert answer.status_code == 200 and answer.json()["operator_type"] == 4
    assert eventually(lambda: accounts_of(stack, "e2e-list-token") == [])


def test_unbind_of_an_account_list_removes_it_from_all_tokens(stack: RunningStack) -> None:
    # GIVEN an account bound on two tokens
    bind(stack, "e2e-acct-token-1", "e2e-shared-account")
    bind(stack, "e2e-acct-token-2", "e2e-shared-account")
    assert eventually(lambda: len(tokens_of(stack, "e2e-shared-account")) == 2)

    # WHEN the account is unbound
    body = {"account_list": [{"account": "e2e-shared-account", "account_type": 0}]}
    answer = stack.call("POST", "/v1/unbind", body)

    # THEN no token carries it any more
    assert answer.status_code == 200 and answer.json()["operator_type"] == 5
    assert eventually(lambda: tokens_of(stack, "e2e-shared-account") == [])


def test_a_job_of_2000_bindings_is_applied_through_the_queue(stack: RunningStack) -> None:
    # GIVEN 2,000 bindings sent as one job
    tokens = [f"e2e-job-{i:04d}" for i in range(2000)]
    body = {
        "operation": "bind",
        "token_accounts": [
            {"token": t, "account_list": [{"account": f"e2e-job-user-{t[-4:]}"}]} for t in tokens
        ],
    }
    answer = stack.call("POST", "/v1/jobs", body)
    assert answer.status_code == 202, answer.text
    assert answer.json()["items"] == 2000

    # WHEN the bulk function has drained the queue and TPNS has applied the batches
    def all_bound() -> bool:
        for start in range(0, len(tokens), 100):
            query = stack.call("POST", "/v1/query", {"token_list": tokens[start : start + 100]})
            assert query.status_code == 200, query.text
            if any(not entry["account_list"] for entry in query.json()["token_accounts"]):
                return False
        return True

    # THEN every one of them is bound
    assert eventually(all_bound, timeout_s=60, every_s=1)


def test_a_manifest_and_a_triggered_cleanup_unbind_its_items(stack: RunningStack) -> None:
    # GIVEN bound tokens, and a manifest naming them dropped in the cleanup bucket
    for i in range(3):
        bind(stack, f"e2e-dead-{i}", f"e2e-dead-user-{i}")
    assert eventually(lambda: all(accounts_of(stack, f"e2e-dead-{i}") for i in range(3)))
    bucket = stack.outputs["CleanupBucketName"]
    manifest = "".join(json.dumps({"token": f"e2e-dead-{i}"}) + "\n" for i in range(3))
    stack.s3().put_object(Bucket=bucket, Key="pending/dead.jsonl", Body=manifest.encode())

    # WHEN the cleanup schedule is triggered by hand, the way the README says
    result = trigger_cleanup(stack)

    # THEN the manifest is done, and its tokens end unbound through the queue
    assert result["completed"] == ["pending/dead.jsonl"] and result["ItemsQueued"] == 3
    assert eventually(lambda: all(accounts_of(stack, f"e2e-dead-{i}") == [] for i in range(3)))
    listed = stack.s3().list_objects_v2(Bucket=bucket, Prefix="done/")["Contents"]
    (report_key,) = [o["Key"] for o in listed if o["Key"].endswith("dead.jsonl.report.json")]
    # AND its report names its job, which answers with the manifest's counts
    report = json.loads(stack.s3().get_object(Bucket=bucket, Key=report_key)["Body"].read())

    def counted() -> dict[str, Any] | None:
        job = stack.call("GET", f"/v1/jobs/{report['job_id']}").json()
        return job if job["items"]["accepted"] == 3 else None

    job = eventually(counted)
    assert job is not None and (job["source"], job["items"]["total"]) == ("cleanup", 3)


def test_a_malformed_queue_message_ends_in_the_dlq_with_its_reason(stack: RunningStack) -> None:
    # GIVEN a message that can never succeed, sent to the bulk queue by some producer
    sqs = stack.sqs()
    outputs = stack.outputs
    sqs.send_message(QueueUrl=outputs["BulkQueueUrl"], MessageBody="this is not json")

    # WHEN the poller has handed it to the bulk function
    def dead_lettered() -> list[MessageTypeDef]:
        answer = sqs.receive_message(
            QueueUrl=outputs["BulkDeadLetterQueueUrl"],
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            WaitTimeSeconds=1,
        )
        return [m for m in answer.get("Messages", []) if m["Body"] == "this is not json"]

    messages = eventually(dead_lettered)

    # THEN it is in the dead-letter queue, saying why
    assert messages, "the malformed message never reached the DLQ"
    reason = messages[0]["MessageAttributes"]["reason"]["StringValue"]
    assert "JSON" in reason or "json" in reason


def test_the_swagger_ui_and_the_spec_are_served(stack: RunningStack) -> None:
    # GIVEN a browser, which sends no API key
    headers = {"x-api-key": ""}

    # WHEN it opens the docs page and the spec that page loads
    page = stack.call("GET", "/v1/docs", headers=headers)
    spec = stack.call("GET", "/v1/openapi.json", headers=headers)

    # THEN both are served by the query function
    assert page.status_code == 200 and "swagger-ui" in page.text.lower()
    assert spec.status_code == 200 and "/v1/bind" in spec.json()["paths"]


def test_large_answers_are_gzipped_for_clients_that_take_gzip(stack: RunningStack) -> None:
    # WHEN the docs page's script and the spec (both over the template's 1024-byte
    # MinimumCompressionSize) are asked for by a gzip client, and the script by one without
    def fetch(path: str, accept_encoding: str) -> requests.Response:
        headers = {"x-api-key": stack.key, "Accept-Encoding": accept_encoding}
        return requests.get(stack.api + path, headers=headers, timeout=30, stream=True)

    script = f"/v1/docs/swagger-ui-bundle.js?v={docs_page.version(docs_page.SCRIPT)}"
    gzipped = fetch(script, "gzip, deflate, br, zstd")
    spec = fetch("/v1/openapi.json", "gzip")
    plain = fetch(script, "identity")

    # THEN the gzip client gets them gzipped by the gateway, as API Gateway sends them
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert gzipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(gzipped.raw.read()).decode() == docs_page.content(docs_page.SCRIPT)
    assert spec.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(spec.raw.read()))["paths"]
    # THEN the other gets the same text uncompressed
    assert "Content-Encoding" not in plain.headers
    assert plain.raw.read().decode() == docs_page.content(docs_page.SCRIPT)


def test_a_request_without_the_api_key_is_refused_like_api_gateway(stack: RunningStack) -> None:
    # GIVEN a caller without the local API key
    headers = {"x-api-key": "no"}

    # WHEN it calls a route
    answer = stack.call("POST", "/v1/bind", {"token_list": ["x"]}, headers=headers)

    # THEN the gateway refuses it before any function runs
    assert answer.status_code == 403 and answer.json() == {"message": "Forbidden"}


def test_an_undeclared_route_answers_missing_authentication_token(stack: RunningStack) -> None:
    # GIVEN a path the template declares no route for
    path = "/v1/nothing-here"

    # WHEN it is called with the API key
    answer = stack.call("GET", path)

    # THEN the gateway answers as API Gateway does: 403 Missing Authentication Token
    assert answer.status_code == 403
    assert answer.json() == {"message": "Missing Authentication Token"}


def test_each_request_is_logged_in_one_line(stack: RunningStack) -> None:
    # GIVEN a recognisable path
    path = "/v1/tokens/e2e-log-line-token/accounts"

    # WHEN it is requested
    stack.call("GET", path)

    # THEN the stack's output has one line naming the method, path, status and function
    lines = [line for line in stack.output_text().splitlines() if path in line and "→" in line]
    assert len(lines) == 1 and "GET" in lines[0] and "200" in lines[0]
    assert "QueryFunction" in lines[0]


def readme_quickstart() -> str:
    """The shell block of the README's quickstart that talks to the running stack."""
    readme = README_PATH.read_text()
    section = readme[readme.index("## Quickstart") : readme.index("## The local stack")]
    blocks: list[str] = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return next(block for block in blocks if "curl" in block)


def test_the_readme_quickstart_works_against_the_running_stack(stack: RunningStack) -> None:
    # GIVEN the README's quickstart commands, pointed at this stack's address and state
    # directory (the only substitutions: a developer's own stack may hold the default ones)
    script = readme_quickstart().replace("http://127.0.0.1:3000", stack.api)
    script = script.replace(".local-stack/", f"{stack.state_dir}/")
    env = {**os.environ, "LOCAL_STACK_DIR": str(stack.state_dir)}

    # WHEN they are run in a shell at the repository root
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # THEN each step answers as the README says
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count('"accepted": 1') == 2  # the bind, then the unbind
    assert '"account": "alice@example.com"' in out  # the query, after the apply delay
    assert '"job_id"' in out and '"items": 1' in out  # the job, queued
    assert '"ManifestsCompleted"' in out  # make cleanup-now


def test_a_body_over_api_gateways_10_mb_limit_is_refused_with_413(stack: RunningStack) -> None:
    # GIVEN a body one byte over API Gateway's 10 MB payload limit
    body = b"x" * (10 * 1024 * 1024 + 1)

    # WHEN it is posted
    answer = stack.call("POST", "/v1/bind", data=body)

    # THEN the gateway refuses it as API Gateway does: 413 Request Too Long
    assert answer.status_code == 413 and answer.json() == {"message": "Request Too Long"}


def test_the_start_banner_prints_the_readme_examples(stack: RunningStack) -> None:
    # GIVEN the README's curl lines, at this stack's address and state directory
    expected = [
        line.replace("http://127.0.0.1:3000", stack.api)
        for line in readme_quickstart().splitlines()
        if line.startswith(("curl", "sleep 2; curl")) and "/v1/jobs" not in line
    ]

    # WHEN the stack's start banner is read
    banner = stack.output_text()

    # THEN it shows the same commands, and where the key is
    assert len(expected) == 3
    for line in expected:
        assert line in banner
    assert f"KEY=$(cat {stack.state_dir}/api-key)" in banner


def test_moto_refuses_browser_requests_so_no_web_page_can_read_the_secret(
    stack: RunningStack,
) -> None:
    # GIVEN a web page's cross-origin request to the local Secrets Manager
    target = {"X-Amz-Target": "secretsmanager.GetSecretValue"}
    body = json.dumps({"SecretId": stack.endpoints["secret_id"]})
    origin = {"Origin": "https://evil.example", "Content-Type": "application/x-amz-json-1.1"}

    # WHEN it is sent, preflight first
    preflight = requests.options(stack.endpoints["aws"], headers=origin, timeout=10)
    read = requests.post(stack.endpoints["aws"], data=body, headers=origin | target, timeout=10)

    # THEN both are refused, while a local client still gets through
    assert preflight.status_code == 403 and read.status_code == 403
    assert "secret_key" not in read.text
    assert stack.secretsmanager().get_secret_value(SecretId=stack.endpoints["secret_id"])


def test_a_malformed_content_length_gets_400_and_a_closed_connection(stack: RunningStack) -> None:
    # GIVEN a raw request whose Content-Length is not a number (a superscript two)
    host, port = stack.api.removeprefix("http://").split(":")
    request = "POST /v1/bind HTTP/1.1\r\nHost: x\r\nContent-Length: ²\r\n\r\n{}".encode()

    # WHEN it is sent on a connection to the gateway
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        answer = connection.makefile("rb").read().decode()

    # THEN the gateway answers 400 and closes the connection
    assert answer.startswith("HTTP/1.1 400") and "Connection: close" in answer
