"""The bundle's AWS clients: botocore's, from one session per process, and no boto3 import on
a function's cold start (it would cost ~15 ms of every one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.support.apps import SINGLE_APP_SECRET
from tests.support.aws import MakeSecret
from tests.support.paths import API_EVENTS_DIR, LAYER_DIR, ROOT
from tpns_account import aws
from tpns_emulator import TpnsEmulator

COLD_BIND = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

class Context:
    function_name = "tpns-bind"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tpns-bind"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self):
        return 20_000

answer = module.lambda_handler(json.load(open(sys.argv[2])), Context())
loaded = sorted(name for name in ("boto3", "botocore", "s3transfer") if name in sys.modules)
print(json.dumps({"status": answer["statusCode"], "loaded": loaded}))
"""


def test_every_client_comes_from_the_one_session(
    moto_endpoint: str, make_secret: MakeSecret, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a hook on the process's session, and a secret
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    secret_id = make_secret(SINGLE_APP_SECRET)
    seen: list[str] = []

    def record(**event: Any) -> None:
        seen.append(event["model"].service_model.service_name)

    aws.session().register("before-call", record)
    try:
        # WHEN two clients of different services, made by aws.client, call AWS
        aws.client("secretsmanager").get_secret_value(SecretId=secret_id)
        aws.client("sqs").list_queues()
    finally:
        aws.session().unregister("before-call", record)
    # THEN the session's hook saw both calls: its events, its loaded data, its credentials
    assert seen == ["secretsmanager", "sqs"]


def test_a_functions_cold_start_loads_botocore_and_never_boto3(
    moto_endpoint: str, make_secret: MakeSecret, emulator: TpnsEmulator
) -> None:
    # GIVEN a bind function's process, as Lambda starts it, with its secret in Secrets Manager
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(LAYER_DIR),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_LAMBDA_FUNCTION_NAME": "tpns-bind",
        "TPNS_SECRET_ID": make_secret(SINGLE_APP_SECRET),
        "TPNS_ENDPOINT": emulator.url,
        "POWERTOOLS_METRICS_NAMESPACE": "TpnsBindings",
    }
    handler = ROOT / "functions" / "bind" / "app.py"
    # WHEN it imports the handler and serves its first request
    done = subprocess.run(
        [sys.executable, "-c", COLD_BIND, str(handler), str(API_EVENTS_DIR / "bind.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    state = json.loads(done.stdout.strip().splitlines()[-1])
    # THEN it answered, having read its secret with botocore alone
    assert state == {"status": 200, "loaded": ["botocore"]}
