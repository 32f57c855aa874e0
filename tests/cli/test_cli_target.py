"""Where requests go: the local stack's endpoints.json, or a deployed API and its auth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tpns_cli.api import ApiKeyAuth, SigV4
from tpns_cli.errors import TargetError
from tpns_cli.target import API_KEY_ENV, API_URL_ENV, Target

AWS_ENV = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}


def local_state(tmp_path: Path) -> Path:
    """A state dir as a running local stack leaves it."""
    (tmp_path / "api-key").write_text("local-key\n")
    endpoints = {
        "api": "http://127.0.0.1:3999",
        "aws": "http://127.0.0.1:5999",
        "region": "us-east-1",
        "api_key_file": str(tmp_path / "api-key"),
        "outputs": {
            "BulkQueueUrl": "http://127.0.0.1:5999/123456789012/tpns-local-BulkQueue",
            "BulkDeadLetterQueueUrl": "http://127.0.0.1:5999/123456789012/tpns-local-BulkDLQ",
        },
    }
    (tmp_path / "endpoints.json").write_text(json.dumps(endpoints))
    return tmp_path


def test_the_local_stack_gives_the_api_its_key_and_the_queues(tmp_path: Path) -> None:
    # GIVEN a running local stack's state dir
    target = Target(local=local_state(tmp_path))

    # WHEN the API and the queues are resolved
    api, queues = target.api(), target.queues()

    # THEN the API is the stack's with its key file's key, the queues its outputs, on moto
    assert api.base_url == "http://127.0.0.1:3999"
    assert isinstance(api.auth, ApiKeyAuth) and api.auth.key == "local-key"
    assert queues.dlq_url.endswith("tpns-local-BulkDLQ")
    assert queues.sqs.meta.endpoint_url == "http://127.0.0.1:5999"


def test_a_state_dir_without_a_running_stack_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="make run"):
        Target(local=tmp_path).api()


def test_no_target_at_all_says_how_to_name_one() -> None:
    with pytest.raises(TargetError, match=r"--local STATE_DIR.*--api URL.*--stack NAME"):
        Target(environ={}).api()


def test_a_deployed_api_is_signed_with_the_callers_aws_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN AWS credentials in the environment and an execute-api URL
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    target = Target(api_url="https://a1.execute-api.ap-southeast-1.amazonaws.com/prod", environ={})

    # WHEN the API is resolved
    api = target.api()

    # THEN requests are SigV4-signed for the URL's region
    assert isinstance(api.auth, SigV4) and api.auth.region == "ap-southeast-1"


def test_an_api_key_from_the_option_or_the_environment_replaces_sigv4() -> None:
    # GIVEN an API URL and key from the environment, and another key as an option
    environ = {API_URL_ENV: "https://bindings.example.com", API_KEY_ENV: "env-key"}

    # WHEN the API is resolved with and without the option
    from_env = Target(environ=environ).api()
    from_option = Target(api_key="option-key", environ=environ).api()

    # THEN the key goes in x-api-key (the option winning), with no AWS credentials needed
    assert isinstance(from_env.auth, ApiKeyAuth) and from_env.auth.key == "env-key"
    assert isinstance(from_option.auth, ApiKeyAuth) and from_option.auth.key == "option-key"
    assert from_env.base_url == "https://bindings.example.com"


def test_queues_of_a_deployed_stack_need_the_stack_or_both_urls() -> None:
    with pytest.raises(TargetError, match=r"--stack NAME.*--queue-url and --dlq-url"):
        Target(queue_url="https://sqs.eu-west-1.amazonaws.com/1/q", environ={}).queues()
