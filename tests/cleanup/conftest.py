"""Cleanup runs against a real S3 bucket and the bulk queue (moto server)."""

from __future__ import annotations

import uuid

import pytest
from mypy_boto3_s3 import S3Client

from tests.support.aws import s3_client


@pytest.fixture
def s3(moto_endpoint: str) -> S3Client:
    return s3_client(moto_endpoint)


@pytest.fixture
def bucket(s3: S3Client) -> str:
    """A fresh, empty cleanup bucket; its name."""
    name = f"cleanup-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    return name
