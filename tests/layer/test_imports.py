"""Importing the layer stays cheap: boto3 and Powertools load only when a secret is read."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import subprocess
import sys

import tpns_account
import tpns_api
from tests.support.paths import LAYER_DIR


def test_importing_the_package_does_not_import_boto3_or_powertools() -> None:
    # GIVEN a fresh interpreter that sees only the layer
    code = (
        "import sys, tpns_account\n"
        "heavy = ('boto3', 'botocore', 'aws_lambda_powertools', 'pydantic')\n"
        "print(','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    # WHEN it imports tpns_account and lists the heavy modules loaded
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(LAYER_DIR)},
    )
    # THEN none of them is
    assert out.stdout.strip() == ""


def test_no_class_of_the_layer_is_a_dataclass() -> None:
    # GIVEN every module of the layer, imported
    modules = [
        importlib.import_module(info.name)
        for package in (tpns_account, tpns_api)
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
    ]
    # WHEN its classes are listed
    classes = [
        f"{module.__name__}.{name}"
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, type)
        and value.__module__ == module.__name__
        and dataclasses.is_dataclass(value)
    ]
    # THEN none is a dataclass: each would compile its methods on every cold start (Value)
    assert classes == []
