"""What the local stack reads from template.yaml: the same wiring the deployed stack gets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from local_stack.gateway import Match, Router, proxy_event
from local_stack.resources import declared
from local_stack.schedule import ScheduleError, ScheduleExpression
from local_stack.template import ApiRoute, Physical, Template, TemplateError, wire
from tests.support.paths import API_EVENTS_DIR, ROOT, TEMPLATE_PATH


@pytest.fixture(scope="module")
def template() -> Template:
    return Template(TEMPLATE_PATH)


def test_every_route_of_the_api_definition_is_served_by_its_function(template: Template) -> None:
    # GIVEN the routes the API's DefinitionBody secures
    body = template.resources["TpnsApi"]["Properties"]["DefinitionBody"]["paths"]
    declared = {(method.upper(), path) for path, methods in body.items() for method in methods}

    # WHEN the template is wired
    routes = wire(template, Physical()).routes

    # THEN the local gateway serves exactly those, each by a function of the template
    assert {(r.method, r.path) for r in routes} == declared
    assert {r.function for r in routes} == {
        "BindFunction",
        "UnbindFunction",
        "QueryFunction",
        "JobsFunction",
    }


def test_functions_get_globals_and_their_own_environment(template: Template) -> None:
    # GIVEN the physical URL of the bulk dead-letter queue
    physical = Physical(refs={"BulkDeadLetterQueue": "http://aws/dlq"})

    # WHEN the template's functions are wired
    functions = wire(template, physical).functions

    # THEN the bulk function has the globals, its own settings and code, and the layer; the
    # DLQ URL is its own, not another function's
    bulk = functions["BulkFunction"]
    assert bulk.environment["DEAD_LETTER_QUEUE_URL"] == "http://aws/dlq"
    assert bulk.environment["TPNS_MAX_QPS"] == "50"
    assert bulk.timeout_s == 90 and bulk.handler == "app.lambda_handler"
    assert bulk.code_dir == ROOT / "functions" / "bulk"
    assert bulk.layer_dirs == (ROOT / "layers" / "tpns",)
    assert "DEAD_LETTER_QUEUE_URL" not in functions["BindFunction"].environment


def test_parameter_overrides_reach_the_functions_environment() -> None:
    # GIVEN the template with a parameter override and a local-only override
    template = Template(
        TEMPLATE_PATH, {"SyncMaxItems": "7"}, local_overrides={"TpnsEndpoint": "http://127.0.0.1:1"}
    )

    # WHEN its functions are wired
    functions = wire(template, Physical()).functions

    # THEN both reach the functions' environment
    assert functions["BindFunction"].environment["SYNC_MAX_ITEMS"] == "7"
    assert functions["QueryFunction"].environment["TPNS_ENDPOINT"] == "http://127.0.0.1:1"


def test_an_unknown_parameter_override_is_refused() -> None:
    # GIVEN an override of a parameter the template does not have (a typo)
    overrides = {"SyncMaxItem": "7"}
    # WHEN the template is read with it
    # THEN it is refused, naming the parameter
    with pytest.raises(TemplateError, match=r"unknown parameter.*SyncMaxItem"):
        Template(TEMPLATE_PATH, overrides)


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ({"ApiAuthMode": "OPEN"}, "must be one of IAM, API_KEY"),
        ({"BulkBatchSize": "0"}, "must be at least 1"),
        ({"TpnsEndpoint": "http://tpns.example"}, "must match"),
        ({"TpnsTimeoutSeconds": "soon"}, "must be a number"),
    ],
)
def test_an_override_a_deploy_would_reject_is_refused(
    override: dict[str, str], problem: str
) -> None:
    # GIVEN an override that breaks the parameter's constraints
    # WHEN the template is read with it
    # THEN it is refused, saying which constraint, as CloudFormation would
    with pytest.raises(TemplateError, match=problem):
        Template(TEMPLATE_PATH, override)


def test_a_resource_whose_condition_is_false_does_not_exist(template: Template) -> None:
    # GIVEN the API key resource, which exists on condition UseApiKey (false by default)
    # WHEN the template is read by default, and with ApiAuthMode=API_KEY
    with_api_key = Template(TEMPLATE_PATH, {"ApiAuthMode": "API_KEY"})
    # THEN the key exists only in the second
    assert "TpnsApiKey" not in template.resources
    assert "TpnsApiKey" in with_api_key.resources


def test_the_bulk_event_source_and_redrive_come_from_the_template(template: Template) -> None:
    # GIVEN the template's bulk function, its SQS event and its queue
    # WHEN the template is wired
    wiring = wire(template, Physical())

    # THEN the bulk queue triggers the bulk function with the template's settings
    sources = {source.function: source for source in wiring.sqs_sources}
    source = sources["BulkFunction"]
    assert (source.function, source.queue, source.batch_size) == ("BulkFunction", "BulkQueue", 10)
    assert source.report_batch_item_failures and source.max_concurrency == 2
    # AND its queue's redrive policy is the template's
    queue = declared(template).queues["BulkQueue"]
    assert (queue.dead_letter_queue, queue.max_receive_count) == ("BulkDeadLetterQueue", 5)
    assert queue.attributes["VisibilityTimeout"] == "541"


def test_the_cleanup_schedule_comes_from_the_template(template: Template) -> None:
    # GIVEN the template's cleanup function and its ScheduleV2 event
    # WHEN the template is wired
    (schedule,) = wire(template, Physical()).schedules

    # THEN the one schedule runs the cleanup daily at 03:00 UTC with the template's input
    assert schedule.function == "CleanupFunction"
    assert schedule.expression == "cron(0 3 * * ? *)" and schedule.timezone == "UTC"
    assert json.loads(schedule.input) == {"trigger": "schedule"}


def test_an_event_type_the_stack_cannot_run_is_refused_not_ignored(tmp_path: Path) -> None:
    # GIVEN a copy of the template whose cleanup schedule is a Kinesis event instead
    text = TEMPLATE_PATH.read_text().replace("Type: ScheduleV2", "Type: Kinesis", 1)
    (tmp_path / "template.yaml").write_text(text)

    # WHEN it is wired
    # THEN it is refused, naming the function, the event and its type
    with pytest.raises(TemplateError, match=r"CleanupFunction\.Schedule: event type Kinesis"):
        wire(Template(tmp_path / "template.yaml"), Physical())


# ------------------------------------------------------------------ gateway


def test_a_literal_route_wins_over_a_templated_one() -> None:
    # GIVEN a templated route, and a literal one that it also matches
    router = Router(
        [ApiRoute("GET", "/v1/tokens/{token}", "Any"), ApiRoute("GET", "/v1/tokens/all", "All")]
    )

    # WHEN the literal path is requested
    match = router.match("GET", "/v1/tokens/all")

    # THEN the literal route serves it
    assert match is not None and match.route.function == "All"


def test_the_proxy_event_has_the_shape_of_the_canonical_event() -> None:
    # GIVEN the canonical API Gateway event of a GET with a path parameter
    canonical = json.loads((API_EVENTS_DIR / "get-account-tokens.json").read_text())
    route = ApiRoute("GET", "/v1/accounts/{account}/tokens", "QueryFunction")
    match = Router([route]).match("GET", "/v1/accounts/926%40126.com/tokens")
    assert isinstance(match, Match)

    # WHEN the gateway builds the event for the same request
    event = proxy_event(
        match,
        "GET",
        "/v1/accounts/926%40126.com/tokens",
        "account_type=1005&app=android",
        [("Host", "127.0.0.1:3000"), ("Accept", "application/json")],
        b"",
        stage="prod",
        source_ip="127.0.0.1",
        api_key="k",
    )

    # THEN it has the same fields, the raw path, and decoded parameters
    assert event.keys() == canonical.keys()
    assert event["requestContext"].keys() >= canonical["requestContext"].keys()
    assert event["path"] == canonical["path"]
    assert event["pathParameters"] == canonical["pathParameters"]
    assert event["queryStringParameters"] == canonical["queryStringParameters"]
    assert event["requestContext"]["resourcePath"] == canonical["resource"]
    assert event["requestContext"]["path"] == "/prod/v1/accounts/926%40126.com/tokens"


def test_a_body_that_is_not_utf8_is_passed_base64_encoded() -> None:
    # GIVEN a POST route, and a body of bytes that are not UTF-8
    match = Match(ApiRoute("POST", "/v1/bind", "BindFunction"), None)

    # WHEN the gateway builds the event
    event = proxy_event(
        match, "POST", "/v1/bind", "", [], b"\xff\xfe", stage="prod", source_ip="", api_key=None
    )

    # THEN the body is base64-encoded, and says so
    assert event["isBase64Encoded"] is True and event["body"] == "//4="


# ------------------------------------------------------------------ schedules

NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # a Sunday


def test_a_daily_cron_runs_next_at_its_hour() -> None:
    # GIVEN a daily cron at 03:00
    expression = ScheduleExpression.parse("cron(0 3 * * ? *)")

    # WHEN its next run after noon is asked for
    due = expression.next_after(NOON)

    # THEN it is 03:00 the next day
    assert due == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def test_cron_days_of_the_week_count_sunday_as_1_in_the_schedules_time_zone() -> None:
    # GIVEN a cron on day-of-week 1 at 09:30, in Shanghai's time zone
    expression = ScheduleExpression.parse("cron(30 9 ? * 1 *)", "Asia/Shanghai")

    # WHEN its next run after a Sunday noon (UTC) is asked for
    due = expression.next_after(NOON)

    # THEN it is the next Sunday at 09:30 in Shanghai
    assert due is not None and due.isoformat() == "2026-11-29T09:30:00+08:00"


def test_a_rate_runs_that_long_after_now() -> None:
    # GIVEN a rate of 5 minutes
    expression = ScheduleExpression.parse("rate(5 minutes)")

    # WHEN its next run after noon is asked for
    due = expression.next_after(NOON)

    # THEN it is 5 minutes later
    assert due == datetime(2026, 11, 22, 12, 5, tzinfo=UTC)


def test_an_at_schedule_in_the_past_never_runs() -> None:
    # GIVEN a one-time schedule in 2020
    expression = ScheduleExpression.parse("at(2020-01-01T00:00:00)")

    # WHEN its next run after noon in 2026 is asked for
    due = expression.next_after(NOON)

    # THEN there is none
    assert due is None


@pytest.mark.parametrize(
    "expression",
    ["cron(0 3 L * ? *)", "cron(0 3 ? * 2#1 *)", "cron(0 3 * * * *)", "rate(0 days)", "daily"],
)
def test_an_expression_that_cannot_run_locally_is_refused(expression: str) -> None:
    # GIVEN an expression the local scheduler cannot run (L, #, both days given, zero, prose)
    # WHEN it is parsed
    # THEN it is refused
    with pytest.raises(ScheduleError):
        ScheduleExpression.parse(expression)
