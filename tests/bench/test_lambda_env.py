"""How the benchmark runs functions as Lambda does: CPU quotas, artifact freshness, import times.

These are the pieces whose mistakes would silently skew the figures, so they are checked against
fake cgroup trees and artifacts rather than trusted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cold import parse_importtime
from bench.lambda_env import CpuShare, LayoutError, check_fresh, cpu_share_support
from bench.template import Resource, Template
from local_stack.template import FUNCTION, LAYER


def test_a_v1_cpu_share_is_the_memory_size_fraction_of_a_cpu(tmp_path: Path) -> None:
    # GIVEN a cgroup v1 tree with the cpu controller
    (tmp_path / "cpu").mkdir()
    # WHEN a share for 128 MB is made
    share = CpuShare(128, "probe", tmp_path)
    # THEN its quota is 128/1769 of its period, and processes join it through cgroup.procs
    group = tmp_path / "cpu" / "probe"
    assert (group / "cpu.cfs_period_us").read_text() == "20000\n"
    assert (group / "cpu.cfs_quota_us").read_text() == "1447\n"
    assert share.prefix()[-1] == str(group / "cgroup.procs")
    # AND closing it removes the group (a real cgroupfs has no files to delete first)
    for name in ("cpu.cfs_period_us", "cpu.cfs_quota_us"):
        (group / name).unlink()
    share.close()
    assert not group.exists()


def test_a_v2_cpu_share_writes_cpu_max(tmp_path: Path) -> None:
    # GIVEN a cgroup v2 tree whose root delegates the cpu controller
    (tmp_path / "cgroup.subtree_control").write_text("cpu io memory\n")
    # WHEN a share for 1024 MB is made
    CpuShare(1024, "probe", tmp_path)
    # THEN cpu.max holds "quota period"
    assert (tmp_path / "probe" / "cpu.max").read_text() == "11577 20000\n"


def test_no_cpu_controller_means_no_share_and_says_why(tmp_path: Path) -> None:
    # GIVEN a tree with neither a v1 cpu controller nor a v2 one delegated
    # WHEN support is checked
    reason = cpu_share_support(tmp_path)
    # THEN it is refused with the reason, and nothing is left behind
    assert reason is not None
    assert "no writable cgroup CPU quota" in reason
    assert list(tmp_path.iterdir()) == []


def _artifact(tmp_path: Path) -> tuple[Template, Path]:
    source = tmp_path / "functions" / "bind"
    source.mkdir(parents=True)
    (source / "app.py").write_text("x = 1\n")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"local cache")
    layer = tmp_path / "layers" / "tpns"
    (layer / "pkg").mkdir(parents=True)
    (layer / "pkg" / "__init__.py").write_text("y = 2\n")
    build = tmp_path / "build"
    (build / "BindFunction").mkdir(parents=True)
    (build / "BindFunction" / "app.py").write_text("x = 1\n")
    (build / "TpnsLayer" / "python" / "pkg").mkdir(parents=True)
    (build / "TpnsLayer" / "python" / "pkg" / "__init__.py").write_text("y = 2\n")
    template = Template(
        {},
        {
            "BindFunction": Resource("BindFunction", FUNCTION, source, None),
            "TpnsLayer": Resource("TpnsLayer", LAYER, layer, None),
        },
    )
    return template, build


def test_an_artifact_holding_the_tree_is_fresh(tmp_path: Path) -> None:
    # GIVEN an artifact with every source file (the tree's own bytecode cache is not shipped)
    template, build = _artifact(tmp_path)
    # THEN it passes
    check_fresh(template, build)


def test_an_artifact_older_than_the_tree_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an artifact whose layer lacks a change made in the tree since it was built
    template, build = _artifact(tmp_path)
    monkeypatch.setattr("bench.lambda_env.ROOT", tmp_path)
    (tmp_path / "layers" / "tpns" / "pkg" / "__init__.py").write_text("y = 3\n")
    # THEN it is refused, naming the file and what to run
    with pytest.raises(LayoutError, match=r"TpnsLayer is older than layers/tpns/pkg/__init__.py"):
        check_fresh(template, build)
    # AND so is an artifact that is not there
    with pytest.raises(LayoutError, match="make sam-build"):
        check_fresh(template, tmp_path / "missing")


def test_import_times_are_summed_per_module_and_the_header_skipped() -> None:
    # GIVEN -X importtime output with its header, nesting and a module seen twice
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       120 |        120 |   _io\n"
        "import time:      1500 |       2000 |     tpns_account.models\n"
        "import time:        30 |         30 |   _io\n"
        "not an import line\n"
    )
    # THEN each module's self time is kept, summed when imported twice
    assert parse_importtime(stderr) == {"_io": 150.0, "tpns_account.models": 1500.0}
