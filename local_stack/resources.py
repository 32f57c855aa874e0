"""The template's queues, buckets, tables and secret, created in moto as a deploy creates them.

Only what the functions reach is created: SQS queues (attributes, then the redrive policies once
every queue exists), S3 buckets, DynamoDB tables (keys, indexes, billing, TTL) and the TPNS
secret. ``Ref`` and ``GetAtt`` values of each are recorded for the functions' environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local_stack.template import Physical, Template, TemplateError, number

QUEUE = "AWS::SQS::Queue"
BUCKET = "AWS::S3::Bucket"
TABLE = "AWS::DynamoDB::Table"
FUNCTION = "AWS::Serverless::Function"
REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    attributes: dict[str, str]
    dead_letter_queue: str | None = None
    max_receive_count: int | None = None


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    definition: dict[str, Any]
    ttl_attribute: str | None = None


@dataclass
class Resources:
    """What the template declares that the local stack creates."""

    queues: dict[str, QueueSpec] = field(default_factory=dict)
    buckets: list[str] = field(default_factory=list)
    tables: dict[str, TableSpec] = field(default_factory=dict)


def declared(template: Template) -> Resources:
    """The queues (attributes, redrive), buckets and tables, resolvable before anything exists."""
    found = Resources()
    for logical_id, resource in template.resources.items():
        kind = resource.get("Type")
        properties = resource.get("Properties", {})
        if kind == BUCKET:
            found.buckets.append(logical_id)
        elif kind == QUEUE:
            found.queues[logical_id] = _queue(template, logical_id, properties)
        elif kind == TABLE:
            found.tables[logical_id] = _table(template, logical_id, properties)
    return found


def _queue(template: Template, logical_id: str, properties: dict[str, Any]) -> QueueSpec:
    attributes: dict[str, str] = {
        name: str(template.resolve(properties[name], Physical()))
        for name in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")
        if name in properties
    }
    redrive = properties.get("RedrivePolicy")
    if not redrive:
        return QueueSpec(logical_id, attributes)
    target = redrive.get("deadLetterTargetArn", {})
    if not (isinstance(target, dict) and "Fn::GetAtt" in target):
        raise TemplateError(f"{logical_id}: deadLetterTargetArn must be !GetAtt Queue.Arn")
    receives = template.resolve(redrive["maxReceiveCount"], Physical())
    return QueueSpec(logical_id, attributes, target["Fn::GetAtt"][0], int(number(receives, "")))


def _table(template: Template, logical_id: str, properties: dict[str, Any]) -> TableSpec:
    resolved = template.resolve(properties, Physical())
    definition = {
        key: resolved[key]
        for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes")
        if key in resolved
    }
    definition["BillingMode"] = resolved.get("BillingMode", "PAY_PER_REQUEST")
    ttl = resolved.get("TimeToLiveSpecification") or {}
    enabled = str(ttl.get("Enabled", "false")).lower() == "true"
    return TableSpec(logical_id, definition, ttl.get("AttributeName") if enabled else None)


def create(
    template: Template,
    client: Callable[[str], Any],
    secret_value: str,
    stack: str,
) -> Physical:
    """Create everything ``declared`` in moto (``client(service)`` gives its clients)."""
    physical = Physical()
    resources = declared(template)
    _create_queues(client("sqs"), resources.queues, stack, physical)
    s3 = client("s3")
    for logical_id in resources.buckets:
        name = f"{stack}-{logical_id}".lower()
        s3.create_bucket(Bucket=name)
        physical.refs[logical_id] = name
        physical.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
    dynamodb = client("dynamodb")
    for logical_id, spec in resources.tables.items():
        name = f"{stack}-{logical_id}"
        dynamodb.create_table(TableName=name, **spec.definition)
        if spec.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": spec.ttl_attribute, "Enabled": True},
            )
        physical.refs[logical_id] = name
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        physical.attributes[(logical_id, "Arn")] = arn
    client("secretsmanager").create_secret(
        Name=template.parameters["TpnsSecretId"], SecretString=secret_value
    )
    for logical_id, resource in template.resources.items():
        if resource.get("Type") == FUNCTION:
            physical.refs[logical_id] = f"{stack}-{logical_id}"
    return physical


def _create_queues(sqs: Any, queues: dict[str, QueueSpec], stack: str, physical: Physical) -> None:
    for logical_id, spec in queues.items():
        name = f"{stack}-{logical_id}"
        url = sqs.create_queue(QueueName=name, Attributes=spec.attributes)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        physical.refs[logical_id] = url
        physical.attributes |= {
            (logical_id, "Arn"): attributes["Attributes"]["QueueArn"],
            (logical_id, "QueueName"): name,
            (logical_id, "QueueUrl"): url,
        }
    for logical_id, spec in queues.items():
        if not spec.dead_letter_queue:
            continue
        if spec.dead_letter_queue not in queues:
            raise TemplateError(f"{logical_id}: dead-letter queue is not a queue")
        policy = {
            "deadLetterTargetArn": physical.attributes[(spec.dead_letter_queue, "Arn")],
            "maxReceiveCount": spec.max_receive_count,
        }
        sqs.set_queue_attributes(
            QueueUrl=physical.refs[logical_id], Attributes={"RedrivePolicy": json.dumps(policy)}
        )
