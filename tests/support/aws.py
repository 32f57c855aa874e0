"""A fake AWS environment and typed boto3 clients to the moto server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from mypy_boto3_dynamodb import DynamoDBClient
from mypy_boto3_s3 import S3Client
from mypy_boto3_secretsmanager import SecretsManagerClient
from mypy_boto3_sqs import SQSClient

REGION = "us-east-1"

# Fake credentials, so nothing can ever reach a real account.
FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}

# make_secret(value) -> the name of a new secret holding ``value`` as JSON.
MakeSecret = Callable[[dict[str, Any]], str]


def sqs_client(endpoint: str) -> SQSClient:
    return boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)


def s3_client(endpoint: str) -> S3Client:
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION)


def secretsmanager_client(endpoint: str) -> SecretsManagerClient:
    return boto3.client("secretsmanager", endpoint_url=endpoint, region_name=REGION)


def dynamodb_client(endpoint: str) -> DynamoDBClient:
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
