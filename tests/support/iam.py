"""The IAM actions a client's DynamoDB requests need, recorded as they are made."""

from __future__ import annotations

from typing import Any

from mypy_boto3_dynamodb import DynamoDBClient

from tests.support.template import Template, as_list

#: What each write of a TransactWriteItems is authorised by (AWS: "Using IAM with DynamoDB
#: transactions"): the action of the write it stands for, and ConditionCheckItem for a check.
TRANSACT_WRITE_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


class DynamoActions:
    """Every IAM action the requests of one client have needed since ``record``."""

    def __init__(self) -> None:
        self.actions: set[str] = set()

    def record(self, client: DynamoDBClient) -> DynamoActions:
        client.meta.events.register("before-parameter-build.dynamodb", self._called)
        return self

    def _called(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == "TransactWriteItems":
            for write in params["TransactItems"]:
                self.actions.update(TRANSACT_WRITE_ACTIONS[kind] for kind in write)
        elif model.name == "TransactGetItems":
            self.actions.add("dynamodb:GetItem")
        else:
            self.actions.add(f"dynamodb:{model.name}")


def policy_actions(template: Template, *policies: str) -> set[str]:
    """The DynamoDB actions the template's managed policies allow."""
    return {
        action
        for policy in policies
        for statement in template["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
        if action.startswith("dynamodb:")
    }
