"""The ``sam build`` artifact ships bytecode that Lambda uses as shipped.

Lambda's /opt and /var/task are read-only: without a usable .pyc, every cold start compiles every
module it imports. ``lambda-build/Makefile`` (the template's ``BuildMethod: makefile``) writes one
unchecked-hash .pyc per .py for the runtime's Python; these tests read the artifact that
``make sam-build`` produced (``make test`` builds it before running them).
"""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import py_compile
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.lambda_env import BUILD_DIR, LayoutError, check_fresh, set_writable, zip_round_trip
from bench.template import Template

# CPython 3.11's bytecode magic: python3.11 is the template's Runtime.
RUNTIME_MAGIC = (3495).to_bytes(2, "little") + b"\r\n"
RUNTIME_CACHE_TAG = "cpython-311"
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, do not check the source
FUNCTIONS = (
    *("BindFunction", "UnbindFunction", "QueryFunction", "JobsFunction"),
    *("BulkFunction", "CleanupFunction", "VerifyFunction"),
)
LAYER = "TpnsLayer"


def pyc_problems(root: Path, runtime_root: str) -> list[str]:
    """Every .py under ``root`` without a valid unchecked-hash .pyc for the runtime, and why."""
    problems = []
    for source in sorted(root.rglob("*.py")):
        relative = source.relative_to(root)
        cached = source.parent / "__pycache__" / f"{source.stem}.{RUNTIME_CACHE_TAG}.pyc"
        if not cached.is_file():
            problems.append(f"{relative}: no {cached.name}")
            continue
        data = cached.read_bytes()
        flags = int.from_bytes(data[4:8], "little")
        if data[:4] != RUNTIME_MAGIC:
            problems.append(f"{relative}: magic {data[:4]!r} is not Python 3.11's")
        elif flags != UNCHECKED_HASH:
            problems.append(f"{relative}: flags {flags:#b}, not unchecked-hash")
        elif data[8:16] != importlib.util.source_hash(source.read_bytes()):
            problems.append(f"{relative}: the .pyc is of another source")
        elif marshal.loads(data[16:]).co_filename != f"{runtime_root}/{relative.as_posix()}":  # noqa: S302 - our build
            problems.append(f"{relative}: tracebacks would not name {runtime_root}/{relative}")
    return problems


@pytest.fixture(scope="module")
def build_dir() -> Path:
    """The artifact, checked to hold the tree's code (else the test would judge old code)."""
    assert importlib.util.MAGIC_NUMBER == RUNTIME_MAGIC, "run the tests on Python 3.11"
    try:
        check_fresh(Template.load())
    except LayoutError as exc:
        pytest.fail(str(exc))
    return BUILD_DIR


def test_every_module_of_the_layer_ships_an_unchecked_hash_pyc(build_dir: Path) -> None:
    # GIVEN the built layer, mounted at /opt by Lambda
    layer = build_dir / LAYER / "python"
    # THEN every .py, ours and the dependencies', has its Python 3.11 unchecked-hash .pyc
    assert len(list(layer.rglob("*.py"))) > 100
    assert pyc_problems(layer, "/opt/python") == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_ships_an_unchecked_hash_pyc(build_dir: Path, function: str) -> None:
    # GIVEN a built function, extracted to /var/task by Lambda
    task = build_dir / function
    # THEN its handler has its .pyc
    assert (task / "app.py").is_file()
    assert pyc_problems(task, "/var/task") == []


def test_the_check_finds_a_missing_or_timestamp_pyc(build_dir: Path, tmp_path: Path) -> None:
    # GIVEN a copy of a function whose .pyc is timestamp-based, and one without any
    stale = tmp_path / "stale"
    shutil.copytree(build_dir / "BindFunction", stale)
    py_compile.compile(
        str(stale / "app.py"),
        cfile=str(stale / "__pycache__" / f"app.{RUNTIME_CACHE_TAG}.pyc"),
        dfile="/var/task/app.py",
        invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP,
    )
    missing = tmp_path / "missing"
    shutil.copytree(build_dir / "BindFunction", missing, ignore=shutil.ignore_patterns("*.pyc"))
    # THEN the check reports both
    assert pyc_problems(stale, "/var/task") == ["app.py: flags 0b0, not unchecked-hash"]
    assert pyc_problems(missing, "/var/task") == ["app.py: no app.cpython-311.pyc"]


# Imports the handler as Lambda's runtime does and reports what was compiled from source.
IMPORT_HANDLER = """
import importlib, importlib.machinery, json, sys
compiled = []
loader = importlib.machinery.SourceFileLoader
original = loader.source_to_code
def source_to_code(self, data, path, *, _optimize=-1):
    compiled.append(str(path))
    return original(self, data, path, _optimize=_optimize)
loader.source_to_code = source_to_code
importlib.import_module("app")
roots = tuple(sys.argv[1:])
loaded = sorted(m.__name__ for m in list(sys.modules.values())
                if (getattr(m, "__file__", None) or "").startswith(roots))
print(json.dumps({"compiled": compiled, "loaded": loaded}))
"""


def import_deployed(task: Path, opt: Path) -> dict[str, list[str]]:
    """Import ``app`` from /var/task and /opt/python stand-ins, with no bytecode written."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{task}{os.pathsep}{opt / 'python'}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "tpns-bindings",
        "POWERTOOLS_METRICS_NAMESPACE": "TpnsBindings",
    }
    done = subprocess.run(
        [sys.executable, "-P", "-c", IMPORT_HANDLER, str(task), str(opt)],
        env=env,
        cwd=task,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def deployed(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The artifact through a zip round trip (new mtimes), read-only, as Lambda mounts it."""
    root = tmp_path_factory.mktemp("deployed")
    for name in (LAYER, *FUNCTIONS):
        zip_round_trip(build_dir / name, root / name, with_bytecode=True)
    zip_round_trip(build_dir / "BindFunction", root / "nopyc", with_bytecode=False)
    set_writable(root, writable=False)
    yield root
    set_writable(root, writable=True)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_importing_a_handler_from_the_artifact_compiles_nothing(
    deployed: Path, function: str
) -> None:
    # WHEN the handler is imported from the deployed artifact with no bytecode written
    result = import_deployed(deployed / function, deployed / LAYER)
    # THEN its modules, the layer's and Powertools' came from the artifact
    loaded = result["loaded"]
    assert "app" in loaded
    assert {"tpns_account", "tpns_api", "aws_lambda_powertools"} <= set(loaded)
    # AND nothing was compiled from source: every one of them used its shipped .pyc
    assert result["compiled"] == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_handler_imports_the_lambda_context_type_for_type_checking_only(
    deployed: Path, function: str
) -> None:
    # WHEN the handler is imported from the deployed artifact
    loaded = import_deployed(deployed / function, deployed / LAYER)["loaded"]
    # THEN Powertools' typing module, which only annotates the handler, was not loaded
    assert "aws_lambda_powertools.utilities.typing" not in loaded


def test_a_handler_without_its_pyc_is_compiled_and_seen(deployed: Path) -> None:
    # WHEN bind's handler, stripped of its .pyc, is imported the same way
    result = import_deployed(deployed / "nopyc", deployed / LAYER)
    # THEN the import compiled exactly that module from source, and the check sees it
    assert result["compiled"] == [str(deployed / "nopyc" / "app.py")]
