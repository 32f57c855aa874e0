"""template.yaml: the bulk queue consumer, the scheduled cleanup, its bucket and the alarms.

Like test_template.py, every test looks at the template transformed offline by
aws-sam-translator (``deployed``), or at the SAM source for parameter defaults (``sam_template``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from tests.support.aws import REGION
from tests.support.paths import ROOT
from tests.support.template import (
    ACCOUNT_ID,
    AUTH_MODES,
    BASIC_EXECUTION_ROLE,
    CLEANUP_OBJECT_RESOURCES,
    EXPORT_OBJECTS,
    KMS_KEY_ARN,
    REQUIRED_PARAMETERS,
    XRAY_WRITE_ONLY,
    Template,
    Transform,
    as_list,
    grants,
    render,
    resources_of_type,
    role_of,
    role_statements,
)

TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:tpns-alarms"
SECRET_RESOURCE = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:tpns/prod-??????"
BULK_QUEUE_ARN = {"Fn::GetAtt": ["BulkQueue", "Arn"]}
BULK_DLQ_ARN = {"Fn::GetAtt": ["BulkDeadLetterQueue", "Arn"]}
SCHEDULE_DLQ_ARN = {"Fn::GetAtt": ["CleanupScheduleDeadLetterQueue", "Arn"]}
DLQ_ALARMS = {
    "BulkDeadLetterQueueDepthAlarm": "BulkDeadLetterQueue",
    "CleanupScheduleDeadLetterQueueDepthAlarm": "CleanupScheduleDeadLetterQueue",
    "VerifyDeadLetterQueueDepthAlarm": "VerifyDeadLetterQueue",
}
FUNCTION_ALARMS = {
    "BulkFunctionErrorsAlarm": "BulkFunction",
    "CleanupFunctionErrorsAlarm": "CleanupFunction",
    "VerifyFunctionErrorsAlarm": "VerifyFunction",
}
# Alarms on the bundle's own metrics (Powertools' EMF: namespace and service dimension).
METRIC_ALARMS = {"ItemsUnverifiedAlarm": "ItemsUnverified"}


def text_of(description: str) -> str:
    """A folded YAML description with its whitespace normalised, for phrase checks."""
    return " ".join(description.split())


def function_properties(template: Template, name: str) -> dict[str, Any]:
    """The Properties of the resource ``name``."""
    properties: dict[str, Any] = template["Resources"][name]["Properties"]
    return properties


def services_granted(template: Template, function: str) -> set[str]:
    """The AWS services the function's role allows any action on."""
    return {
        action.split(":")[0]
        for statement in role_statements(template, role_of(template, function))
        for action in as_list(statement["Action"])
    }


# ------------------------------------------------------------------ bulk function


