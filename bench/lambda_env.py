"""Functions run as Lambda runs them: from the ``sam build`` artifact, read-only, with no bytecode
written, and optionally on a Lambda-sized share of a CPU.

- ``check_fresh``: the artifact must hold the code in the tree, or the figures describe old code.
- ``Layout``: each function's ``/var/task`` and the layer's ``/opt/python``, copied through a zip
  round trip (as ``sam deploy`` and Lambda do: mtimes change) and made read-only; a ``nopyc``
  twin of each without ``__pycache__`` (what ``sam build`` shipped before
  ``lambda-build/Makefile``); the floor baseline built by the same Makefile; and a "runtime"
  interpreter whose site-packages hold only boto3 and what it requires, as Lambda's
  ``/var/runtime`` does.
- ``CpuShare``: a cgroup whose CPU quota is what Lambda gives a memory size.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from bench.servers import ROOT
from bench.template import Template
from local_stack.template import LAYER

BUILD_DIR = ROOT / ".aws-sam" / "build"
PACKAGING_MAKEFILE = ROOT / "lambda-build" / "Makefile"
FULL_VCPU_MB = 1769  # Lambda gives one vCPU at 1,769 MB, proportionally less below
# What SAM's Python builder (and so lambda-build/Makefile) leaves out of an artifact.
NOT_SHIPPED = ("__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache")
VARIANTS = ("shipped", "nopyc")
# Lambda's runtime comes with the AWS SDK; everything else is the layer's or the function's.
RUNTIME_PACKAGES = ("boto3",)


class LayoutError(RuntimeError):
    """The artifact is missing, stale, or was written to while measured."""


def _source_files(directory: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if path.is_file() and not set(relative.parts) & set(NOT_SHIPPED) and path.suffix != ".pyc":
            files[relative.as_posix()] = path.read_bytes()
    return files


def check_fresh(template: Template, build_dir: Path = BUILD_DIR) -> None:
    """Every file of every CodeUri/ContentUri is in the artifact, byte for byte."""
    if not build_dir.is_dir():
        raise LayoutError(f"no sam build artifact at {build_dir}: run `make sam-build`")
    for resource in template.resources.values():
        built = build_dir / resource.logical_id
        if resource.kind == LAYER:
            built = built / "python"
        for name, content in _source_files(resource.source).items():
            shipped = built / name
            if not shipped.is_file() or shipped.read_bytes() != content:
                raise LayoutError(
                    f"{build_dir.name}/{resource.logical_id} is older than "
                    f"{resource.source.relative_to(ROOT)}/{name}: run `make sam-build`"
                )


def zip_round_trip(source: Path, target: Path, *, with_bytecode: bool) -> None:
    """Copy ``source`` to ``target`` the way a deployment does: zipped, then extracted."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if path.is_file() and (with_bytecode or "__pycache__" not in relative.parts):
                archive.write(path, relative.as_posix())
    with zipfile.ZipFile(buffer) as archive:
        archive.extractall(target)


def _walk(root: Path) -> Iterator[Path]:
    yield root
    yield from root.rglob("*")


def set_writable(root: Path, writable: bool) -> None:
    for path in _walk(root):
        if path.is_symlink():
            continue
        mode = 0o755 if path.is_dir() else 0o644
        path.chmod(mode if writable else mode & 0o555)


def _runtime_closure(roots: tuple[str, ...]) -> list[metadata.Distribution]:
    """The installed distributions ``roots`` need (their non-extra requirements, recursively)."""
    seen: dict[str, metadata.Distribution] = {}
    pending = list(roots)
    while pending:
        name = pending.pop().lower().replace("_", "-")
        if name in seen:
            continue
        dist = metadata.distribution(name)
        seen[name] = dist
        for line in dist.requires or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return list(seen.values())


def _link_distribution(dist: metadata.Distribution, site: Path) -> None:
    """Symlink a distribution's top-level files (and their bytecode) into ``site``."""
    base = Path(str(dist.locate_file("")))
    for file in dist.files or ():
        top = file.parts[0]
        if top == ".." or top.endswith(".data"):
            continue  # scripts and data outside site-packages
        if top == "__pycache__":  # bytecode of a top-level module, e.g. six.py
            target = site / file.as_posix()
            target.parent.mkdir(exist_ok=True)
            if not target.exists():
                target.symlink_to(base / file.as_posix())
        elif not (site / top).exists():
            (site / top).symlink_to(base / top)


@dataclass(frozen=True)
class Deployment:
    """One function as Lambda would run it."""

    task: Path  # /var/task
    layers: tuple[Path, ...]  # each layer's /opt
    handler: Path

    def python_path(self) -> str:
        """``sys.path`` before the runtime's: Lambda's order."""
        entries = [self.task]
        for opt in self.layers:
            entries += [opt / "python" / "lib" / "python3.11" / "site-packages", opt / "python"]
        return os.pathsep.join(str(entry) for entry in entries)


