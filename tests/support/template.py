"""template.yaml as the template tests see it: loaded, transformed offline, and looked into.

Three views of the template (the fixtures of tests/template/conftest.py):

- ``sam_template``: the SAM source as written (intrinsic short forms decoded).
- ``transform(**params)``: what CloudFormation receives after the SAM transform, with the given
  parameter values (conditions and ``Fn::If`` still unresolved, as cfn-lint should see them).
- ``deployed(**params)``: the transformed template as it would be deployed with those values:
  conditions evaluated, resources and outputs whose condition is false dropped, every ``Fn::If``
  replaced by its chosen branch and ``AWS::NoValue`` removed.

No network and no AWS account: the managed-policy loader is a stub, the region is fixed. The
rest are constants and pure helpers over CloudFormation templates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from cfnlint.decode.decode import decode_str

from tests.support.aws import REGION
from tests.support.paths import TEMPLATE_PATH

ACCOUNT_ID = "123456789012"
PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "tpns-bindings",
}

# The template has one required parameter (no default); everything else keeps its default.
REQUIRED_PARAMETERS = {"TpnsSecretId": "tpns/prod"}
# The API's two ways of authenticating callers (the ApiAuthMode parameter); none leaves it open.
AUTH_MODES = ("IAM", "API_KEY")
# A customer-managed key for the secret (the optional TpnsSecretKmsKeyArn parameter).
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

BASIC_EXECUTION_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# Lambda's active tracing writes segments with it (SAM attaches it when Tracing is set).
XRAY_WRITE_ONLY = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
# Behind API Gateway: each answers within its 29 s timeout.
API_FUNCTIONS = ("BindFunction", "UnbindFunction", "QueryFunction", "JobsFunction")
# Every function: the API ones, the bulk queue consumer, the scheduled cleanup, and the
# verify queue consumer (which exists only with LedgerMode on).
FUNCTIONS = (*API_FUNCTIONS, "BulkFunction", "CleanupFunction", "VerifyFunction")
LEDGER_ONLY_FUNCTIONS = ("VerifyFunction",)
# The functions that call TPNS, and so read its secret (cleanup only queues messages).
SECRET_READERS = (*API_FUNCTIONS, "BulkFunction", "VerifyFunction")
# The only resources a policy may name with a wildcard: the cleanup bucket's three prefixes,
# and the exports' prefix.
CLEANUP_PREFIXES = ("pending", "done", "state")
CLEANUP_OBJECT_RESOURCES = tuple(
    f"${{CleanupBucket.Arn}}/{prefix}/*" for prefix in CLEANUP_PREFIXES
)
EXPORT_OBJECTS = "${CleanupBucket.Arn}/exports/*"

Template = dict[str, Any]
# transform(**parameter_overrides) and deployed(**parameter_overrides) -> a template.
Transform = Callable[..., Template]
NO_VALUE = object()


class StubManagedPolicyLoader:
    """Stands in for the IAM ListPolicies call SAM makes for policies it does not know."""

    def load(self) -> dict[str, str]:
        return {"AWSLambdaBasicExecutionRole": BASIC_EXECUTION_ROLE}


def load_template() -> Template:
    """template.yaml as written, intrinsic short forms (``!Ref``...) decoded."""
    template, errors = decode_str(TEMPLATE_PATH.read_text(encoding="utf-8"))
    assert not errors, errors
    assert template is not None
    # cfn-lint's nodes carry line marks; plain JSON types are what the translator expects.
    plain: Template = json.loads(json.dumps(template))
    return plain


def with_s3_code_uris(template: Template) -> Template:
    """What `sam package` does before the transform: local code paths become S3 URIs."""
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = "s3://artifacts/" + properties[key].strip("/")
    return template


def apply_conditions(template: Template, overrides: dict[str, str]) -> Template:
    """The transformed template as deployed with those parameters: conditions applied."""
    params = parameter_values(template, {**REQUIRED_PARAMETERS, **overrides})
    conditions = evaluate_conditions(template, params)
    for section in ("Resources", "Outputs"):
        template[section] = {
            name: body
            for name, body in template.get(section, {}).items()
            if conditions.get(body.get("Condition", ""), True)
        }
    resolved: Template = resolve_ifs(template, conditions)
    return resolved


def parameter_values(template: Template, overrides: dict[str, str]) -> dict[str, str]:
    values = {
        name: str(spec["Default"])
        for name, spec in template.get("Parameters", {}).items()
        if "Default" in spec
    }
    values.update(overrides)
    return values


def evaluate_conditions(template: Template, params: dict[str, str]) -> dict[str, bool]:
    definitions = template.get("Conditions", {})
    results: dict[str, bool] = {}

    def value(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        ((fn, arg),) = node.items()
        match fn:
            case "Ref":
                return {**PSEUDO_PARAMETERS, **params}[arg]
            case "Condition":
                return condition(arg)
            case "Fn::Equals":
                return str(value(arg[0])) == str(value(arg[1]))
            case "Fn::Not":
                return not value(arg[0])
            case "Fn::And":
                return all(value(item) for item in arg)
            case "Fn::Or":
                return any(value(item) for item in arg)
            case "Fn::Split":
                return str(value(arg[1])).split(arg[0])
            case "Fn::Select":
                return value(arg[1])[int(arg[0])]
        raise AssertionError(f"condition function {fn} not supported by the test helper")

    def condition(name: str) -> bool:
        if name not in results:
            results[name] = bool(value(definitions[name]))
        return results[name]

    for name in definitions:
        condition(name)
    return results


def resolve_ifs(node: Any, conditions: dict[str, bool]) -> Any:
    """Replace every Fn::If by its chosen branch; drop AWS::NoValue."""

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            if set(item) == {"Fn::If"}:
                name, when_true, when_false = item["Fn::If"]
                return walk(when_true if conditions[name] else when_false)
            if item == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            walked = {key: walk(value) for key, value in item.items()}
            return {key: value for key, value in walked.items() if value is not NO_VALUE}
        if isinstance(item, list):
            return [value for value in (walk(entry) for entry in item) if value is not NO_VALUE]
        return item

    return walk(node)


def render(node: Any, params: dict[str, str]) -> Any:
    """Render Ref / Fn::Sub over parameters and pseudo parameters into plain strings.

    References to resources (``${BulkQueue.Arn}``, ``Ref: TpnsApi``) are left as they are.
    """
    values = {**PSEUDO_PARAMETERS, **params}
    if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in values:
        return values[node["Ref"]]
    if isinstance(node, dict) and set(node) == {"Fn::Sub"}:
        arg = node["Fn::Sub"]
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        local = {name: render(value, params) for name, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            replacement = local.get(name, values.get(name))
            return replacement if isinstance(replacement, str) else match.group(0)

        return re.sub(r"\$\{([^}]+)\}", substitute, text)
    return node


def resources_of_type(template: Template, resource_type: str) -> dict[str, Any]:
    return {
        name: body for name, body in template["Resources"].items() if body["Type"] == resource_type
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def iam_statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """(owner, statement) for every statement of every identity policy the template creates."""
    for name, body in template["Resources"].items():
        properties = body.get("Properties", {})
        if body["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                for statement in as_list(policy["PolicyDocument"]["Statement"]):
                    yield name, statement
        elif body["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            for statement in as_list(properties["PolicyDocument"]["Statement"]):
                yield name, statement


def role_statements(template: Template, role: str) -> list[dict[str, Any]]:
    """Every statement a role holds: its inline policies, the template's managed policies it
    attaches, and those that attach themselves to it (``Roles``)."""
    properties = template["Resources"][role]["Properties"]
    statements = [
        statement
        for policy in properties.get("Policies", [])
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]
    for arn in properties.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn:
            document = template["Resources"][arn["Ref"]]["Properties"]["PolicyDocument"]
            statements.extend(as_list(document["Statement"]))
    for policy in resources_of_type(template, "AWS::IAM::ManagedPolicy").values():
        if {"Ref": role} in policy["Properties"].get("Roles", []):
            statements.extend(as_list(policy["Properties"]["PolicyDocument"]["Statement"]))
    return statements


def grants(
    template: Template, function: str, service: str, params: dict[str, str] | None = None
) -> list[tuple[Any, Any]]:
    """(Action, rendered Resource) of every statement of the function's role on the service."""
    values = {**REQUIRED_PARAMETERS, **(params or {})}
    return [
        (
            statement["Action"],
            [render(item, values) for item in statement["Resource"]]
            if isinstance(statement["Resource"], list)
            else render(statement["Resource"], values),
        )
        for statement in role_statements(template, role_of(template, function))
        if any(action.startswith(f"{service}:") for action in as_list(statement["Action"]))
    ]


def role_of(template: Template, function: str) -> str:
    role = template["Resources"][function]["Properties"]["Role"]
    assert isinstance(role, dict), f"{function} must use a role of the template"
    name: str = role["Fn::GetAtt"][0]
    return name
