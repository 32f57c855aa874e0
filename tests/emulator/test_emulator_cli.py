"""``python -m tpns_emulator`` as a subprocess: prints its URL, serves, stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
APP = "1500001048"
SECRET = "1452fcebae9f3115ba794fb0fff2fd73"


def _start(*args, env_apps=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("TPNS_EMULATOR_APPS", None)
    if env_apps is not None:
        env["TPNS_EMULATOR_APPS"] = env_apps
    return subprocess.Popen(
        [sys.executable, "-m", "tpns_emulator", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _url(process):
    line = process.stdout.readline().strip()
    prefix = "TPNS emulator listening on "
    assert line.startswith(prefix), line
    return line[len(prefix) :]


def _bind(url, basic_user, basic_key):
    return requests.post(
        url + "/v3/device/account/batchoperate",
        json={"operator_type": 4, "token_list": ["t1"]},
        auth=(basic_user, basic_key),
        timeout=5,
    )


@pytest.mark.timeout(20)
def test_cli_prints_its_url_serves_and_exits_after_the_given_time():
    # GIVEN the CLI on a free port with one app and --exit-after
    process = _start("--port", "0", "--app", f"{APP}:{SECRET}", "--exit-after", "1.5")
    try:
        # WHEN it is called THEN it answers with real auth
        url = _url(process)
        assert url.startswith("http://127.0.0.1:")
        assert _bind(url, APP, SECRET).json()["ret_code"] == 0
        assert _bind(url, APP, "wrong").status_code == 401
        # THEN it exits 0 by itself, without noise on stderr
        assert process.wait(timeout=10) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()
        process.communicate()


@pytest.mark.timeout(20)
def test_cli_stops_cleanly_on_sigterm():
    process = _start("--port", "0", "--app", f"{APP}:{SECRET}")
    try:
        url = _url(process)
        assert requests.get(url + "/_emulator/stats", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.communicate()


@pytest.mark.timeout(20)
def test_cli_reads_apps_from_the_environment():
    process = _start("--port", "0", "--exit-after", "10", env_apps=f"{APP}:{SECRET},1600:ios-key")
    try:
        url = _url(process)
        assert _bind(url, APP, SECRET).json()["ret_code"] == 0
        assert _bind(url, "1600", "ios-key").json()["ret_code"] == 0
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        process.communicate()


@pytest.mark.timeout(20)
def test_cli_reports_a_port_in_use_in_one_line_with_exit_code_2():
    # GIVEN a port some other socket is listening on
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # WHEN the CLI is asked to use it
        started = time.monotonic()
        process = _start("--port", str(port), "--app", f"{APP}:{SECRET}")
        out, err = process.communicate(timeout=15)
    # THEN it exits 2 with one clear line and no traceback
    assert process.returncode == 2
    assert out == ""
    assert err.strip().count("\n") == 0
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err
    assert time.monotonic() - started < 15
