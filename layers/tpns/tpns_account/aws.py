"""The bundle's AWS clients, made by botocore from one session per process.

boto3's client is botocore's; what boto3 adds (resources, S3 managed transfers) the bundle does
not use, and importing it costs a cold start ~15 ms more than botocore alone (``s3transfer``,
``multiprocessing``...; measured in ``BENCHMARKS.md``). One session, so
that every client of the process (Secrets Manager, DynamoDB, SQS, S3) shares the service data
and credentials it has loaded; a session per client would load them again. botocore is
imported on the first client, never with this module.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Literal, overload

if TYPE_CHECKING:
    from botocore.config import Config
    from botocore.session import Session
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

# One lock for the session and every client made from it: a botocore session is not
# thread-safe, and a process makes only a few clients.
_lock = threading.Lock()
_session: Session | None = None


def _the_session() -> Session:
    """The session, made on first use (``_lock`` held)."""
    global _session
    if _session is None:
        import botocore.session

        _session = botocore.session.get_session()
    return _session


def session() -> Session:
    """The process's botocore session (its events are where a caller hooks every call)."""
    with _lock:
        return _the_session()


@overload
def client(
    service: Literal["secretsmanager"], config: Config | None = None
) -> SecretsManagerClient: ...
@overload
def client(service: Literal["dynamodb"], config: Config | None = None) -> DynamoDBClient: ...
@overload
def client(service: Literal["sqs"], config: Config | None = None) -> SQSClient: ...
@overload
def client(service: Literal["s3"], config: Config | None = None) -> S3Client: ...
def client(service: str, config: Config | None = None) -> object:
    """A client of ``service``, configured by the environment (region, credentials,
    ``AWS_ENDPOINT_URL``) as a boto3 client would be."""
    with _lock:
        return _the_session().create_client(service, config=config)
