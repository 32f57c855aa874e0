"""template.yaml, operations: access logs, tracing, encryption keys, concurrency, versioning,
compression, and the scanners' findings (AWS Labs' serverless rules here; checkov runs in
``make scan``), each suppression with its reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from tests.support.aws import REGION
from tests.support.paths import TEMPLATE_PATH
from tests.support.template import (
    API_FUNCTIONS,
    FUNCTIONS,
    KMS_KEY_ARN,
    REQUIRED_PARAMETERS,
    Template,
    Transform,
    as_list,
    render,
    resources_of_type,
    role_of,
    role_statements,
)

QUEUES = ("BulkQueue", "BulkDeadLetterQueue", "CleanupScheduleDeadLetterQueue")
# Every optional operations parameter away from its default.
NON_DEFAULTS = {
    "Tracing": "PassThrough",
    "QueueKmsKeyArn": KMS_KEY_ARN,
    "ApiGatewayLogsRole": "Existing",
    "ApiFunctionReservedConcurrency": "5",
    "ApiAuthMode": "API_KEY",
}
ACCESS_LOG_FIELDS = {
    "requestId",
    "ip",
    "caller",
    "user",
    "httpMethod",
    "resourcePath",
    "status",
    "responseLatency",
    "integrationLatency",
}


def serverless_lint(text: str, **params: str) -> list[str]:
    """cfn-lint with AWS Labs' serverless rules (``cfn-lint -a cfn_lint_serverless.rules``)."""
    config: Any = ManualArgs(
        regions=[REGION], template_parameters=[{**REQUIRED_PARAMETERS, **params}]
    )
    config["append_rules"] = ["cfn_lint_serverless.rules"]
    return [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in lint(text, config=config)]


def stage(template: Template) -> dict[str, Any]:
    (body,) = resources_of_type(template, "AWS::ApiGateway::Stage").values()
    properties: dict[str, Any] = body["Properties"]
    return properties


# ------------------------------------------------------------------ scanners


@pytest.mark.parametrize("params", [{}, NON_DEFAULTS], ids=["defaults", "non-defaults"])
def test_serverless_rules_find_nothing(params: dict[str, str]) -> None:
    # GIVEN the SAM template as written
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    # WHEN cfn-lint checks it with the serverless rules, with default and other parameters
    problems = serverless_lint(text, **params)
    # THEN it reports nothing (what is suppressed is suppressed in the template, with a reason)
    assert problems == []


def test_every_checkov_suppression_names_a_check_and_gives_a_reason(sam_template: Template) -> None:
    # GIVEN every checkov skip in the template's resources
    skips = [
        (name, skip)
        for name, body in sam_template["Resources"].items()
        for skip in body.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for name, skip in skips:
        # THEN each names one check and says why, in one line
        assert set(skip) == {"id", "comment"}, name
        assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), (name, skip)
        assert len(skip["comment"].split()) >= 5 and "\n" not in skip["comment"], (name, skip)


def test_every_cfn_lint_suppression_gives_a_reason_on_its_line(sam_template: Template) -> None:
    # GIVEN the cfn-lint rules ignored per resource, and the template's lines
    ignored = {
        rule
        for body in sam_template["Resources"].values()
        for rule in body.get("Metadata", {})
        .get("cfn-lint", {})
        .get("config", {})
        .get("ignore_checks", [])
    }
    lines = TEMPLATE_PATH.read_text(encoding="utf-8").splitlines()
    listed = [line for line in lines if re.match(r"\s+- [EWI]S?\d{4}\b", line)]
    # THEN every ignored rule's line carries a reason (a YAML comment: the list takes ids only)
    assert ignored == {"WS1000", "ES6000", "W1028"}
    assert listed
    for line in listed:
        assert re.fullmatch(r"\s+- [EWI]S?\d{4} # .{20,}", line), line


# ------------------------------------------------------------------ access logs


def test_the_stage_writes_one_json_access_line_per_request(deployed: Transform) -> None:
    # GIVEN the deployed stage's access log setting
    setting = stage(deployed())["AccessLogSetting"]
    # THEN it writes to the API's access log group
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["TpnsApiAccessLogGroup", "Arn"]}
    # THEN each line is a JSON object (with any value API Gateway substitutes) naming the
    # request, the caller, the route, the status and both latencies
    line = re.sub(
        r"\$context\.error\.messageString", '"any \\\\"quoted\\\\" text"', setting["Format"]
    )
    line = re.sub(r"\$context\.[A-Za-z.]+", "-", line)
    fields = json.loads(line)
    assert set(fields) >= ACCESS_LOG_FIELDS
    assert "$context.requestId" in setting["Format"]


