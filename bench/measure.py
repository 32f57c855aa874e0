"""The benchmark's runner: the servers, the scratch directory, the environment of the measured
processes, and how each is spawned (``Bench.child``). The scenarios live in their own modules
(``bench.cold``, ``bench.warm``, ``bench.bulk``, ``bench.emulator_alone``); each spawns fresh
processes through this runner and returns raw samples, which ``bench.report`` turns into ratios
against the baselines measured alongside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.config import CHILD, CHILD_TIMEOUT_S, LAMBDA_ENV, LOGICAL_IDS, BenchError, Config
from bench.lambda_env import Layout, LayoutError, check_fresh
from bench.servers import FAKE_AWS, ROOT, SECRET, SECRET_ID, Emulator, Moto
from bench.stack import Stack
from bench.template import Template


class Bench:
    """One benchmark run: the servers, the scratch directory, the environment of the children."""

    def __init__(self, config: Config, moto: Moto, emulator: Emulator, scratch: Path) -> None:
        self.config = config
        self.moto = moto
        self.emulator = emulator
        self.scratch = scratch
        self.template = Template.load()
        self._count = 0
        self._layout: Layout | None = None
        self.stack = Stack(moto.client, SECRET_ID, SECRET, emulator.url)
        api_memory = self.template.memory_mb(LOGICAL_IDS["bind"])
        self.settings = {
            "qps": self.template.default("TpnsMaxQps"),
            "concurrency": self.template.default("TpnsMaxConcurrency"),
            "api_memory_mb": float(api_memory),
            "bulk_memory_mb": float(self.template.memory_mb(LOGICAL_IDS["bulk"])),
            "verify_memory_mb": float(self.template.memory_mb(LOGICAL_IDS["verify"])),
        }
        # What every process gets, whatever its function: a Lambda's environment, on loopback.
        self.base_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(ROOT / "layers" / "tpns"),
            **FAKE_AWS,
            "AWS_ENDPOINT_URL": moto.url,
            # Nothing from ~/.aws (profiles, per-service endpoints) may redirect a function.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            **LAMBDA_ENV,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(api_memory),
            "LAMBDA_TASK_ROOT": str(scratch),
        }
        self.env = self.function_env("bind")

    def function_env(self, function: str, *, ledger: bool = False) -> dict[str, str]:
        """``function``'s environment: the template's (``LedgerMode`` on or off), a Lambda's."""
        logical_id = LOGICAL_IDS[function]
        return {
            **self.base_env,
            **self.stack.environment(logical_id, ledger=ledger),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.template.memory_mb(logical_id)),
        }

    def close(self) -> None:
        if self._layout is not None:
            self._layout.close()

    # -- children -----------------------------------------------------------------------------

    def child(
        self,
        mode: str,
        spec: dict[str, Any],
        env: dict[str, str] | None = None,
        *,
        argv: list[str] | None = None,
        cwd: Path | None = None,
    ) -> tuple[float, dict[str, Any], str]:
        """Run child.py (``argv`` runs it some other way); (time just before spawning, its
        result, its stderr)."""
        self._count += 1
        result_file = self.scratch / f"result-{self._count}.json"
        spec_file = self.scratch / f"spec-{self._count}.json"
        spec_file.write_text(json.dumps({**spec, "result": str(result_file)}))
        command = argv or [sys.executable, str(CHILD)]
        started = time.monotonic()
        done = subprocess.run(
            [*command, mode, str(spec_file)],
            env=env or self.env,
            cwd=cwd or self.scratch,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0 or not result_file.exists():
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            raise BenchError(f"{mode} {spec.get('handler')} failed ({done.returncode}):\n{tail}")
        result: dict[str, Any] = json.loads(result_file.read_text())
        return started, result, done.stderr

    @staticmethod
    def handler_file(function: str) -> Path:
        return ROOT / "functions" / function / "app.py"

    def layout(self) -> Layout:
        """The sam build artifact deployed as Lambda has it (built once per run)."""
        if self._layout is None:
            try:
                check_fresh(self.template)
                self._layout = Layout(
                    self.scratch / "lambda",
                    self.template,
                    {f: LOGICAL_IDS[f] for f in self.config.functions},
                )
            except LayoutError as exc:
                raise BenchError(str(exc)) from exc
        return self._layout

    def deployed(
        self,
        variant: str,
        name: str,
        memory_mb: int,
        prefix: list[str] | None = None,
        flags: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> tuple[dict[str, str], list[str], Path, Path]:
        """(env, argv, cwd, handler) that run ``name`` from the artifact, as Lambda would, with
        ``env`` (default: the floor's) as its environment."""
        layout = self.layout()
        deployment = layout.deployment(variant, name)
        readonly, _ = layout.readonly_prefix()
        env = {
            **(env or self.env),
            "PYTHONPATH": deployment.python_path(),
            "PYTHONDONTWRITEBYTECODE": "1",
            "LAMBDA_TASK_ROOT": str(deployment.task),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        }
        argv = [*(prefix or []), *readonly, str(layout.python), *flags, "-P", str(CHILD)]
        return env, argv, deployment.task, deployment.handler

    def keep_queues_small(self) -> None:
        """What the API functions queued (jobs' messages, verifications), thrown away: moto's
        SQS slows down as a queue fills."""
        self.stack.purge("BulkQueue", "VerifyQueue")


@contextmanager
def servers(lifetime_s: float) -> Iterator[tuple[Moto, Emulator, Path]]:
    """moto and the emulator in their own processes, plus a scratch directory; all cleaned up."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        **FAKE_AWS,
    }
    with tempfile.TemporaryDirectory(prefix="tpns-bench-") as scratch:
        moto = Moto(env, lifetime_s)
        try:
            emulator = Emulator(env, lifetime_s)
            try:
                yield moto, emulator, Path(scratch)
            finally:
                emulator.stop()
        finally:
            moto.stop()
