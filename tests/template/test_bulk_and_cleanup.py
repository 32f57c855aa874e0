"""template.yaml: the bulk queue consumer, the scheduled cleanup, its bucket and the alarms.

Like test_template.py, every test looks at the template transformed offline by
aws-sam-translator (``deployed``), or at the SAM source for parameter defaults (``sam_template``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from template_tools import (
    ACCOUNT_ID,
    BASIC_EXECUTION_ROLE,
    CLEANUP_OBJECT_RESOURCES,
    REGION,
    REQUIRED_PARAMETERS,
    ROOT,
    XRAY_WRITE_ONLY,
    Template,
    as_list,
    grants,
    render,
    resources_of_type,
    role_of,
    role_statements,
)

Transform = Callable[..., Template]

AUTH_MODES = ("IAM", "API_KEY")
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:tpns-alarms"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET_RESOURCE = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:tpns/prod-??????"
BULK_QUEUE_ARN = {"Fn::GetAtt": ["BulkQueue", "Arn"]}
BULK_DLQ_ARN = {"Fn::GetAtt": ["BulkDeadLetterQueue", "Arn"]}
SCHEDULE_DLQ_ARN = {"Fn::GetAtt": ["CleanupScheduleDeadLetterQueue", "Arn"]}
DLQ_ALARMS = {
    "BulkDeadLetterQueueDepthAlarm": "BulkDeadLetterQueue",
    "CleanupScheduleDeadLetterQueueDepthAlarm": "CleanupScheduleDeadLetterQueue",
}
FUNCTION_ALARMS = {
    "BulkFunctionErrorsAlarm": "BulkFunction",
    "CleanupFunctionErrorsAlarm": "CleanupFunction",
}


def text_of(description: str) -> str:
    """A folded YAML description with its whitespace normalised, for phrase checks."""
    return " ".join(description.split())


def function_properties(template: Template, name: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][name]["Properties"]
    return properties


def services_granted(template: Template, function: str) -> set[str]:
    return {
        action.split(":")[0]
        for statement in role_statements(template, role_of(template, function))
        for action in as_list(statement["Action"])
    }


# ------------------------------------------------------------------ bulk function


def test_bulk_function_runs_its_code_with_a_parameter_timeout(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the bulk function as written and as deployed
    source = sam_template["Resources"]["BulkFunction"]["Properties"]
    function = function_properties(deployed(), "BulkFunction")
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
    # GIVEN the bulk function's environment
    variables = function_properties(deployed(), "BulkFunction")["Environment"]["Variables"]
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
    # GIVEN the event source mappings CloudFormation would create
    mappings = resources_of_type(deployed(), "AWS::Lambda::EventSourceMapping")
    parameters = sam_template["Parameters"]
    # THEN there is one: the bulk queue into the bulk function
    (mapping,) = mappings.values()
    properties = mapping["Properties"]
    assert properties["EventSourceArn"] == BULK_QUEUE_ARN
    assert properties["FunctionName"] == {"Ref": "BulkFunction"}
    # THEN only the messages the function reports failed are delivered again
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # THEN batch size and window are parameters (10 messages, 1 s by default)
    assert properties["BatchSize"] == {"Ref": "BulkBatchSize"}
    assert properties["MaximumBatchingWindowInSeconds"] == {
        "Ref": "BulkMaximumBatchingWindowInSeconds"
    }
    assert parameters["BulkBatchSize"]["Default"] == 10
    assert parameters["BulkMaximumBatchingWindowInSeconds"]["Default"] == 1
    # THEN concurrent invocations are capped by a parameter, 2 at least (SQS's minimum)
    assert properties["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "BulkMaximumConcurrency"}}
    assert parameters["BulkMaximumConcurrency"]["Default"] == 2
    assert parameters["BulkMaximumConcurrency"]["MinValue"] == 2
    # THEN the mapping is always on (no Enabled: false left behind)
    assert properties.get("Enabled", True) is True


def test_visibility_timeout_defaults_keep_six_function_timeouts_plus_the_window(
    sam_template: Template,
) -> None:
    # GIVEN the defaults and bounds of the bulk parameters
    parameters = sam_template["Parameters"]
    visibility = parameters["BulkQueueVisibilityTimeout"]
    timeout = parameters["BulkFunctionTimeout"]
    window = parameters["BulkMaximumBatchingWindowInSeconds"]
    # THEN the defaults keep the visibility timeout >= 6x the function timeout + the window
    assert visibility["Default"] >= 6 * timeout["Default"] + window["Default"]
    # THEN the largest function timeout and window can still be matched by a visibility timeout
    assert visibility["MaxValue"] >= 6 * timeout["MaxValue"] + window["MaxValue"]
    # THEN both descriptions say so, so a user who tunes one tunes the other
    assert "6x BulkFunctionTimeout" in text_of(visibility["Description"])
    assert "BulkQueueVisibilityTimeout" in text_of(timeout["Description"])
    assert "6x" in text_of(timeout["Description"])


def test_upstream_qps_formula_is_documented_on_both_parameters(sam_template: Template) -> None:
    # GIVEN the two parameters whose product is the bulk path's upstream QPS
    parameters = sam_template["Parameters"]
    # THEN each one's description gives the product and the quota it must stay under
    for name in ("BulkMaximumConcurrency", "TpnsMaxQps"):
        description = text_of(parameters[name]["Description"])
        assert "BulkMaximumConcurrency x TpnsMaxQps" in description, name
        assert "quota" in description, name


def test_bulk_function_role_is_least_privilege(deployed: Transform) -> None:
    # GIVEN the bulk function's role, with a customer-managed key on the secret
    template = deployed(TpnsSecretKmsKeyArn=KMS_KEY_ARN)
    role = template["Resources"][role_of(template, "BulkFunction")]["Properties"]
    # THEN it attaches basic execution, X-Ray write-only and the secret policy only (not
    # AWSLambdaSQSQueueExecutionRole, which may receive and delete on every queue)
    assert [render(arn, REQUIRED_PARAMETERS) for arn in role["ManagedPolicyArns"]] == [
        BASIC_EXECUTION_ROLE,
        {"Ref": "TpnsSecretReadPolicy"},
        XRAY_WRITE_ONLY,
    ]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": ["sts:AssumeRole"],
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com"]},
        }
    ]
    # THEN it may receive and delete from the bulk queue only, send to its DLQ only
    assert grants(template, "BulkFunction", "sqs") == [
        (["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], BULK_QUEUE_ARN),
        ("sqs:SendMessage", BULK_DLQ_ARN),
    ]
    # THEN it may read the secret only (and decrypt it with its key through Secrets Manager)
    assert grants(template, "BulkFunction", "secretsmanager") == [
        ("secretsmanager:GetSecretValue", SECRET_RESOURCE)
    ]
    assert grants(template, "BulkFunction", "kms", {"TpnsSecretKmsKeyArn": KMS_KEY_ARN}) == [
        ("kms:Decrypt", KMS_KEY_ARN)
    ]
    # THEN nothing else (logs come from the basic execution policy)
    assert services_granted(template, "BulkFunction") == {"sqs", "secretsmanager", "kms"}


# ------------------------------------------------------------------ cleanup function


def test_cleanup_function_runs_its_code_with_bucket_and_queue(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the cleanup function as written and as deployed
    source = sam_template["Resources"]["CleanupFunction"]["Properties"]
    function = function_properties(deployed(), "CleanupFunction")
    variables = function["Environment"]["Variables"]
    # THEN its code is functions/cleanup/app.py, its timeout a parameter (900 s by default)
    assert source["CodeUri"] == "functions/cleanup/"
    assert function["Handler"] == "app.lambda_handler"
    assert function["Timeout"] == {"Ref": "CleanupFunctionTimeout"}
    assert sam_template["Parameters"]["CleanupFunctionTimeout"]["Default"] == 900
    assert sam_template["Parameters"]["CleanupFunctionTimeout"]["MaxValue"] == 900
    # THEN it knows the manifests bucket and the bulk queue
    assert variables["CLEANUP_BUCKET"] == {"Ref": "CleanupBucket"}
    assert variables["BULK_QUEUE_URL"] == {"Ref": "BulkQueue"}


@pytest.mark.parametrize("kms_key", ["", KMS_KEY_ARN], ids=["no-kms-key", "kms-key"])
def test_cleanup_function_role_is_least_privilege(deployed: Transform, kms_key: str) -> None:
    # GIVEN the cleanup function's role, with or without a customer-managed key on the secret
    template = deployed(TpnsSecretKmsKeyArn=kms_key)
    role = template["Resources"][role_of(template, "CleanupFunction")]["Properties"]
    # THEN it attaches basic execution and X-Ray write-only only: no secret policy
    assert role["ManagedPolicyArns"] == [BASIC_EXECUTION_ROLE, XRAY_WRITE_ONLY]
    # THEN it may list the bucket, and read, write and delete under its three prefixes only
    assert grants(template, "CleanupFunction", "s3") == [
        ("s3:ListBucket", {"Fn::GetAtt": ["CleanupBucket", "Arn"]}),
        (["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], list(CLEANUP_OBJECT_RESOURCES)),
    ]
    # THEN it may send to the bulk queue only
    assert grants(template, "CleanupFunction", "sqs") == [("sqs:SendMessage", BULK_QUEUE_ARN)]
    # THEN it cannot read the secret nor use a key
    assert services_granted(template, "CleanupFunction") == {"s3", "sqs"}


def test_schedule_invokes_cleanup_with_retries_and_a_dead_letter_queue(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the EventBridge Scheduler schedules CloudFormation would create
    schedules = resources_of_type(deployed(), "AWS::Scheduler::Schedule")
    parameters = sam_template["Parameters"]
    # THEN there is one, on the parameter expression and time zone (03:00 UTC daily by default)
    (schedule,) = schedules.values()
    properties = schedule["Properties"]
    assert properties["ScheduleExpression"] == {"Ref": "CleanupSchedule"}
    assert properties["ScheduleExpressionTimezone"] == {"Ref": "CleanupScheduleTimezone"}
    assert parameters["CleanupSchedule"]["Default"] == "cron(0 3 * * ? *)"
    assert parameters["CleanupScheduleTimezone"]["Default"] == "UTC"
    assert properties["FlexibleTimeWindow"] == {"Mode": "OFF"}
    # THEN its name is left to CloudFormation, so two stacks in one account do not clash
    assert "Name" not in properties
    # THEN it invokes the cleanup function with a schedule trigger, retrying, then dead-lettering
    target = properties["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["CleanupFunction", "Arn"]}
    assert json.loads(target["Input"]) == {"trigger": "schedule"}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": SCHEDULE_DLQ_ARN}


def test_schedule_role_may_invoke_cleanup_and_dead_letter_only(deployed: Transform) -> None:
    # GIVEN the role the schedule runs as
    template = deployed()
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
    # THEN it may invoke the cleanup function and send to the schedule's DLQ, nothing else
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


def test_schedule_expression_parameter_accepts_scheduler_expressions_only(
    sam_template: Template,
) -> None:
    # GIVEN the schedule parameter
    parameter = sam_template["Parameters"]["CleanupSchedule"]
    pattern = re.compile(parameter["AllowedPattern"])
    # THEN cron, rate and at expressions fit it, and nothing else
    for expression in ("cron(0 3 * * ? *)", "rate(6 hours)", "at(2030-01-01T03:00:00)"):
        assert pattern.fullmatch(expression), expression
    for expression in ("", "0 3 * * *", "daily"):
        assert not pattern.fullmatch(expression), expression
    assert pattern.fullmatch(parameter["Default"])


# ------------------------------------------------------------------ manifests bucket


def test_cleanup_bucket_is_private_encrypted_and_owner_enforced(deployed: Transform) -> None:
    # GIVEN the deployed buckets
    buckets = resources_of_type(deployed(), "AWS::S3::Bucket")
    # THEN there is one, the cleanup bucket
    assert list(buckets) == ["CleanupBucket"]
    bucket = buckets["CleanupBucket"]
    properties = bucket["Properties"]
    # THEN it blocks every kind of public access, encrypts at rest, and has no ACLs
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
    # THEN it is versioned: a manifest overwritten or deleted by mistake can be restored
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    # THEN it has a name CloudFormation generates, and outlives the stack (pending deletions)
    assert "BucketName" not in properties
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"


def test_cleanup_bucket_expires_done_manifests_and_stale_uploads(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the bucket's lifecycle rules
    bucket = deployed()["Resources"]["CleanupBucket"]["Properties"]
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
    # THEN incomplete multipart uploads are aborted after 7 days
    assert rules["AbortIncompleteMultipartUploads"] == {
        "Id": "AbortIncompleteMultipartUploads",
        "Status": "Enabled",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }


def test_cleanup_bucket_refuses_requests_without_tls(deployed: Transform) -> None:
    # GIVEN the bucket policies
    (policy,) = resources_of_type(deployed(), "AWS::S3::BucketPolicy").values()
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
    # GIVEN the DLQ depth alarm
    properties = deployed()["Resources"][alarm]["Properties"]
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
    # GIVEN the queues and the alarms
    template = deployed()
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
def test_function_errors_alarm(deployed: Transform, alarm: str, function: str) -> None:
    # GIVEN the function's errors alarm
    properties = deployed()["Resources"][alarm]["Properties"]
    # THEN it fires on one failed invocation within 5 minutes
    assert properties["Namespace"] == "AWS/Lambda"
    assert properties["MetricName"] == "Errors"
    assert properties["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    assert properties["Statistic"] == "Sum"
    assert properties["Threshold"] == 1
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert properties["TreatMissingData"] == "notBreaching"


def test_alarms_notify_the_topic_only_when_one_is_given(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the alarms deployed without and with a topic
    without_topic = resources_of_type(deployed(), "AWS::CloudWatch::Alarm")
    with_topic = resources_of_type(deployed(AlarmTopicArn=TOPIC_ARN), "AWS::CloudWatch::Alarm")
    assert set(without_topic) == set(with_topic) == {*DLQ_ALARMS, *FUNCTION_ALARMS}
    # THEN without a topic they exist but have no actions
    for name, alarm in without_topic.items():
        assert "AlarmActions" not in alarm["Properties"], name
        assert "OKActions" not in alarm["Properties"], name
    # THEN with a topic they notify it when they fire and when they recover
    for name, alarm in with_topic.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopicArn"}], name
        assert alarm["Properties"]["OKActions"] == [{"Ref": "AlarmTopicArn"}], name
    # THEN the topic parameter is optional, and takes an SNS topic ARN only
    parameter = sam_template["Parameters"]["AlarmTopicArn"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("")
    assert pattern.fullmatch(TOPIC_ARN)
    assert not pattern.fullmatch(f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:queue")


# ------------------------------------------------------------------ every new parameter


def test_new_parameters_are_grouped_in_the_console(sam_template: Template) -> None:
    # GIVEN the parameter groups `sam deploy --guided` and the console show
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
    # GIVEN every AWS::Serverless::Function WHEN its CodeUri is looked up THEN the handler
    # module is there: sam build only warns (and builds nothing) when it is missing
    functions = resources_of_type(sam_template, "AWS::Serverless::Function")
    assert functions
    for name, resource in functions.items():
        code_uri = resource["Properties"]["CodeUri"]
        module = resource["Properties"].get("Handler", "app.lambda_handler").rsplit(".", 1)[0]
        assert (ROOT / code_uri / f"{module}.py").is_file(), name
