"""The servers a benchmark talks to, each in its own process (so none shares a GIL with the
process being measured), on loopback, and each bound to stop by itself.

``python -m bench.servers moto --exit-after S`` runs moto (``local_stack.aws``: the one the
local stack and the tests use) until its stdin closes (the benchmark died) or S seconds pass;
the emulator has its own ``--exit-after``. What moto holds is the template's
(``bench.stack``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
ACCESS_ID = "1500001048"
SECRET_KEY = "bench-secret-key-android"
IOS_ACCESS_ID = "1600002222"
IOS_SECRET_KEY = "bench-secret-key-ios"
SECRET = {
    "default_app": "android",
    "apps": {
        "android": {"access_id": ACCESS_ID, "secret_key": SECRET_KEY},
        "ios": {"access_id": IOS_ACCESS_ID, "secret_key": IOS_SECRET_KEY},
    },
}
SECRET_ID = "tpns/bench"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def _first_line(stream: IO[str], timeout: float) -> str:
    """The process's first line of output, or RuntimeError if none comes in time."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0].strip():
        raise RuntimeError("server did not start in time")
    return lines[0].strip()


class ServerProcess:
    """A server subprocess that reports its URL on its first line of output."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self._process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=env,
        )
        try:
            line = _first_line(self._process.stdout, 30)  # type: ignore[arg-type]
        except RuntimeError:
            self.stop()
            raise
        self.url = line.split()[-1].rstrip("/")

    def stop(self) -> None:
        process = self._process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


class Moto(ServerProcess):
    """moto in server mode, as the local stack and the tests run it (``local_stack.aws``)."""

    def __init__(self, env: dict[str, str], exit_after: float) -> None:
        argv = [sys.executable, "-m", "bench.servers", "moto", "--exit-after", str(exit_after)]
        super().__init__(argv, env)

    def client(self, service: str) -> Any:
        import boto3

        make: Any = boto3.client
        return make(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_AWS["AWS_SESSION_TOKEN"],
        )


class Emulator(ServerProcess):
    """The TPNS emulator CLI with the bench apps, reconfigured through its admin API."""

    def __init__(self, env: dict[str, str], exit_after: float) -> None:
        argv = [
            sys.executable,
            "-m",
            "tpns_emulator",
            "--port",
            "0",
            "--app",
            f"{ACCESS_ID}:{SECRET_KEY}",
            "--app",
            f"{IOS_ACCESS_ID}:{IOS_SECRET_KEY}",
            "--exit-after",
            str(exit_after),
        ]
        super().__init__(argv, env)

    def configure(self, latency_s: float = 0.0, qps_cap: float | None = None) -> None:
        self._admin("POST", "reset")
        self._admin("POST", "config", {"latency_s": latency_s, "qps_cap": qps_cap})

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self._admin("GET", "stats")
        return stats

    def _admin(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback URL we started
            f"{self.url}/_emulator/{route}", data=data, method=method
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return json.loads(answer.read())


def _run_moto(exit_after: float) -> int:
    """``local_stack.aws``'s moto (DynamoDB atomic and fast, local clients only) until stdin
    closes or ``exit_after`` seconds pass."""
    from local_stack.aws import start_in_thread

    server, url = start_in_thread(0)
    print(f"moto listening on {url}", flush=True)
    deadline = time.monotonic() + exit_after
    stdin_closed = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.read()  # returns when the benchmark closes the pipe, or dies
        stdin_closed.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    while not stdin_closed.is_set() and time.monotonic() < deadline:
        stdin_closed.wait(0.5)
    server.shutdown()
    server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("server", choices=["moto"])
    parser.add_argument("--exit-after", type=float, default=900.0)
    args = parser.parse_args(argv)
    return _run_moto(args.exit_after)


if __name__ == "__main__":
    raise SystemExit(main())