def test_bulk_function_runs_its_code_with_a_parameter_timeout(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the SAM source as written, and deployed with default parameters
    template = deployed()
    # WHEN the bulk function and its timeout parameter are read
    source = sam_template["Resources"]["BulkFunction"]["Properties"]
    function = function_properties(template, "BulkFunction")
    parameter = sam_template["Parameters"]["BulkFunctionTimeout"]
    # THEN its code is functions/bulk/app.py, and its timeout a parameter (90 s, at most Lambda's 900)
    assert source["CodeUri"] == "functions/bulk/"
    assert function["Handler"] == "app.lambda_handler"
    assert function["Timeout"] == {"Ref": "BulkFunctionTimeout"}
    assert parameter["Default"] == 90
    assert parameter["MaxValue"] == 900


def test_bulk_function_knows_the_dead_letter_queue_and_the_tpns_settings(
    deployed: Transform,
) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN the bulk function's environment is read
    variables = function_properties(template, "BulkFunction")["Environment"]["Variables"]
    # THEN it gets the DLQ URL (for never-succeed messages) besides the global TPNS settings
    assert variables["DEAD_LETTER_QUEUE_URL"] == {"Ref": "BulkDeadLetterQueue"}
    for variable, parameter in {
        "TPNS_SECRET_ID": "TpnsSecretId",
        "TPNS_MAX_CONCURRENCY": "TpnsMaxConcurrency",
        "TPNS_MAX_QPS": "TpnsMaxQps",
        "TPNS_TIMEOUT_S": "TpnsTimeoutSeconds",
    }.items():
        assert variables[variable] == {"Ref": parameter}, variable


def test_bulk_queue_triggers_the_bulk_function_with_partial_batch_responses(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the template deployed with default parameters, and the SAM source's parameters
    template = deployed()
    parameters = sam_template["Parameters"]
    # WHEN the event source mappings CloudFormation would create are listed
    mappings = resources_of_type(template, "AWS::Lambda::EventSourceMapping")
    # THEN the bulk queue goes into the bulk function
    (properties,) = [
        mapping["Properties"]
        for mapping in mappings.values()
        if mapping["Properties"]["FunctionName"] == {"Ref": "BulkFunction"}
    ]
    assert properties["EventSourceArn"] == BULK_QUEUE_ARN
    assert properties["FunctionName"] == {"Ref": "BulkFunction"}
    # AND only the messages the function reports failed are delivered again
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # AND batch size and window are parameters (10 messages, 1 s by default)
    assert properties["BatchSize"] == {"Ref": "BulkBatchSize"}
    assert properties["MaximumBatchingWindowInSeconds"] == {
        "Ref": "BulkMaximumBatchingWindowInSeconds"
    }
    assert parameters["BulkBatchSize"]["Default"] == 10
    assert parameters["BulkMaximumBatchingWindowInSeconds"]["Default"] == 1
    # AND concurrent invocations are capped by a parameter, 2 at least (SQS's minimum)
    assert properties["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "BulkMaximumConcurrency"}}
    assert parameters["BulkMaximumConcurrency"]["Default"] == 2
    assert parameters["BulkMaximumConcurrency"]["MinValue"] == 2
    # AND the mapping is always on (no Enabled: false left behind)
    assert properties.get("Enabled", True) is True


def test_visibility_timeout_defaults_keep_six_function_timeouts_plus_the_window(
    sam_template: Template,
) -> None:
    # GIVEN the SAM source as written
    # WHEN the defaults and bounds of the bulk parameters are read
    parameters = sam_template["Parameters"]
    visibility = parameters["BulkQueueVisibilityTimeout"]
    timeout = parameters["BulkFunctionTimeout"]
    window = parameters["BulkMaximumBatchingWindowInSeconds"]
    # THEN the defaults keep the visibility timeout >= 6x the function timeout + the window
    assert visibility["Default"] >= 6 * timeout["Default"] + window["Default"]
    # AND the largest function timeout and window can still be matched by a visibility timeout
    assert visibility["MaxValue"] >= 6 * timeout["MaxValue"] + window["MaxValue"]
    # AND both descriptions say so, so a user who tunes one tunes the other
    assert "6x BulkFunctionTimeout" in text_of(visibility["Description"])
    assert "BulkQueueVisibilityTimeout" in text_of(timeout["Description"])
    assert "6x" in text_of(timeout["Description"])


@pytest.mark.parametrize("name", ["BulkMaximumConcurrency", "TpnsMaxQps"])
def test_upstream_qps_formula_is_documented_on_both_parameters(
    sam_template: Template, name: str
) -> None:
    # GIVEN one of the two parameters whose product is the bulk path's upstream QPS
    parameter = sam_template["Parameters"][name]
    # WHEN its description is read
    description = text_of(parameter["Description"])
    # THEN it gives the product and the quota it must stay under
    assert "BulkMaximumConcurrency x TpnsMaxQps" in description, name
    assert "quota" in description, name


def test_bulk_function_role_is_least_privilege(deployed: Transform) -> None:
    # GIVEN the template deployed with a customer-managed key on the secret
    template = deployed(TpnsSecretKmsKeyArn=KMS_KEY_ARN)
    # WHEN the bulk function's role is read
    role = template["Resources"][role_of(template, "BulkFunction")]["Properties"]
    # THEN it attaches basic execution, X-Ray write-only, the secret policy, the jobs' and
    # ledger's write policies and the ledger's export policy only (not AWSLambdaSQSQueueExecutionRole, which may receive and
    # delete on every queue)
    assert [render(arn, REQUIRED_PARAMETERS) for arn in role["ManagedPolicyArns"]] == [
        BASIC_EXECUTION_ROLE,
        {"Ref": "TpnsSecretReadPolicy"},
        XRAY_WRITE_ONLY,
        {"Ref": "JobsWritePolicy"},
        {"Ref": "LedgerWritePolicy"},
        {"Ref": "LedgerExportPolicy"},
    ]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": ["sts:AssumeRole"],
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com"]},
        }
    ]
    # AND it may receive and delete from the bulk queue only, send to its DLQ and the verify
    # queue only
    assert grants(template, "BulkFunction", "sqs") == [
        (["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], BULK_QUEUE_ARN),
        ("sqs:SendMessage", BULK_DLQ_ARN),
        ("sqs:SendMessage", {"Fn::GetAtt": ["VerifyQueue", "Arn"]}),
        ("sqs:SendMessage", BULK_QUEUE_ARN),
    ]
    # AND it may read the secret only (and decrypt it with its key through Secrets Manager)
    assert grants(template, "BulkFunction", "secretsmanager") == [
        ("secretsmanager:GetSecretValue", SECRET_RESOURCE)
    ]
    assert grants(template, "BulkFunction", "kms", {"TpnsSecretKmsKeyArn": KMS_KEY_ARN}) == [
        ("kms:Decrypt", KMS_KEY_ARN)
    ]
    # AND it may use the jobs and ledger tables (their own tests say how)
    assert {
        json.dumps(resource) for _, resource in grants(template, "BulkFunction", "dynamodb")
    } == {json.dumps({"Fn::GetAtt": [table, "Arn"]}) for table in ("JobsTable", "LedgerTable")}
    # AND it may write an export's pages, under exports/ only
    assert grants(template, "BulkFunction", "s3") == [("s3:PutObject", EXPORT_OBJECTS)]
    # AND nothing else (logs come from the basic execution policy)
    assert services_granted(template, "BulkFunction") == {
        "sqs",
        "secretsmanager",
        "kms",
        "dynamodb",
        "s3",
    }


# ------------------------------------------------------------------ cleanup function


def test_cleanup_function_runs_its_code_with_bucket_and_queue(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the SAM source as written, and deployed with default parameters
    template = deployed()
    # WHEN the cleanup function is read
    source = sam_template["Resources"]["CleanupFunction"]["Properties"]
    function = function_properties(template, "CleanupFunction")
    variables = function["Environment"]["Variables"]
    # THEN its code is functions/cleanup/app.py, its timeout a parameter (900 s by default)
    assert source["CodeUri"] == "functions/cleanup/"
    assert function["Handler"] == "app.lambda_handler"
    assert function["Timeout"] == {"Ref": "CleanupFunctionTimeout"}
    assert sam_template["Parameters"]["CleanupFunctionTimeout"]["Default"] == 900
    assert sam_template["Parameters"]["CleanupFunctionTimeout"]["MaxValue"] == 900
    # AND it knows the manifests bucket and the bulk queue
    assert variables["CLEANUP_BUCKET"] == {"Ref": "CleanupBucket"}
    assert variables["BULK_QUEUE_URL"] == {"Ref": "BulkQueue"}


@pytest.mark.parametrize("kms_key", ["", KMS_KEY_ARN], ids=["no-kms-key", "kms-key"])
def test_cleanup_function_role_is_least_privilege(deployed: Transform, kms_key: str) -> None:
    # GIVEN the template deployed with or without a customer-managed key on the secret
    template = deployed(TpnsSecretKmsKeyArn=kms_key)
    # WHEN the cleanup function's role is read
    role = template["Resources"][role_of(template, "CleanupFunction")]["Properties"]
    # THEN it attaches basic execution, X-Ray write-only and the jobs' write policy: no secret
    # policy
    assert role["ManagedPolicyArns"] == [
        BASIC_EXECUTION_ROLE,
        XRAY_WRITE_ONLY,
        {"Ref": "JobsWritePolicy"},
    ]
    # AND it may list the bucket, and read, write and delete under its three prefixes only
    assert grants(template, "CleanupFunction", "s3") == [
        ("s3:ListBucket", {"Fn::GetAtt": ["CleanupBucket", "Arn"]}),
        (["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], list(CLEANUP_OBJECT_RESOURCES)),
    ]
    # AND it may send to the bulk queue only
    assert grants(template, "CleanupFunction", "sqs") == [("sqs:SendMessage", BULK_QUEUE_ARN)]
    # AND it may record its jobs
    assert {
        json.dumps(resource) for _, resource in grants(template, "CleanupFunction", "dynamodb")
    } == {json.dumps({"Fn::GetAtt": ["JobsTable", "Arn"]})}
    # AND it cannot read the secret nor use a key
    assert services_granted(template, "CleanupFunction") == {"s3", "sqs", "dynamodb"}


def test_schedule_invokes_cleanup_with_retries_and_a_dead_letter_queue(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the template deployed with default parameters, and the SAM source's parameters
    template = deployed()
    parameters = sam_template["Parameters"]
    # WHEN the EventBridge Scheduler schedules CloudFormation would create are listed
    schedules = resources_of_type(template, "AWS::Scheduler::Schedule")
    # THEN there is one, on the parameter expression and time zone (03:00 UTC daily by default)
    (schedule,) = schedules.values()
    properties = schedule["Properties"]
    assert properties["ScheduleExpression"] == {"Ref": "CleanupSchedule"}
    assert properties["ScheduleExpressionTimezone"] == {"Ref": "CleanupScheduleTimezone"}
    assert parameters["CleanupSchedule"]["Default"] == "cron(0 3 * * ? *)"
    assert parameters["CleanupScheduleTimezone"]["Default"] == "UTC"
    assert properties["FlexibleTimeWindow"] == {"Mode": "OFF"}
    # AND its name is left to CloudFormation, so two stacks in one account do not clash
    assert "Name" not in properties
    # AND it invokes the cleanup function with a schedule trigger, retrying, then dead-lettering
    target = properties["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["CleanupFunction", "Arn"]}
    assert json.loads(target["Input"]) == {"trigger": "schedule"}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": SCHEDULE_DLQ_ARN}


def test_schedule_role_may_invoke_cleanup_and_dead_letter_only(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN the role the schedule runs as is read
    (schedule,) = resources_of_type(template, "AWS::Scheduler::Schedule").values()
    role_name = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
    role = template["Resources"][role_name]["Properties"]
    # THEN only EventBridge Scheduler may assume it
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": ["sts:AssumeRole"],
            "Effect": "Allow",
            "Principal": {"Service": ["scheduler.amazonaws.com"]},
        }
    ]
    assert "ManagedPolicyArns" not in role
    # AND it may invoke the cleanup function and send to the schedule's DLQ, nothing else
    allowed = sorted(
        (json.dumps(statement["Action"]), json.dumps(statement["Resource"]))
        for statement in role_statements(template, role_name)
    )
    assert allowed == sorted(
        [
            (
                json.dumps("lambda:InvokeFunction"),
                json.dumps({"Fn::GetAtt": ["CleanupFunction", "Arn"]}),
            ),
            (json.dumps("sqs:SendMessage"), json.dumps(SCHEDULE_DLQ_ARN)),
        ]
    )


def schedule_pattern(sam_template: Template) -> re.Pattern[str]:
    """The AllowedPattern of the CleanupSchedule parameter."""
    return re.compile(sam_template["Parameters"]["CleanupSchedule"]["AllowedPattern"])


@pytest.mark.parametrize(
    "expression", ["cron(0 3 * * ? *)", "rate(6 hours)", "at(2030-01-01T03:00:00)"]
)
def test_schedule_expression_parameter_accepts_scheduler_expressions(
    sam_template: Template, expression: str
) -> None:
    # GIVEN the schedule parameter's allowed pattern
    pattern = schedule_pattern(sam_template)
    # WHEN a cron, rate or at expression is matched against it
    match = pattern.fullmatch(expression)
    # THEN it fits
    assert match, expression


@pytest.mark.parametrize(
    "expression", ["", "0 3 * * *", "daily"], ids=["empty", "unix-cron", "prose"]
)
def test_schedule_expression_parameter_refuses_anything_else(
    sam_template: Template, expression: str
) -> None:
    # GIVEN the schedule parameter's allowed pattern
    pattern = schedule_pattern(sam_template)
    # WHEN something that is not a Scheduler expression is matched against it
    match = pattern.fullmatch(expression)
    # THEN it does not fit
    assert not match, expression


def test_schedule_expression_parameter_default_fits_its_pattern(sam_template: Template) -> None:
    # GIVEN the schedule parameter's allowed pattern
    pattern = schedule_pattern(sam_template)
    # WHEN its default is matched against it
    match = pattern.fullmatch(sam_template["Parameters"]["CleanupSchedule"]["Default"])
    # THEN it fits
    assert match


# ------------------------------------------------------------------ manifests bucket


def test_cleanup_bucket_is_private_encrypted_and_owner_enforced(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN its buckets are listed
    buckets = resources_of_type(template, "AWS::S3::Bucket")
    # THEN there is one, the cleanup bucket
    assert list(buckets) == ["CleanupBucket"]
    bucket = buckets["CleanupBucket"]
    properties = bucket["Properties"]
    # AND it blocks every kind of public access, encrypts at rest, and has no ACLs
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert properties["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    # AND it is versioned: a manifest overwritten or deleted by mistake can be restored
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    # AND it has a name CloudFormation generates, and outlives the stack (pending deletions)
    assert "BucketName" not in properties
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"


def test_cleanup_bucket_expires_done_manifests_and_stale_uploads(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN the cleanup bucket's lifecycle rules are read
    bucket = template["Resources"]["CleanupBucket"]["Properties"]
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    # THEN done/ objects expire after the parameter's days (90 by default), no other current
    # object expires (old versions do: see test_operations)
    expiring = [rule for rule in rules.values() if "ExpirationInDays" in rule]
    assert expiring == [
        {
            "Id": "ExpireDoneManifests",
            "Status": "Enabled",
            "Prefix": "done/",
            "ExpirationInDays": {"Ref": "CleanupDoneRetentionDays"},
        }
    ]
    assert sam_template["Parameters"]["CleanupDoneRetentionDays"]["Default"] == 90
    # AND incomplete multipart uploads are aborted after 7 days
    assert rules["AbortIncompleteMultipartUploads"] == {
        "Id": "AbortIncompleteMultipartUploads",
        "Status": "Enabled",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }


def test_cleanup_bucket_refuses_requests_without_tls(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN its one bucket policy is read
    (policy,) = resources_of_type(template, "AWS::S3::BucketPolicy").values()
    properties = policy["Properties"]
    # THEN the cleanup bucket's policy only denies, every action to anyone not using TLS, on the
    # bucket and its objects
    assert properties["Bucket"] == {"Ref": "CleanupBucket"}
    (statement,) = properties["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:*"
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["CleanupBucket", "Arn"]},
        {"Fn::Sub": "${CleanupBucket.Arn}/*"},
    ]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# ------------------------------------------------------------------ alarms


@pytest.mark.parametrize(("alarm", "queue"), DLQ_ALARMS.items())
def test_dead_letter_queue_depth_alarms_on_the_first_message(
    deployed: Transform, alarm: str, queue: str
) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN the DLQ depth alarm is read
    properties = template["Resources"][alarm]["Properties"]
    # THEN it watches the visible messages of that queue, and fires on one within 5 minutes
    assert properties["Namespace"] == "AWS/SQS"
    assert properties["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert properties["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
    ]
    assert properties["Statistic"] == "Maximum"
    assert properties["Period"] == 300
    assert properties["EvaluationPeriods"] == 1
    assert properties["Threshold"] == 1
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert properties["TreatMissingData"] == "notBreaching"


def test_every_dead_letter_queue_has_a_depth_alarm(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN its SQS alarms and its dead-letter queues are listed
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    watched = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in alarms.values()
        if alarm["Properties"]["Namespace"] == "AWS/SQS"
    }
    dead_letter_queues = {
        name for name in resources_of_type(template, "AWS::SQS::Queue") if "DeadLetter" in name
    }
    # THEN each dead-letter queue is watched (the schedule's included)
    assert dead_letter_queues == set(DLQ_ALARMS.values())
    assert watched == dead_letter_queues


@pytest.mark.parametrize(("alarm", "function"), FUNCTION_ALARMS.items())
def test_function_errors_alarm_fires_on_one_failed_invocation(
    deployed: Transform, alarm: str, function: str
) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN the function's errors alarm is read
    properties = template["Resources"][alarm]["Properties"]
    # THEN it fires on one failed invocation within 5 minutes
    assert properties["Namespace"] == "AWS/Lambda"
    assert properties["MetricName"] == "Errors"
    assert properties["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    assert properties["Statistic"] == "Sum"
    assert properties["Threshold"] == 1
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert properties["TreatMissingData"] == "notBreaching"


def test_alarms_notify_the_topic_only_when_one_is_given(deployed: Transform) -> None:
    # GIVEN the template deployed without and with an alarm topic
    without, with_ = deployed(), deployed(AlarmTopicArn=TOPIC_ARN)
    # WHEN their alarms are listed
    without_topic = resources_of_type(without, "AWS::CloudWatch::Alarm")
    with_topic = resources_of_type(with_, "AWS::CloudWatch::Alarm")
    # THEN both have the same alarms, every one of them
    assert set(without_topic) == set(with_topic) == {*DLQ_ALARMS, *FUNCTION_ALARMS, *METRIC_ALARMS}
    # AND without a topic they exist but have no actions
    for name, alarm in without_topic.items():
        assert "AlarmActions" not in alarm["Properties"], name
        assert "OKActions" not in alarm["Properties"], name
    # AND with a topic they notify it when they fire and when they recover
    for name, alarm in with_topic.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopicArn"}], name
        assert alarm["Properties"]["OKActions"] == [{"Ref": "AlarmTopicArn"}], name


def test_alarm_topic_parameter_is_optional_and_takes_an_sns_topic_arn_only(
    sam_template: Template,
) -> None:
    # GIVEN the SAM source as written
    # WHEN the alarm topic parameter is read
    parameter = sam_template["Parameters"]["AlarmTopicArn"]
    # THEN it is optional, and takes an SNS topic ARN only
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("")
    assert pattern.fullmatch(TOPIC_ARN)
    assert not pattern.fullmatch(f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:queue")


# ------------------------------------------------------------------ every new parameter


def test_new_parameters_are_grouped_in_the_console(sam_template: Template) -> None:
    # GIVEN the SAM source as written
    # WHEN the parameter groups `sam deploy --guided` and the console show are read
    groups = sam_template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]
    # THEN every parameter is in exactly one group
    assert sorted(grouped) == sorted(sam_template["Parameters"])


@pytest.mark.parametrize("mode", AUTH_MODES)
def test_alarm_topic_and_kms_key_keep_the_transformed_template_valid(
    transform: Transform, mode: str
) -> None:
    # GIVEN the template transformed with every optional parameter set
    transformed = transform(
        ApiAuthMode=mode, AlarmTopicArn=TOPIC_ARN, TpnsSecretKmsKeyArn=KMS_KEY_ARN
    )
    # WHEN cfn-lint checks it with those values
    matches = lint(
        json.dumps(transformed),
        config=ManualArgs(
            regions=[REGION],
            template_parameters=[
                {
                    **REQUIRED_PARAMETERS,
                    "ApiAuthMode": mode,
                    "AlarmTopicArn": TOPIC_ARN,
                    "TpnsSecretKmsKeyArn": KMS_KEY_ARN,
                }
            ],
        ),
    )
    # THEN it reports nothing
    assert [f"{match.rule.id} {match.message}" for match in matches] == []


def test_every_function_in_the_template_has_its_code(sam_template: Template) -> None:
    # GIVEN every AWS::Serverless::Function of the SAM source
    functions = resources_of_type(sam_template, "AWS::Serverless::Function")
    assert functions
    # WHEN its CodeUri and handler are looked up
    # THEN the handler module is there: sam build only warns (and builds nothing) when it is missing
    for name, resource in functions.items():
        code_uri = resource["Properties"]["CodeUri"]
        module = resource["Properties"].get("Handler", "app.lambda_handler").rsplit(".", 1)[0]
        assert (ROOT / code_uri / f"{module}.py").is_file(), name