def test_the_access_log_group_keeps_lines_for_the_log_retention(deployed: Transform) -> None:
    group = deployed()["Resources"]["TpnsApiAccessLogGroup"]
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    assert group["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/apigateway/${AWS::StackName}-api/access"
    }


def test_the_stack_sets_the_account_logging_role_by_default_and_keeps_it(
    deployed: Transform,
) -> None:
    # GIVEN a default deployment
    resources = deployed()["Resources"]
    # THEN it creates API Gateway's CloudWatch role and sets it for the account, keeping both
    # when the stack goes (the setting is account-wide)
    role = resources["ApiGatewayCloudWatchRole"]
    account = resources["ApiGatewayAccount"]
    assert role["Properties"]["ManagedPolicyArns"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
        }
    ]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
        }
    ]
    assert account["Properties"] == {
        "CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}
    }
    for body in (role, account):
        assert body["DeletionPolicy"] == body["UpdateReplacePolicy"] == "Retain"
    # THEN the API is created only once the account setting is there
    assert resources["TpnsApi"]["DependsOn"] == "ApiGatewayLogsRoleReady"
    ready = resources["ApiGatewayLogsRoleReady"]
    assert ready["Metadata"]["AccountSetting"] == {"Ref": "ApiGatewayAccount"}


def test_with_an_existing_account_role_nothing_account_wide_is_created(
    deployed: Transform,
) -> None:
    # GIVEN a deployment into an account whose API Gateway already has its CloudWatch role
    resources = deployed(ApiGatewayLogsRole="Existing")["Resources"]
    # THEN neither the role nor the account setting is in it, and the API waits on nothing
    assert "ApiGatewayCloudWatchRole" not in resources
    assert "ApiGatewayAccount" not in resources
    assert resources["ApiGatewayLogsRoleReady"]["Metadata"]["AccountSetting"] == "existing"
    assert "AccessLogSetting" in stage({"Resources": resources})


# ------------------------------------------------------------------ tracing


@pytest.mark.parametrize(("tracing", "stage_traced"), [("Active", True), ("PassThrough", False)])
def test_the_tracing_parameter_drives_every_function_and_the_stage(
    deployed: Transform, tracing: str, stage_traced: bool
) -> None:
    # GIVEN the template deployed with the tracing mode
    template = deployed(Tracing=tracing)
    # THEN every function traces in that mode, and the stage traces only when Active
    for name, function in resources_of_type(template, "AWS::Lambda::Function").items():
        mode = function["Properties"]["TracingConfig"]["Mode"]
        assert render(mode, {"Tracing": tracing}) == tracing, name
    assert stage(template)["TracingEnabled"] is stage_traced


def test_tracing_defaults_to_active_and_allows_passthrough(sam_template: Template) -> None:
    parameter = sam_template["Parameters"]["Tracing"]
    assert parameter["Default"] == "Active"
    assert parameter["AllowedValues"] == ["Active", "PassThrough"]
    assert "no cold start" in " ".join(parameter["Description"].split())


# ------------------------------------------------------------------ concurrency


def test_api_functions_reserve_no_concurrency_by_default(deployed: Transform) -> None:
    functions = resources_of_type(deployed(), "AWS::Lambda::Function")
    assert [
        n for n, f in functions.items() if "ReservedConcurrentExecutions" in f["Properties"]
    ] == []


def test_reserved_concurrency_caps_the_api_functions_only(deployed: Transform) -> None:
    # GIVEN a reservation for the API functions
    functions = resources_of_type(
        deployed(ApiFunctionReservedConcurrency="5"), "AWS::Lambda::Function"
    )
    # THEN the API functions get it; bulk (capped by its event source) and cleanup do not
    reserved = {
        name: function["Properties"]["ReservedConcurrentExecutions"]
        for name, function in functions.items()
        if "ReservedConcurrentExecutions" in function["Properties"]
    }
    assert reserved == {name: {"Ref": "ApiFunctionReservedConcurrency"} for name in API_FUNCTIONS}


# ------------------------------------------------------------------ queue encryption


