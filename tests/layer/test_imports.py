"""Importing the layer stays cheap: boto3 and Powertools load only when a secret is read."""

from __future__ import annotations

import subprocess
import sys

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