class Layout:
    """The deployments of a benchmark run, under ``root``; read-only while measured."""

    def __init__(self, root: Path, template: Template, functions: dict[str, str]) -> None:
        """``functions`` maps a name to its LogicalId (``floor`` is the bench's own baseline)."""
        self.root = root
        self.python = self._runtime(root / "runtime")
        self._deployments: dict[tuple[str, str], Deployment] = {}
        layers = [r.logical_id for r in template.resources.values() if r.kind == LAYER]
        floor_build = self._build_floor(root / "floor-build")
        for variant in VARIANTS:
            with_bytecode = variant == "shipped"
            opts: list[Path] = []
            for layer in layers:
                opt = root / variant / "opt" / layer
                zip_round_trip(BUILD_DIR / layer, opt, with_bytecode=with_bytecode)
                opts.append(opt)
            builds = {name: BUILD_DIR / logical_id for name, logical_id in functions.items()}
            builds["floor"] = floor_build
            for name, build in builds.items():
                task = root / variant / "task" / name
                zip_round_trip(build, task, with_bytecode=with_bytecode)
                deployed_layers = () if name == "floor" else tuple(opts)
                self._deployments[(variant, name)] = Deployment(
                    task, deployed_layers, task / "app.py"
                )
        set_writable(root, writable=False)
        self._files = self._snapshot()

    def deployment(self, variant: str, name: str) -> Deployment:
        return self._deployments[(variant, name)]

    def readonly_prefix(self) -> tuple[list[str], str]:
        """Argv prefix that makes the read-only copy read-only for the child too, and how."""
        if os.geteuid() != 0:
            return [], "files read-only (mode a-w)"
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            return [], "files mode a-w, but root ignores it (no setpriv to drop CAP_DAC_OVERRIDE)"
        return (
            [setpriv, "--bounding-set=-dac_override", "--"],
            "files read-only (mode a-w; the child runs without CAP_DAC_OVERRIDE)",
        )

    def check_untouched(self) -> None:
        """Nothing was written to the deployments while measured."""
        added = sorted(set(self._snapshot()) - set(self._files))
        if added:
            raise LayoutError(f"a measured process wrote into the deployment: {added[:5]}")

    def close(self) -> None:
        set_writable(self.root, writable=True)

    def _snapshot(self) -> list[str]:
        return [str(p) for p in _walk(self.root / "shipped")] + [
            str(p) for p in _walk(self.root / "nopyc")
        ]

    @staticmethod
    def _runtime(home: Path) -> Path:
        """A venv with only boto3's distributions: the Lambda runtime's interpreter."""
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(home)],
            check=True,
            capture_output=True,
        )
        (site,) = home.glob("lib/python*/site-packages")
        for dist in _runtime_closure(RUNTIME_PACKAGES):
            _link_distribution(dist, site)
        return home / "bin" / "python"

    @staticmethod
    def _build_floor(target: Path) -> Path:
        """The floor handler, built by lambda-build/Makefile like every function."""
        with tempfile.TemporaryDirectory(prefix="tpns-bench-floor-") as source:
            shutil.copy(Path(__file__).with_name("floor_handler.py"), Path(source) / "app.py")
            done = subprocess.run(
                [
                    "make",
                    "--no-print-directory",
                    "-s",
                    "-f",
                    str(PACKAGING_MAKEFILE),
                    "build-FloorFunction",
                    f"ARTIFACTS_DIR={target}",
                ],
                cwd=source,
                capture_output=True,
                text=True,
                check=False,
            )
        if done.returncode != 0:
            raise LayoutError(f"lambda-build/Makefile could not build the floor: {done.stderr}")
        return target


# -- CPU share --------------------------------------------------------------------------------

CGROUP_ROOT = Path("/sys/fs/cgroup")
CFS_PERIOD_US = 20_000  # ours: Lambda does not document its scheduler's period
MIN_QUOTA_US = 1_000  # the kernel's smallest CFS quota


def share_of(memory_mb: int) -> float:
    """The vCPUs Lambda gives ``memory_mb``."""
    return memory_mb / FULL_VCPU_MB


class CpuShare:
    """A cgroup (v2 ``cpu.max`` or v1 CFS quota) capping its processes at a memory size's CPU."""

    def __init__(self, memory_mb: int, name: str, root: Path = CGROUP_ROOT) -> None:
        quota = max(MIN_QUOTA_US, round(CFS_PERIOD_US * share_of(memory_mb)))
        self.memory_mb = memory_mb
        v2 = "cpu" in _read(root / "cgroup.subtree_control").split()
        self.path = root / name if v2 else root / "cpu" / name
        self.path.mkdir()
        try:
            if v2:
                (self.path / "cpu.max").write_text(f"{quota} {CFS_PERIOD_US}\n")
            else:
                (self.path / "cpu.cfs_period_us").write_text(f"{CFS_PERIOD_US}\n")
                (self.path / "cpu.cfs_quota_us").write_text(f"{quota}\n")
        except OSError:
            self.close()
            raise

    def prefix(self) -> list[str]:
        """Argv prefix: a shell that joins the cgroup, then execs the command."""
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs")]

    def close(self) -> None:
        for _ in range(50):  # tasks that just exited may linger a moment
            try:
                self.path.rmdir()
            except OSError:
                time.sleep(0.02)
            else:
                return


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def cpu_share_support(root: Path = CGROUP_ROOT) -> str | None:
    """None if CPU quotas can be set here, else why not."""
    probe = f"tpns-bench-probe-{os.getpid()}"
    try:
        CpuShare(128, probe, root).close()
    except OSError as exc:
        return f"no writable cgroup CPU quota ({root}: {exc.strerror or exc})"
    return None