def test_queues_use_the_customer_managed_key_when_one_is_given(deployed: Transform) -> None:
    # GIVEN the queues deployed without and with QueueKmsKeyArn
    without_key = deployed()["Resources"]
    with_key = deployed(QueueKmsKeyArn=KMS_KEY_ARN)["Resources"]
    for queue in QUEUES:
        # THEN without it SSE-SQS encrypts them; with it, that key (and not SSE-SQS)
        assert without_key[queue]["Properties"]["SqsManagedSseEnabled"] is True, queue
        assert "KmsMasterKeyId" not in without_key[queue]["Properties"], queue
        properties = with_key[queue]["Properties"]
        assert render(properties["KmsMasterKeyId"], {"QueueKmsKeyArn": KMS_KEY_ARN}) == KMS_KEY_ARN
        assert "SqsManagedSseEnabled" not in properties, queue


def queue_key_grants(template: Template, role: str) -> list[dict[str, Any]]:
    return [
        statement
        for statement in role_statements(template, role)
        if any(action.startswith("kms:") for action in as_list(statement["Action"]))
        and render(statement["Resource"], {"QueueKmsKeyArn": KMS_KEY_ARN}) == KMS_KEY_ARN
    ]


def test_only_the_queues_senders_and_receivers_may_use_the_queue_key(deployed: Transform) -> None:
    # GIVEN the template deployed with a key for the queues
    template = deployed(QueueKmsKeyArn=KMS_KEY_ARN)
    (schedule,) = resources_of_type(template, "AWS::Scheduler::Schedule").values()
    schedule_role = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
    roles = {function: role_of(template, function) for function in FUNCTIONS}
    users = {
        "JobsFunction",
        "BulkFunction",
        "CleanupFunction",
        # with the ledger on (the default), what records bindings schedules their verification
        "BindFunction",
        "UnbindFunction",
        "VerifyFunction",
    }
    for function, role in {**roles, "schedule": schedule_role}.items():
        grants = queue_key_grants(template, role)
        if function not in {*users, "schedule"}:
            # THEN a function that never touches a queue may not use the key
            assert grants == [], function
            continue
        # THEN jobs and cleanup (send), bulk and verify (receive, send), bind and unbind (send
        # to the verify queue) and the schedule (its DLQ) may generate data keys and decrypt
        # with it, through SQS only
        (statement,) = grants
        assert statement["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"], function
        via = statement["Condition"]["StringEquals"]["kms:ViaService"]
        assert render(via, {}) == f"sqs.{REGION}.amazonaws.com", function


def test_without_a_queue_key_no_role_may_use_kms_for_the_queues(deployed: Transform) -> None:
    assert "QueueKeyUsePolicy" not in deployed()["Resources"]


# ------------------------------------------------------------------ manifests bucket


def test_old_manifest_versions_are_kept_for_the_parameter_then_expire(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the manifests bucket
    bucket = deployed()["Resources"]["CleanupBucket"]["Properties"]
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    # THEN it is versioned, replaced and deleted versions expire after the parameter's days
    # (30 by default), and delete markers left alone are removed
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert rules["ExpireNoncurrentVersions"] == {
        "Id": "ExpireNoncurrentVersions",
        "Status": "Enabled",
        "NoncurrentVersionExpiration": {
            "NoncurrentDays": {"Ref": "CleanupNoncurrentVersionRetentionDays"}
        },
    }
    assert rules["RemoveExpiredDeleteMarkers"] == {
        "Id": "RemoveExpiredDeleteMarkers",
        "Status": "Enabled",
        "ExpiredObjectDeleteMarker": True,
    }
    assert sam_template["Parameters"]["CleanupNoncurrentVersionRetentionDays"]["Default"] == 30


# ------------------------------------------------------------------ compression


def test_the_api_compresses_large_answers_and_keeps_request_bodies_text(
    deployed: Transform,
) -> None:
    # GIVEN the REST API
    api = deployed()["Resources"]["TpnsApi"]["Properties"]
    # THEN API Gateway compresses answers of 1 KiB or more for clients taking gzip (the docs
    # page's script and stylesheet, large JSON answers)
    assert api["MinimumCompressionSize"] == 1024
    # THEN no media type is binary: request bodies reach the functions as text
    assert "BinaryMediaTypes" not in api
    assert "x-amazon-apigateway-binary-media-types" not in api["Body"]
