"""Starting and stopping the local stack, and wiring it from whatever template it is given."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from mypy_boto3_sqs.type_defs import MessageTypeDef

from tests.support.local_stack import start_stack
from tests.support.paths import ROOT, TEMPLATE_PATH
from tests.support.polling import eventually
from tests.support.processes import alive, children_of, free_port, wait_for_port

HELLO_HANDLER = """
import json


def lambda_handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"hello": event["pathParameters"]["name"],
                            "greeting": event["queryStringParameters"]["greeting"],
                            "resource": event["resource"],
                            "stage": event["requestContext"]["stage"]}),
    }
"""

FAILING_HANDLER = """
def lambda_handler(event, context):
    raise RuntimeError("this consumer always fails")
"""

HELLO_RESOURCE = """
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Events:
        Hello:
          Type: Api
          Properties:
            RestApiId: !Ref TpnsApi
            Path: /v1/hello/{name}
            Method: get
"""


def test_ctrl_c_stops_everything_and_leaves_no_process_behind(tmp_path: Path) -> None:
    # GIVEN a running stack that has served concurrent requests (so it added instances)
    stack = start_stack(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: stack.call("GET", "/v1/openapi.json"), range(8)))
    assert all(a.status_code == 200 for a in answers)
    descendants = children_of(stack.process.pid)
    assert len(descendants) >= 6, "one warm instance per function"

    # WHEN it gets Ctrl-C
    code = stack.stop()

    # THEN it exits cleanly, and none of its processes is left
    assert code == 0, stack.output_text()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in descendants) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in descendants if alive(pid)]
    assert "stopped." in stack.output_text()
    assert "Traceback" not in stack.output_text()


def test_a_port_in_use_gives_a_clear_message_not_a_traceback(tmp_path: Path) -> None:
    # GIVEN something already listening on the gateway's port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        # WHEN the stack is started on that port
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "local_stack",
                "--state-dir",
                str(tmp_path),
                "--port",
                str(port),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    # THEN it refuses with a message naming the port and the way out
    assert done.returncode == 2
    assert f"port {port} (API gateway) is already in use" in done.stderr
    assert "--port" in done.stderr and "Traceback" not in done.stderr + done.stdout


def project_copy(tmp: Path, edit: Callable[[str], str], files: dict[str, str]) -> Path:
    """A project directory with an edited copy of template.yaml, the repository's functions and
    layers, and ``files``; returns the template's path."""
    project = tmp / "project"
    project.mkdir()
    for shared in ("functions", "layers"):
        (project / shared).symlink_to(ROOT / shared)
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    original = TEMPLATE_PATH.read_text()
    edited = edit(original)
    assert edited != original
    (project / "template.yaml").write_text(edited)
    return project / "template.yaml"


def test_a_route_added_to_the_template_is_served_with_no_other_change(tmp_path: Path) -> None:
    # GIVEN a copy of the template with one more function and route, next to its code
    template = project_copy(
        tmp_path,
        lambda text: text.replace("\nOutputs:\n", HELLO_RESOURCE + "\nOutputs:\n"),
        {"hello/app.py": HELLO_HANDLER},
    )

    # WHEN the stack runs that template and the new route is called
    stack = start_stack(tmp_path, template=template)
    try:
        answer = stack.call("GET", "/v1/hello/world?greeting=hi")
    finally:
        stack.stop()

    # THEN the new function answers it, with a real proxy event
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "hello": "world",
        "greeting": "hi",
        "resource": "/v1/hello/{name}",
        "stage": "prod",
    }


def test_tpns_endpoint_and_a_secret_file_point_the_stack_at_another_tpns(tmp_path: Path) -> None:
    # GIVEN a TPNS that is not the stack's own emulator (standing in for real TPNS), and its
    # app's credentials in a file of the secret's shape
    port = free_port()
    other_tpns = subprocess.Popen(
        [sys.executable, "-m", "tpns_emulator", "--port", str(port), "--exit-after", "120",
         "--app", "1600000001:other-app-key"],
        cwd=ROOT,
    )  # fmt: skip
    secret_file = tmp_path / "tpns-secret.json"
    secret_file.write_text(json.dumps({"access_id": "1600000001", "secret_key": "other-app-key"}))
    try:
        wait_for_port(port)

        # WHEN the stack starts with TPNS_ENDPOINT and TPNS_SECRET_FILE, and a token is bound
        stack = start_stack(
            tmp_path,
            env={"TPNS_ENDPOINT": f"http://127.0.0.1:{port}", "TPNS_SECRET_FILE": str(secret_file)},
        )
        try:
            body = {"token_accounts": [{"token": "elsewhere", "account_list": [{"account": "ab"}]}]}
            answer = stack.call("POST", "/v1/bind", body)
        finally:
            stack.stop()
        state = requests.get(
            f"http://127.0.0.1:{port}/_emulator/state?access_id=1600000001", timeout=5
        ).json()
    finally:
        other_tpns.terminate()
        other_tpns.wait(timeout=10)

    # THEN the bind went to that TPNS, signed with that app's key, and the stack said so
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text
    assert state == {"elsewhere": [{"account": "ab", "account_type": 0}]}
    assert stack.endpoints["real_tpns"] is True
    assert "REAL TPNS" in stack.output_text()


def test_tpns_endpoint_without_a_secret_file_is_refused_clearly(tmp_path: Path) -> None:
    # GIVEN an environment pointing at real TPNS, but with no secret file for its credentials
    env = {**os.environ, "TPNS_ENDPOINT": "guangzhou", "TPNS_SECRET_FILE": ""}

    # WHEN the stack is started with it
    done = subprocess.run(
        [sys.executable, "-m", "local_stack", "--state-dir", str(tmp_path), "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # THEN it refuses with exit code 2, saying to set TPNS_SECRET_FILE, without a traceback
    assert done.returncode == 2
    assert "set TPNS_SECRET_FILE" in done.stderr and "Traceback" not in done.stderr


def test_a_message_that_keeps_failing_is_redriven_to_the_dlq_after_max_receive_count(
    tmp_path: Path,
) -> None:
    # GIVEN the template with a bulk consumer that always fails, and maxReceiveCount 2
    template = project_copy(
        tmp_path,
        lambda text: text.replace("CodeUri: functions/bulk/", "CodeUri: failing/"),
        {"failing/app.py": FAILING_HANDLER},
    )
    stack = start_stack(
        tmp_path, "--parameter-overrides", "BulkMaxReceiveCount=2", template=template
    )
    try:
        sqs = stack.sqs()
        outputs = stack.outputs
        sqs.send_message(QueueUrl=outputs["BulkQueueUrl"], MessageBody='{"operation": "bind"}')

        # WHEN the poller has delivered it (and seen it fail) twice
        def in_dlq() -> list[MessageTypeDef]:
            return sqs.receive_message(
                QueueUrl=outputs["BulkDeadLetterQueueUrl"],
                AttributeNames=["All"],
                WaitTimeSeconds=1,
            ).get("Messages", [])

        moved = eventually(in_dlq, timeout_s=60)
    finally:
        stack.stop()

    # THEN the queue's redrive policy has moved it to the DLQ, after exactly two deliveries
    assert moved and moved[0]["Body"] == '{"operation": "bind"}'
    failures = stack.output_text().count("BulkFunction: 1 message(s), 0 done, 1 left")
    assert failures == 2
