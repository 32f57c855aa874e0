"""Where the CLI's requests go: the local stack, or a deployed stack, resolved lazily.

``--local STATE_DIR`` reads the stack's ``endpoints.json`` (API URL, key file, moto endpoint,
the template's outputs). Otherwise the API is ``--api URL`` (or ``TPNS_BINDINGS_API_URL``, or
the ``ApiUrl`` output of ``--stack NAME``), called with ``--api-key`` (or
``TPNS_BINDINGS_API_KEY``) if given, else SigV4-signed with your AWS credentials; the queues
are ``--queue-url`` / ``--dlq-url`` or the stack's ``BulkQueueUrl`` /
``BulkDeadLetterQueueUrl`` outputs. Only what a command uses is looked up.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from tpns_cli.api import ApiClient, ApiKeyAuth, SigV4, require_region
from tpns_cli.errors import TargetError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

API_URL_ENV: Final = "TPNS_BINDINGS_API_URL"
API_KEY_ENV: Final = "TPNS_BINDINGS_API_KEY"
#: The local stack's moto takes any credentials; these never leave loopback.
LOCAL_ACCESS_KEY: Final = "local"


@dataclass(frozen=True, slots=True)
class Queues:
    """The bulk queue and its dead-letter queue, with an SQS client that reaches them."""

    sqs: SQSClient
    queue_url: str
    dlq_url: str


@dataclass
class Target:
    """The options naming a target; ``api()`` and ``queues()`` resolve what each command needs."""

    local: Path | None = None
    api_url: str | None = None
    api_key: str | None = None
    stack: str | None = None
    region: str | None = None
    profile: str | None = None
    queue_url: str | None = None
    dlq_url: str | None = None
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def api(self) -> ApiClient:
        if self.local is not None:
            endpoints = self._endpoints
            return ApiClient(str(endpoints["api"]), ApiKeyAuth(self._local_key()))
        url = self.api_url or self.environ.get(API_URL_ENV) or self._outputs.get("ApiUrl")
        if not url:
            raise TargetError(
                "no API to talk to: pass --local STATE_DIR (the local stack), --api URL "
                f"(or set {API_URL_ENV}) or --stack NAME (its ApiUrl output)"
            )
        key = self.api_key or self.environ.get(API_KEY_ENV)
        if key:
            return ApiClient(url, ApiKeyAuth(key))
        credentials = self._session.get_credentials()
        if credentials is None:
            raise TargetError(
                "no AWS credentials to sign requests with (IAM auth): configure them (aws "
                f"configure, AWS_PROFILE, --profile) or pass --api-key / {API_KEY_ENV}"
            )
        region = require_region(url, self.region or self._session.region_name)
        return ApiClient(url, SigV4(credentials, region))

    def queues(self) -> Queues:
        if self.local is not None:
            endpoints = self._endpoints
            outputs = endpoints.get("outputs", {})
            session = boto3.session.Session(
                aws_access_key_id=LOCAL_ACCESS_KEY,
                aws_secret_access_key=LOCAL_ACCESS_KEY,
                region_name=endpoints["region"],
            )
            sqs = session.client("sqs", endpoint_url=str(endpoints["aws"]))
            return Queues(sqs, outputs["BulkQueueUrl"], outputs["BulkDeadLetterQueueUrl"])
        queue = self.queue_url or self._outputs.get("BulkQueueUrl")
        dlq = self.dlq_url or self._outputs.get("BulkDeadLetterQueueUrl")
        if not queue or not dlq:
            raise TargetError(
                "no queues: pass --local STATE_DIR, --stack NAME (its BulkQueueUrl and "
                "BulkDeadLetterQueueUrl outputs), or both --queue-url and --dlq-url"
            )
        return Queues(self._session.client("sqs"), queue, dlq)

    @cached_property
    def _endpoints(self) -> dict[str, Any]:
        assert self.local is not None
        path = self.local / "endpoints.json"
        try:
            endpoints: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            raise TargetError(
                f"no local stack running with state in {self.local} (no {path}): start it with "
                "make run, or python -m local_stack --state-dir ..."
            ) from None
        return endpoints

    def _local_key(self) -> str:
        try:
            return Path(self._endpoints["api_key_file"]).read_text().strip()
        except (OSError, KeyError):
            raise TargetError(f"cannot read the local stack's API key (see {self.local})") from None

    @cached_property
    def _session(self) -> boto3.session.Session:
        try:
            return boto3.session.Session(profile_name=self.profile, region_name=self.region)
        except BotoCoreError as exc:
            raise TargetError(f"AWS configuration: {exc}") from None

    @cached_property
    def _outputs(self) -> dict[str, str]:
        """The stack's outputs (``describe_stacks``), or nothing without ``--stack``."""
        if self.stack is None:
            return {}
        try:
            answer: Any = self._session.client("cloudformation").describe_stacks(
                StackName=self.stack
            )
        except (BotoCoreError, ClientError) as exc:
            raise TargetError(f"--stack {self.stack}: cannot read its outputs ({exc})") from None
        stacks = answer.get("Stacks") or [{}]
        return {
            str(output["OutputKey"]): str(output["OutputValue"])
            for output in stacks[0].get("Outputs", [])
        }
