"""Cleanup runs against a real S3 bucket and the bulk queue (moto server)."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from tests.bulk.conftest import bulk  # noqa: F401  (the bulk queue, DLQ and function)
from tests.conftest import REGION


@pytest.fixture
def s3(moto_endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"cleanup-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    return name
