"""template.yaml: lint-clean, least privilege, never open, routes and settings as DESIGN.md says.

Every test transforms the SAM template offline (aws-sam-translator, stub managed-policy loader)
and looks at what CloudFormation would receive, for both values of ApiAuthMode where it matters.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from tests.support.aws import REGION
from tests.support.paths import README_PATH, ROOT, TEMPLATE_PATH
from tests.support.template import (
    ACCOUNT_ID,
    API_FUNCTIONS,
    AUTH_MODES,
    BASIC_EXECUTION_ROLE,
    CLEANUP_OBJECT_RESOURCES,
    EXPORT_OBJECTS,
    FUNCTIONS,
    KMS_KEY_ARN,
    LEDGER_ONLY_FUNCTIONS,
    REQUIRED_PARAMETERS,
    SECRET_READERS,
    XRAY_WRITE_ONLY,
    Template,
    Transform,
    as_list,
    iam_statements,
    render,
    resources_of_type,
    role_of,
    role_statements,
)

EXPECTED_ROUTES = {
    ("POST", "/v1/bind"): "BindFunction",
    ("POST", "/v1/unbind"): "UnbindFunction",
    ("POST", "/v1/query"): "QueryFunction",
    ("GET", "/v1/accounts/{account}/tokens"): "QueryFunction",
    ("GET", "/v1/tokens/{token}/accounts"): "QueryFunction",
    ("GET", "/v1/openapi.json"): "QueryFunction",
    ("GET", "/v1/docs"): "QueryFunction",
    ("GET", "/v1/docs/swagger-ui-bundle.js"): "QueryFunction",
    ("GET", "/v1/docs/swagger-ui.css"): "QueryFunction",
    ("POST", "/v1/jobs"): "JobsFunction",
    ("GET", "/v1/jobs/{job_id}"): "JobsFunction",
    ("GET", "/v1/jobs/{job_id}/failures"): "JobsFunction",
    ("GET", "/v1/tokens/{token}/bindings"): "QueryFunction",
    ("GET", "/v1/accounts/{account}/bindings"): "QueryFunction",
}

# cfn-lint warnings we accept, by rule id, each with the reason. Errors are never accepted.
ALLOWED_LINT_WARNINGS: dict[str, str] = {}

API_GATEWAY_TIMEOUT_S = 29
# Each kind of function has its own memory parameter (latency for the API, GB-s for the rest).
MEMORY_PARAMETERS = {
    **dict.fromkeys(API_FUNCTIONS, "ApiFunctionMemorySize"),
    "BulkFunction": "BulkFunctionMemorySize",
    "CleanupFunction": "CleanupFunctionMemorySize",
    # A queue consumer like bulk: nobody waits for it, so it shares the bulk size.
    "VerifyFunction": "BulkFunctionMemorySize",
}
PACKAGING = {"BuildMethod": "makefile", "ContextPath": "lambda-build"}
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:tpns/prod-AbCdEf"
HTTP_METHODS = {
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "x-amazon-apigateway-any-method",
}


def lint_problems(text: str, **params: str) -> list[str]:
    """cfn-lint's errors, and its warnings but the allowed ones, for a template's text."""
    matches = lint(
        text,
        config=ManualArgs(regions=[REGION], template_parameters=[params] if params else []),
    )
    return [
        f"{match.rule.id} {match.message} (line {match.linenumber})"
        for match in matches
        if match.rule.severity == "error" or match.rule.id not in ALLOWED_LINT_WARNINGS
    ]


def api_methods(template: Template) -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, path) -> operation of the RestApi body SAM generated for TpnsApi."""
    body = template["Resources"]["TpnsApi"]["Properties"]["Body"]
    return {
        (method.upper(), path): operation
        for path, item in body["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def integrated_function(operation: dict[str, Any]) -> str:
    """The function an API operation proxies to (it must be a Lambda proxy integration)."""
    integration = operation["x-amazon-apigateway-integration"]
    assert integration["type"] == "aws_proxy"
    found = re.fullmatch(
        r"arn:aws:apigateway:\$\{AWS::Region\}:lambda:path/2015-03-31/functions/"
        r"\$\{(\w+)\.Arn\}/invocations",
        integration["uri"]["Fn::Sub"],
    )
    assert found, integration["uri"]
    return found.group(1)


def readme_defaults() -> dict[str, str]:
    """Variable -> default from the README's configuration table (rows with a literal default)."""
    readme = README_PATH.read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `([A-Z0-9_]+)` \|.*\| `([^`]+)` \|$", readme, flags=re.MULTILINE))


# ------------------------------------------------------------------ lint


def test_sam_template_is_lint_clean_for_every_auth_mode() -> None:
    # GIVEN the SAM template as written
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    # WHEN cfn-lint checks it (transforming it itself) with each auth mode
    problems = {
        mode: lint_problems(text, ApiAuthMode=mode, **REQUIRED_PARAMETERS) for mode in AUTH_MODES
    }
    # THEN it reports nothing
    assert problems == {mode: [] for mode in AUTH_MODES}


@pytest.mark.parametrize("mode", AUTH_MODES)
def test_transformed_template_is_lint_clean(transform: Transform, mode: str) -> None:
    # GIVEN the template transformed by aws-sam-translator with the auth mode
    transformed = transform(ApiAuthMode=mode)
    # WHEN cfn-lint checks the CloudFormation it became
    problems = lint_problems(json.dumps(transformed))
    # THEN it reports nothing
    assert problems == []


# ------------------------------------------------------------------ functions and layer


def test_functions_run_python311_on_arm64_within_api_gateway_timeout(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN its Lambda functions are listed
    functions = resources_of_type(template, "AWS::Lambda::Function")
    # THEN there are the seven of them, each on python3.11 / arm64 with its kind's memory, the API
    # ones answering before API Gateway quits (bulk, cleanup and verify have timeouts of their
    # own, see test_bulk_and_cleanup)
    assert sorted(functions) == sorted(FUNCTIONS)
    for name, function in functions.items():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.11", name
        assert properties["Architectures"] == ["arm64"], name
        if name in API_FUNCTIONS:
            assert properties["Timeout"] < API_GATEWAY_TIMEOUT_S, name
        assert properties["MemorySize"] == {"Ref": MEMORY_PARAMETERS[name]}, name
        assert properties["Handler"] == "app.lambda_handler", name


def test_globals_set_runtime_timeout_and_the_api_memory(sam_template: Template) -> None:
    # GIVEN the SAM source as written
    # WHEN its Globals section for functions is read
    function_globals = sam_template["Globals"]["Function"]
    # THEN runtime and timeout are set once, memory to the API functions' size (bulk, verify
    # and cleanup set their own)
    assert function_globals["Runtime"] == "python3.11"
    assert function_globals["Timeout"] < API_GATEWAY_TIMEOUT_S
    assert function_globals["MemorySize"] == {"Ref": "ApiFunctionMemorySize"}
    assert "FunctionMemorySize" not in sam_template["Parameters"]


def test_memory_defaults_are_the_documented_and_benchmarked_ones(sam_template: Template) -> None:
    # GIVEN the memory parameters, the README's deploy table and the committed benchmark
    parameters = sam_template["Parameters"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\s*\| `(\w+MemorySize)` \| .* \| (\d+)\b", readme, re.M))
    benchmarks = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    for parameter in sorted(set(MEMORY_PARAMETERS.values())):
        default = parameters[parameter]["Default"]
        # THEN each is a Lambda size with the README's default
        assert parameters[parameter]["MinValue"] == 128, parameter
        assert parameters[parameter]["MaxValue"] == 10240, parameter
        assert documented[parameter] == str(default), parameter
    # AND the benchmark's last run found the API and bulk defaults to be its own picks
    for parameter in ("ApiFunctionMemorySize", "BulkFunctionMemorySize"):
        default = parameters[parameter]["Default"]
        row = rf"^\| {parameter} default {default} MB[^|]* \| met \|"
        assert re.search(row, benchmarks, re.M), parameter


def test_each_function_has_its_own_code_directory(sam_template: Template) -> None:
    # GIVEN the SAM source as written
    # WHEN its functions are listed
    functions = {
        name: body["Properties"]
        for name, body in sam_template["Resources"].items()
        if body["Type"] == "AWS::Serverless::Function"
    }
    # THEN each one's code lives in functions/<name>/
    assert {name: props["CodeUri"] for name, props in functions.items()} == {
        "BindFunction": "functions/bind/",
        "UnbindFunction": "functions/unbind/",
        "QueryFunction": "functions/query/",
        "JobsFunction": "functions/jobs/",
        "BulkFunction": "functions/bulk/",
        "CleanupFunction": "functions/cleanup/",
        "VerifyFunction": "functions/verify/",
    }


def test_every_function_uses_the_shared_layer(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN its one layer and its functions are looked at
    (layer,) = resources_of_type(template, "AWS::Lambda::LayerVersion")
    # THEN every function runs with the TPNS layer
    for name, function in resources_of_type(template, "AWS::Lambda::Function").items():
        assert function["Properties"]["Layers"] == [{"Ref": layer}], name


def test_layer_is_built_from_layers_tpns_for_python311_arm64(sam_template: Template) -> None:
    # GIVEN the SAM source as written
    # WHEN its layer is looked at, as SAM builds it
    layer = sam_template["Resources"]["TpnsLayer"]
    # THEN sam build installs layers/tpns (requirements and packages) for python3.11 on arm64
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"] == "layers/tpns/"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.11"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"] == {**PACKAGING, "BuildArchitecture": "arm64"}
    assert (ROOT / "layers/tpns/requirements.txt").is_file()
    assert (ROOT / "layers/tpns/tpns_account/__init__.py").is_file()


def test_every_resource_is_built_by_the_lambda_build_makefile_for_the_runtime(
    sam_template: Template,
) -> None:
    # GIVEN the functions and the layer, and lambda-build/Makefile
    resources = {
        name: body
        for name, body in sam_template["Resources"].items()
        if body["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion")
    }
    makefile = (ROOT / "lambda-build" / "Makefile").read_text(encoding="utf-8")
    settings = dict(re.findall(r"^(LAMBDA_\w+)\s*:=\s*(\S+)", makefile, re.M))
    # THEN each is built by it (so `sam build` ships bytecode), and it has a target for each
    for name, body in resources.items():
        assert {k: body["Metadata"][k] for k in PACKAGING} == PACKAGING, name
        dry_run = subprocess.run(
            [
                "make",
                "-n",
                "-f",
                "lambda-build/Makefile",
                f"build-{name}",
                "ARTIFACTS_DIR=/nowhere",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert dry_run.returncode == 0, (name, dry_run.stderr)
    # AND it compiles for the template's runtime and installs wheels for its architecture
    assert settings["LAMBDA_PYTHON"] == sam_template["Globals"]["Function"]["Runtime"]
    assert sam_template["Globals"]["Function"]["Architectures"] == ["arm64"]
    assert settings["LAMBDA_PLATFORM"].endswith("_aarch64")
    assert "--invalidation-mode unchecked-hash" in makefile


def test_environment_comes_from_parameters_with_the_readme_defaults(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the defaults the README documents, and the template's parameters
    documented = readme_defaults()
    parameters = sam_template["Parameters"]
    # WHEN looking at each deployed function's environment
    for name, function in resources_of_type(deployed(), "AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        # THEN each TPNS setting is a parameter whose default is the documented one
        for variable in (
            "TPNS_ENDPOINT",
            "TPNS_AUTH",
            "TPNS_TIMEOUT_S",
            "TPNS_MAX_CONCURRENCY",
            "TPNS_MAX_QPS",
            "SYNC_MAX_ITEMS",
        ):
            parameter = variables[variable]["Ref"]
            assert str(parameters[parameter]["Default"]) == documented[variable], (name, variable)
        assert variables["TPNS_SECRET_ID"] == {"Ref": "TpnsSecretId"}, name
        assert variables["POWERTOOLS_SERVICE_NAME"] == "tpns-bindings", name
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "TpnsBindings", name
        assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}, name
    assert parameters["LogLevel"]["Default"] == "INFO"


def test_tpns_auth_parameter_allows_only_the_two_schemes(sam_template: Template) -> None:
    # GIVEN the SAM source as written
    # WHEN its TPNS auth parameter is read
    parameter = sam_template["Parameters"]["TpnsAuth"]
    # THEN only the schemes the layer knows can be chosen
    assert parameter["AllowedValues"] == ["signature", "basic"]


def test_secret_parameter_takes_a_reference_never_a_value(sam_template: Template) -> None:
    # GIVEN the SAM source as written
    # WHEN its secret parameter is read
    parameter = sam_template["Parameters"]["TpnsSecretId"]
    # THEN it is required, and only a secret name or ARN fits it (no JSON credentials)
    assert "Default" not in parameter
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("tpns/prod")
    assert pattern.fullmatch(SECRET_ARN)
    assert not pattern.fullmatch('{"access_id": "1500001048", "secret_key": "x"}')


QUEUE_AND_BUCKET_VARIABLES = (
    "BULK_QUEUE_URL",
    "DEAD_LETTER_QUEUE_URL",
    "CLEANUP_BUCKET",
    "EXPORT_BUCKET",
)


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("BindFunction", {}),
        ("UnbindFunction", {}),
        ("QueryFunction", {}),
        ("JobsFunction", {"BULK_QUEUE_URL": {"Ref": "BulkQueue"}}),
        (
            "BulkFunction",
            {
                "DEAD_LETTER_QUEUE_URL": {"Ref": "BulkDeadLetterQueue"},
                # an export's pages: each queues the next, and writes under exports/
                "BULK_QUEUE_URL": {"Ref": "BulkQueue"},
                "EXPORT_BUCKET": {"Ref": "CleanupBucket"},
            },
        ),
        (
            "CleanupFunction",
            {"BULK_QUEUE_URL": {"Ref": "BulkQueue"}, "CLEANUP_BUCKET": {"Ref": "CleanupBucket"}},
        ),
    ],
)
def test_only_the_producers_know_the_bulk_queue(
    deployed: Transform, function: str, expected: dict[str, Any]
) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN the function's queue and bucket variables are read
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    known = {name: variables[name] for name in QUEUE_AND_BUCKET_VARIABLES if name in variables}
    # THEN the jobs and cleanup functions get the bulk queue URL, and the bulk function for its
    # exports; the others do not; only the bulk function knows the dead-letter queue, only
    # cleanup the manifests bucket (and the bulk function, for the exports)
    assert known == expected, function


def test_each_function_has_a_log_group_with_parameter_retention(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN the functions' log groups are listed (the API's access log has its own test)
    groups = {
        name: group
        for name, group in resources_of_type(template, "AWS::Logs::LogGroup").items()
        if group["Properties"]["LogGroupName"]["Fn::Sub"].startswith("/aws/lambda/")
    }
    # THEN each function writes to its own log group, kept as long as the parameter says
    names = {group["Properties"]["LogGroupName"]["Fn::Sub"] for group in groups.values()}
    assert names == {f"/aws/lambda/${{{function}}}" for function in FUNCTIONS}
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    assert sam_template["Parameters"]["LogRetentionInDays"]["Default"] == 30


# ------------------------------------------------------------------ routes


def test_api_events_declare_exactly_the_expected_routes(sam_template: Template) -> None:
    # GIVEN the SAM source as written
    # WHEN the events of its functions are collected: API routes, and the others by type
    routes: dict[tuple[str, str], str] = {}
    other_events: dict[str, list[str]] = {}
    for name, body in sam_template["Resources"].items():
        if body["Type"] != "AWS::Serverless::Function":
            continue
        for event in body["Properties"].get("Events", {}).values():
            if event["Type"] != "Api":
                other_events[name] = [*other_events.get(name, []), event["Type"]]
                continue
            properties = event["Properties"]
            # THEN each one is on the one TpnsApi
            assert properties["RestApiId"] == {"Ref": "TpnsApi"}, name
            routes[(properties["Method"].upper(), properties["Path"])] = name
    # AND together they are exactly the routes of DESIGN.md and the docs page's assets, on the
    # intended functions
    assert routes == EXPECTED_ROUTES
    # AND the bulk, cleanup and verify functions have no route, only their queue or schedule
    assert other_events == {
        "BulkFunction": ["SQS"],
        "CleanupFunction": ["ScheduleV2"],
        "VerifyFunction": ["SQS"],
    }


@pytest.mark.parametrize("mode", AUTH_MODES)
def test_api_serves_exactly_the_expected_routes_with_lambda_proxy(
    deployed: Transform, mode: str
) -> None:
    # GIVEN the template deployed in the auth mode
    template = deployed(ApiAuthMode=mode)
    # WHEN the methods of the REST API CloudFormation would deploy are listed
    methods = api_methods(template)
    # THEN it has the expected routes and nothing else, each proxied to the intended function
    assert {route: integrated_function(op) for route, op in methods.items()} == EXPECTED_ROUTES


def test_api_has_no_methods_outside_its_definition(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN its API Gateway resources are listed
    methods = resources_of_type(template, "AWS::ApiGateway::Method")
    # THEN every method is in the RestApi body (so the body's security covers all of them)
    assert methods == {}
    assert resources_of_type(template, "AWS::ApiGateway::Resource") == {}
    assert list(resources_of_type(template, "AWS::ApiGateway::RestApi")) == ["TpnsApi"]


def test_api_gateway_may_invoke_each_function_only_from_its_own_routes(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN its Lambda permissions are read
    permissions = resources_of_type(template, "AWS::Lambda::Permission")
    granted = set()
    for permission in permissions.values():
        properties = permission["Properties"]
        # THEN each lets API Gateway invoke a function, scoped to TpnsApi and one method and path
        assert properties["Principal"] == "apigateway.amazonaws.com"
        assert properties["Action"] == "lambda:InvokeFunction"
        text, variables = properties["SourceArn"]["Fn::Sub"]
        assert variables["__ApiId__"] == {"Ref": "TpnsApi"}
        scope = re.fullmatch(r".*/\$\{__Stage__\}/([A-Z]+)(/.*)", text)
        assert scope, text
        granted.add(((scope.group(1), scope.group(2)), properties["FunctionName"]["Ref"]))
    expected = {
        ((method, re.sub(r"\{\w+\}", "*", path)), function)
        for (method, path), function in EXPECTED_ROUTES.items()
    }
    # AND together they are the routes, each for its own function only
    assert granted == expected


def test_api_is_regional_and_its_url_is_an_output(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN the API's endpoint, its stage and the ApiUrl output are read
    api = template["Resources"]["TpnsApi"]["Properties"]
    # THEN the API is regional, and ApiUrl points at its stage
    assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert template["Outputs"]["ApiUrl"]["Value"] == {
        "Fn::Sub": "https://${TpnsApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${StageName}"
    }
    stage = template["Resources"]["TpnsApiStage"]["Properties"]
    assert stage["StageName"] == {"Ref": "StageName"}


# ------------------------------------------------------------------ auth


def test_auth_defaults_to_iam(sam_template: Template) -> None:
    # GIVEN the SAM source as written
    # WHEN its auth-mode parameter is read
    parameter = sam_template["Parameters"]["ApiAuthMode"]
    # THEN IAM is the default and no choice leaves the API open
    assert parameter["Default"] == "IAM"
    assert parameter["AllowedValues"] == ["IAM", "API_KEY"]


def test_iam_mode_every_method_requires_sigv4(deployed: Transform) -> None:
    # GIVEN the API deployed with default parameters
    template = deployed()
    # WHEN its methods and security definitions are read
    body = template["Resources"]["TpnsApi"]["Properties"]["Body"]
    # THEN every method requires the sigv4 scheme alone (AWS_IAM auth; no NONE, no API key)
    for route, operation in api_methods(template).items():
        assert operation.get("security") == [{"sigv4": []}], route
    assert body["securityDefinitions"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_iam_mode_creates_no_api_key_nor_usage_plan(deployed: Transform) -> None:
    # GIVEN the API deployed with default parameters
    template = deployed()
    # WHEN its API key, usage plan and outputs are looked for
    # THEN there is no API key machinery and no ApiKeyId output
    for resource_type in (
        "AWS::ApiGateway::ApiKey",
        "AWS::ApiGateway::UsagePlan",
        "AWS::ApiGateway::UsagePlanKey",
    ):
        assert resources_of_type(template, resource_type) == {}, resource_type
    assert "ApiKeyId" not in template["Outputs"]


def test_api_key_mode_every_method_requires_an_api_key(deployed: Transform) -> None:
    # GIVEN the API deployed with ApiAuthMode=API_KEY
    template = deployed(ApiAuthMode="API_KEY")
    # WHEN its methods and security definitions are read
    body = template["Resources"]["TpnsApi"]["Properties"]["Body"]
    # THEN every method requires the x-api-key header (ApiKeyRequired), read from the header
    for route, operation in api_methods(template).items():
        assert operation.get("security") == [{"api_key": []}], route
    assert body["securityDefinitions"]["api_key"] == {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
    }
    assert body["x-amazon-apigateway-api-key-source"] == "HEADER"


def test_api_key_mode_creates_a_key_in_a_throttled_usage_plan(deployed: Transform) -> None:
    # GIVEN the API deployed with ApiAuthMode=API_KEY
    template = deployed(ApiAuthMode="API_KEY")
    # WHEN its usage plan, API key and their link are read (one of each)
    ((plan_name, plan),) = resources_of_type(template, "AWS::ApiGateway::UsagePlan").items()
    ((key_name, key),) = resources_of_type(template, "AWS::ApiGateway::ApiKey").items()
    (link,) = resources_of_type(template, "AWS::ApiGateway::UsagePlanKey").values()
    # THEN the key is attached to the plan on the API's stage, throttled by parameters
    assert plan["Properties"]["ApiStages"] == [
        {"ApiId": {"Ref": "TpnsApi"}, "Stage": {"Ref": "TpnsApiStage"}}
    ]
    assert plan["Properties"]["Throttle"] == {
        "BurstLimit": {"Ref": "ApiThrottleBurst"},
        "RateLimit": {"Ref": "ApiThrottleRate"},
    }
    assert "Quota" not in plan["Properties"]
    assert key["Properties"]["Enabled"] is True
    assert link["Properties"] == {
        "KeyId": {"Ref": key_name},
        "KeyType": "API_KEY",
        "UsagePlanId": {"Ref": plan_name},
    }
    assert template["Outputs"]["ApiKeyId"]["Value"] == {"Ref": key_name}


def test_throttle_parameters_have_the_documented_defaults(sam_template: Template) -> None:
    # GIVEN the SAM source as written
    # WHEN its throttle parameters are read
    parameters = sam_template["Parameters"]
    # THEN burst 50 and rate 25 by default
    assert parameters["ApiThrottleBurst"]["Default"] == 50
    assert parameters["ApiThrottleRate"]["Default"] == 25


def test_usage_plan_quota_applies_only_when_set(deployed: Transform) -> None:
    # GIVEN an API-key deployment with a quota
    template = deployed(ApiAuthMode="API_KEY", ApiQuotaLimit="10000", ApiQuotaPeriod="MONTH")
    # WHEN its usage plan is read
    (plan,) = resources_of_type(template, "AWS::ApiGateway::UsagePlan").values()
    # THEN the usage plan carries the quota
    assert plan["Properties"]["Quota"] == {
        "Limit": {"Ref": "ApiQuotaLimit"},
        "Period": {"Ref": "ApiQuotaPeriod"},
    }


@pytest.mark.parametrize("mode", AUTH_MODES)
def test_stage_is_throttled_in_every_mode(deployed: Transform, mode: str) -> None:
    # GIVEN the template deployed in the auth mode
    template = deployed(ApiAuthMode=mode)
    # WHEN its stage is read
    stage = template["Resources"]["TpnsApiStage"]["Properties"]
    # THEN all its methods are throttled by the parameters
    assert stage["MethodSettings"] == [
        {
            "HttpMethod": "*",
            "ResourcePath": "/*",
            "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurst"},
            "ThrottlingRateLimit": {"Ref": "ApiThrottleRate"},
            "MetricsEnabled": True,
        }
    ]


def test_api_redeploys_on_every_stack_update(sam_template: Template) -> None:
    # GIVEN the SAM source as written (the API's auth switches through a CloudFormation
    # condition SAM's deployment hash cannot see)
    # WHEN the API's properties are read
    api = sam_template["Resources"]["TpnsApi"]["Properties"]
    # THEN a new deployment is made on every update, so the stage never serves a stale auth mode
    assert api["AlwaysDeploy"] is True


def test_gateway_errors_use_the_api_error_shape(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN the API's own error responses (missing auth, throttled, ...) are rendered
    body = template["Resources"]["TpnsApi"]["Properties"]["Body"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    # THEN they render {"error": {"code", "message"}, "request_id"} like the functions do
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        template = responses[kind]["responseTemplates"]["application/json"]
        sample = (
            template.replace("$context.error.responseType", "ACCESS_DENIED")
            .replace("$context.error.messageString", '"Forbidden"')
            .replace("$context.requestId", "req-1")
        )
        assert json.loads(sample) == {
            "error": {"code": "ACCESS_DENIED", "message": "Forbidden"},
            "request_id": "req-1",
        }


# ------------------------------------------------------------------ least privilege


@pytest.mark.parametrize("mode", AUTH_MODES)
def test_no_policy_grants_wildcard_actions_or_resources(deployed: Transform, mode: str) -> None:
    # GIVEN the template deployed in the auth mode, with a KMS key for the secret
    template = deployed(ApiAuthMode=mode, TpnsSecretKmsKeyArn=KMS_KEY_ARN)
    # WHEN every identity policy statement it creates is read
    statements = list(iam_statements(template))
    # THEN there are some, and each allows named actions only, on named resources only
    assert statements
    for owner, statement in statements:
        assert statement["Effect"] == "Allow", owner
        for action in as_list(statement["Action"]):
            assert "*" not in action, (owner, action)
        for resource in as_list(statement["Resource"]):
            rendered = render(resource, {**REQUIRED_PARAMETERS, "TpnsSecretKmsKeyArn": KMS_KEY_ARN})
            # (objects under the cleanup bucket's prefixes are the one allowed pattern)
            if rendered in (*CLEANUP_OBJECT_RESOURCES, EXPORT_OBJECTS):
                continue
            assert "*" not in json.dumps(rendered), (owner, resource)


# The template's own managed policies each function's role attaches, with LedgerMode on.
OWN_POLICIES = {
    "BindFunction": {"TpnsSecretReadPolicy", "LedgerWritePolicy"},
    "UnbindFunction": {"TpnsSecretReadPolicy", "LedgerWritePolicy"},
    "QueryFunction": {"TpnsSecretReadPolicy", "LedgerReadPolicy"},
    "JobsFunction": {"TpnsSecretReadPolicy", "JobsWritePolicy"},
    "BulkFunction": {
        "TpnsSecretReadPolicy",
        "JobsWritePolicy",
        "LedgerWritePolicy",
        "LedgerExportPolicy",
    },
    "CleanupFunction": {"JobsWritePolicy"},
    "VerifyFunction": {"TpnsSecretReadPolicy", "JobsWritePolicy", "LedgerWritePolicy"},
}
LEDGER_POLICIES = {"LedgerWritePolicy", "LedgerReadPolicy", "LedgerExportPolicy"}


def attached_policies(template: Template, function: str) -> tuple[set[str], set[str]]:
    """The AWS managed policies (ARNs) and the template's own (logical ids) of its role."""
    role = template["Resources"][role_of(template, function)]["Properties"]
    attached = [render(arn, REQUIRED_PARAMETERS) for arn in role["ManagedPolicyArns"]]
    return (
        {arn for arn in attached if isinstance(arn, str)},
        {arn["Ref"] for arn in attached if isinstance(arn, dict)},
    )


@pytest.mark.parametrize("function", FUNCTIONS)
def test_roles_attach_basic_execution_xray_and_only_the_policies_of_their_work(
    deployed: Transform, function: str
) -> None:
    # GIVEN the template deployed with default parameters (LedgerMode on)
    template = deployed()
    # WHEN the function's role is read
    aws_managed, own = attached_policies(template, function)
    role = template["Resources"][role_of(template, function)]["Properties"]
    # THEN it has the AWS basic execution and X-Ray write-only policies, and the template's
    # policies for what it does; nothing else (no AWSLambdaSQSQueueExecutionRole: it covers
    # every queue)
    assert aws_managed == {BASIC_EXECUTION_ROLE, XRAY_WRITE_ONLY}, function
    assert own == OWN_POLICIES[function], function
    # AND a function reads the TPNS secret exactly when it calls TPNS
    assert ("TpnsSecretReadPolicy" in own) == (function in SECRET_READERS), function
    # AND only Lambda may assume it
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": ["sts:AssumeRole"],
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com"]},
        }
    ], function


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS) - set(LEDGER_ONLY_FUNCTIONS)))
def test_with_the_ledger_off_no_role_reaches_the_ledger(deployed: Transform, function: str) -> None:
    # GIVEN the template deployed with LedgerMode off
    template = deployed(LedgerMode="off")
    # WHEN the function's role is read
    _, own = attached_policies(template, function)
    # THEN it keeps the policies of its other work, and none of the ledger's
    assert own == OWN_POLICIES[function] - LEDGER_POLICIES, function


def test_with_the_ledger_off_there_is_no_ledger_table_verify_queue_or_function(
    deployed: Transform,
) -> None:
    # GIVEN the template deployed with LedgerMode off
    template = deployed(LedgerMode="off")
    # WHEN its resources are listed
    resources = set(template["Resources"])
    # THEN the ledger's table, policies, verify queues and function are not among them
    absent = {"LedgerTable", "VerifyQueue", "VerifyDeadLetterQueue", "VerifyFunction"}
    assert not resources & (absent | LEDGER_POLICIES)
    # AND the functions are told there is no ledger
    environment = template["Resources"]["BindFunction"]["Properties"]["Environment"]["Variables"]
    assert (environment["LEDGER_TABLE"], environment["VERIFY_QUEUE_URL"]) == ("", "")


@pytest.mark.parametrize(
    ("secret_id", "expected_resource"),
    [
        ("tpns/prod", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:tpns/prod-??????"),
        (SECRET_ARN, SECRET_ARN),
    ],
    ids=["secret-name", "secret-arn"],
)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_may_read_exactly_the_tpns_secret(
    deployed: Transform, function: str, secret_id: str, expected_resource: str
) -> None:
    # GIVEN the template deployed with the secret given by name or by ARN
    template = deployed(TpnsSecretId=secret_id)
    # WHEN collecting what the function's role allows on Secrets Manager
    grants = [
        (statement["Action"], render(statement["Resource"], {"TpnsSecretId": secret_id}))
        for statement in role_statements(template, role_of(template, function))
        if any(action.startswith("secretsmanager:") for action in as_list(statement["Action"]))
    ]
    # THEN it is GetSecretValue on that one secret (none at all for cleanup)
    if function in SECRET_READERS:
        assert grants == [("secretsmanager:GetSecretValue", expected_resource)], function
    else:
        assert grants == [], function


def kms_statements(template: Template, function: str) -> list[dict[str, Any]]:
    """The statements of the function's role that allow a KMS action."""
    return [
        statement
        for statement in role_statements(template, role_of(template, function))
        if any(action.startswith("kms:") for action in as_list(statement["Action"]))
    ]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_kms_access_without_a_configured_key(deployed: Transform, function: str) -> None:
    # GIVEN the template deployed without a customer-managed key for the secret
    template = deployed()
    # WHEN collecting what the function's role allows on KMS
    statements = kms_statements(template, function)
    # THEN it is nothing
    assert statements == [], function


@pytest.mark.parametrize("function", SECRET_READERS)
def test_kms_decrypt_only_with_the_configured_key_through_secrets_manager(
    deployed: Transform, function: str
) -> None:
    # GIVEN the template deployed with a customer-managed key for the secret
    template = deployed(TpnsSecretKmsKeyArn=KMS_KEY_ARN)
    # WHEN collecting what the role of a function reading the secret allows on KMS
    (statement,) = kms_statements(template, function)
    # THEN it is Decrypt on that key only, and only on behalf of Secrets Manager
    assert statement["Action"] == "kms:Decrypt"
    assert render(statement["Resource"], {"TpnsSecretKmsKeyArn": KMS_KEY_ARN}) == KMS_KEY_ARN
    via = statement["Condition"]["StringEquals"]["kms:ViaService"]
    assert render(via, {}) == f"secretsmanager.{REGION}.amazonaws.com"


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS) - set(SECRET_READERS)))
def test_functions_that_do_not_read_the_secret_never_get_kms_access(
    deployed: Transform, function: str
) -> None:
    # GIVEN the template deployed with a customer-managed key for the secret
    template = deployed(TpnsSecretKmsKeyArn=KMS_KEY_ARN)
    # WHEN collecting what the role of a function not reading the secret allows on KMS
    statements = kms_statements(template, function)
    # THEN it is nothing
    assert statements == [], function


def test_each_function_may_use_only_its_own_queues(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters (LedgerMode on)
    template = deployed()
    # WHEN collecting every SQS grant of every function
    grants = {
        function: [
            (statement["Action"], statement["Resource"])
            for statement in role_statements(template, role_of(template, function))
            if any(action.startswith("sqs:") for action in as_list(statement["Action"]))
        ]
        for function in FUNCTIONS
    }
    bulk_queue = {"Fn::GetAtt": ["BulkQueue", "Arn"]}
    verify_queue = {"Fn::GetAtt": ["VerifyQueue", "Arn"]}
    consume = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    schedule_verification = ("sqs:SendMessage", verify_queue)
    # THEN jobs and cleanup may send to the bulk queue; the bulk function may consume it and send
    # to its dead-letter queue; what records bindings may schedule their verification, which the
    # verify function consumes; nothing else
    assert grants == {
        "BindFunction": [schedule_verification],
        "UnbindFunction": [schedule_verification],
        "QueryFunction": [],
        "JobsFunction": [("sqs:SendMessage", bulk_queue)],
        "BulkFunction": [
            (consume, bulk_queue),
            ("sqs:SendMessage", {"Fn::GetAtt": ["BulkDeadLetterQueue", "Arn"]}),
            schedule_verification,
            ("sqs:SendMessage", bulk_queue),  # an export's next page
        ],
        "CleanupFunction": [("sqs:SendMessage", bulk_queue)],
        "VerifyFunction": [(consume, verify_queue), schedule_verification],
    }


def test_only_the_bulk_function_can_touch_the_dead_letter_queue(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN every identity policy statement is read
    for owner, statement in iam_statements(template):
        # THEN none but the bulk function's mentions the dead-letter queue, and that one only sends
        if "BulkDeadLetterQueue" in json.dumps(statement):
            assert owner == "BulkFunctionRole"
            assert statement["Action"] == "sqs:SendMessage"
            assert statement["Resource"] == {"Fn::GetAtt": ["BulkDeadLetterQueue", "Arn"]}


# ------------------------------------------------------------------ queues


def test_bulk_queue_redrives_to_the_dead_letter_queue_after_parameter_receives(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN the bulk queue is read
    queue = template["Resources"]["BulkQueue"]["Properties"]
    # THEN messages move to the DLQ after BulkMaxReceiveCount (default 5) deliveries
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["BulkDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "BulkMaxReceiveCount"},
    }
    assert sam_template["Parameters"]["BulkMaxReceiveCount"]["Default"] == 5


def test_bulk_queue_visibility_timeout_is_a_parameter_of_six_function_timeouts(
    deployed: Transform, sam_template: Template
) -> None:
    # GIVEN the template deployed with default parameters, and the SAM source's parameters
    template = deployed()
    # WHEN the bulk queue and its visibility-timeout parameter are read
    queue = template["Resources"]["BulkQueue"]["Properties"]
    parameters = sam_template["Parameters"]
    parameter = parameters["BulkQueueVisibilityTimeout"]
    # THEN the default leaves 6x the bulk function's timeout plus the batching window (AWS
    # guidance for a queue Lambda consumes), and says so
    assert queue["VisibilityTimeout"] == {"Ref": "BulkQueueVisibilityTimeout"}
    assert parameter["Default"] == 6 * 90 + 1
    assert parameter["Default"] >= (
        6 * parameters["BulkFunctionTimeout"]["Default"]
        + parameters["BulkMaximumBatchingWindowInSeconds"]["Default"]
    )
    assert "6x BulkFunctionTimeout" in " ".join(parameter["Description"].split())


def test_queues_are_encrypted_and_the_dlqs_keep_messages_longest(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    resources = template["Resources"]
    # WHEN its queues are read
    queues = sorted(resources_of_type(template, "AWS::SQS::Queue"))
    # THEN there are the bulk and verify queues with their dead-letter queues, and the schedule's
    assert queues == [
        "BulkDeadLetterQueue",
        "BulkQueue",
        "CleanupScheduleDeadLetterQueue",
        "VerifyDeadLetterQueue",
        "VerifyQueue",
    ]
    dead_letter_queues = ("BulkDeadLetterQueue", "VerifyDeadLetterQueue")
    dlqs = [
        resources[name]["Properties"]
        for name in (*dead_letter_queues, "CleanupScheduleDeadLetterQueue")
    ]
    # AND all use SQS-managed encryption, and the DLQs keep messages 14 days (longer than the
    # queues)
    for name in queues:
        assert resources[name]["Properties"]["SqsManagedSseEnabled"] is True, name
    for dlq in dlqs:
        assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
        for queue in ("BulkQueue", "VerifyQueue"):
            retention = resources[queue]["Properties"]["MessageRetentionPeriod"]
            assert retention < dlq["MessageRetentionPeriod"]


def test_queues_refuse_requests_without_tls(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN its queue policies are read
    policies = resources_of_type(template, "AWS::SQS::QueuePolicy")
    covered: list[str] = []
    for policy in policies.values():
        queues = policy["Properties"]["Queues"]
        # THEN each has one statement: deny every action on its queues to anyone not using TLS
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Principal"] == "*"
        assert statement["Action"] == "sqs:*"
        assert as_list(statement["Resource"]) == [
            {"Fn::GetAtt": [queue["Ref"], "Arn"]} for queue in queues
        ]
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        covered.extend(queue["Ref"] for queue in queues)
    # AND together they cover every queue, each once (a queue has one policy)
    assert sorted(covered) == sorted(resources_of_type(template, "AWS::SQS::Queue"))


# ------------------------------------------------------------------ outputs


def test_outputs_name_the_api_queues_bucket_and_layer(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN its outputs are read
    outputs = template["Outputs"]
    # THEN they give the API URL, the queue URLs, the manifests bucket, the cleanup function and
    # the layer version
    assert set(outputs) == {
        "ApiUrl",
        "BulkQueueUrl",
        "BulkDeadLetterQueueUrl",
        "CleanupBucketName",
        "CleanupScheduleDeadLetterQueueUrl",
        "CleanupFunctionName",
        "TpnsLayerArn",
        "DashboardUrl",
        "JobsTableName",
        "LedgerTableName",
        "VerifyQueueUrl",
        "VerifyDeadLetterQueueUrl",
    }
    assert outputs["BulkQueueUrl"]["Value"] == {"Ref": "BulkQueue"}
    assert outputs["BulkDeadLetterQueueUrl"]["Value"] == {"Ref": "BulkDeadLetterQueue"}
    assert outputs["CleanupBucketName"]["Value"] == {"Ref": "CleanupBucket"}
    assert outputs["CleanupScheduleDeadLetterQueueUrl"]["Value"] == {
        "Ref": "CleanupScheduleDeadLetterQueue"
    }
    assert outputs["CleanupFunctionName"]["Value"] == {"Ref": "CleanupFunction"}
    for output, resource in {
        "JobsTableName": "JobsTable",
        "LedgerTableName": "LedgerTable",
        "VerifyQueueUrl": "VerifyQueue",
        "VerifyDeadLetterQueueUrl": "VerifyDeadLetterQueue",
    }.items():
        assert outputs[output]["Value"] == {"Ref": resource}, output
    (layer,) = resources_of_type(template, "AWS::Lambda::LayerVersion")
    assert outputs["TpnsLayerArn"]["Value"] == {"Ref": layer}
