"""``python -m tpns_emulator`` as a subprocess: prints its URL, serves, stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.support.paths import ROOT
from tests.support.tpns_client import BATCHOPERATE_PATH
from tests.support.vector import VECTOR_ACCESS_ID, VECTOR_SECRET_KEY

APP_OPTION = f"{VECTOR_ACCESS_ID}:{VECTOR_SECRET_KEY}"


def start(*args: str, env_apps: str | None = None) -> subprocess.Popen[str]:
    """``python -m tpns_emulator *args``, its apps from TPNS_EMULATOR_APPS only if given."""
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


def url_of(process: subprocess.Popen[str]) -> str:
    """The URL the emulator prints on its first line."""
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    prefix = "TPNS emulator listening on "
    assert line.startswith(prefix), line
    return line[len(prefix) :]


def bind(url: str, basic_user: str, basic_key: str) -> requests.Response:
    """An unbind of t1, with Basic auth."""
    return requests.post(
        url + BATCHOPERATE_PATH,
        json={"operator_type": 4, "token_list": ["t1"]},
        auth=(basic_user, basic_key),
        timeout=5,
    )


@pytest.mark.timeout(20)
def test_cli_prints_its_url_serves_and_exits_after_the_given_time() -> None:
    # GIVEN the CLI on a free port with one app and --exit-after
    process = start("--port", "0", "--app", APP_OPTION, "--exit-after", "1.5")
    try:
        # WHEN it is called
        url = url_of(process)
        # THEN it answers on loopback, with real auth
        assert url.startswith("http://127.0.0.1:")
        assert bind(url, VECTOR_ACCESS_ID, VECTOR_SECRET_KEY).json()["ret_code"] == 0
        assert bind(url, VECTOR_ACCESS_ID, "wrong").status_code == 401
        # AND it exits 0 by itself, without noise on stderr
        assert process.wait(timeout=10) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()
        process.communicate()


@pytest.mark.timeout(20)
def test_cli_stops_cleanly_on_sigterm() -> None:
    # GIVEN the CLI serving
    process = start("--port", "0", "--app", APP_OPTION)
    try:
        url = url_of(process)
        assert requests.get(url + "/_emulator/stats", timeout=5).status_code == 200
        # WHEN it gets SIGTERM
        process.send_signal(signal.SIGTERM)
        # THEN it exits 0
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.communicate()


@pytest.mark.timeout(20)
def test_cli_reads_apps_from_the_environment() -> None:
    # GIVEN two apps in TPNS_EMULATOR_APPS and none on the command line
    process = start("--port", "0", "--exit-after", "10", env_apps=f"{APP_OPTION},1600:ios-key")
    try:
        # WHEN each app calls it
        url = url_of(process)
        answers = [bind(url, VECTOR_ACCESS_ID, VECTOR_SECRET_KEY), bind(url, "1600", "ios-key")]
        # THEN both authenticate
        assert answers[0].json()["ret_code"] == 0
        assert answers[1].json()["ret_code"] == 0
    finally:
        process.send_signal(signal.SIGINT)
        # AND it exits 0 on Ctrl-C
        assert process.wait(timeout=10) == 0
        process.communicate()


@pytest.mark.timeout(20)
def test_cli_reports_a_port_in_use_in_one_line_with_exit_code_2() -> None:
    # GIVEN a port some other socket is listening on
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # WHEN the CLI is asked to use it
        started = time.monotonic()
        process = start("--port", str(port), "--app", APP_OPTION)
        out, err = process.communicate(timeout=15)
    # THEN it exits 2 with one clear line and no traceback
    assert process.returncode == 2
    assert out == ""
    assert err.strip().count("\n") == 0
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err
    assert time.monotonic() - started < 15
