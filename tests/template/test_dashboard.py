"""template.yaml: the CloudWatch dashboard names only metrics the functions emit, where they
emit them, and shows every function, queue and alarm of the stack."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.template import FUNCTIONS, REQUIRED_PARAMETERS, Template, Transform, render
from tpns_api.http.errors import INTERNAL, TABLE
from tpns_api.telemetry import NAMESPACE, SERVICE, Metric, error_metric


def dashboard(template: Template) -> dict[str, Any]:
    """The dashboard's body as CloudFormation would render it (resource references kept)."""
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]
    text, variables = body["Fn::Sub"]
    ledger_alarms = variables["LedgerAlarmArns"]  # as written (an If), or once deployed
    if "Fn::If" in ledger_alarms:
        ledger_alarms = ledger_alarms["Fn::If"][1]
    ledger_alarms = ledger_alarms["Fn::Sub"]
    rendered = render({"Fn::Sub": [text, {"LedgerAlarmArns": ledger_alarms}]}, REQUIRED_PARAMETERS)
    parsed: dict[str, Any] = json.loads(rendered)
    return parsed


def metrics_of(body: dict[str, Any]) -> list[list[Any]]:
    return [
        metric
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for metric in widget["properties"]["metrics"]
    ]


def test_its_custom_metrics_are_the_ones_the_functions_emit(sam_template: Template) -> None:
    # GIVEN the dashboard as written, and what the functions emit: the Metric names and one
    # Error<status> per status the API answers
    emitted = {str(m) for m in Metric}
    statuses = {refusal.status for _, refusal in TABLE} | {INTERNAL.status, 404}
    errors = {error_metric(status) for status in statuses}
    # WHEN its metrics in the bundle's namespace are listed
    custom = [m for m in metrics_of(dashboard(sam_template)) if m[0] == NAMESPACE]
    names = {m[1] for m in custom}
    # THEN each is emitted by the functions, and every status the API answers is shown
    assert names <= emitted | errors
    assert errors <= names
    # AND the ledger's and the queue's outcomes are all there
    assert {
        Metric.ITEMS_ACCEPTED,
        Metric.ITEMS_FAILED,
        Metric.ITEMS_SUPERSEDED,
        Metric.ITEMS_DEAD_LETTERED,
        Metric.ITEMS_VERIFIED,
        Metric.ITEMS_UNVERIFIED,
        Metric.ITEMS_REPUSHED,
    } <= names


def test_its_custom_metrics_have_the_dimension_and_namespace_powertools_gives_them(
    sam_template: Template,
) -> None:
    # GIVEN the functions' Powertools settings, as Globals set them
    environment = sam_template["Globals"]["Function"]["Environment"]["Variables"]
    # WHEN the dashboard's custom metrics are read
    custom = [m for m in metrics_of(dashboard(sam_template)) if m[0] == NAMESPACE]
    # THEN each is in the functions' namespace with their service dimension only
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == NAMESPACE
    assert environment["POWERTOOLS_SERVICE_NAME"] == SERVICE
    assert custom
    for metric in custom:
        assert metric[2:4] == ["service", SERVICE], metric
        assert isinstance(metric[4], dict), metric  # no further dimension


def test_it_shows_every_function_and_every_alarm(deployed: Transform) -> None:
    # GIVEN the template deployed with default parameters (LedgerMode on)
    template = deployed()
    body = json.dumps(dashboard(template))
    # WHEN its functions and alarms are listed
    alarms = [
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]
    # THEN every function's errors and every alarm are on the dashboard
    for function in FUNCTIONS:
        variable = "VerifyFunctionName" if function == "VerifyFunction" else function
        assert f"${{{variable}}}" in body, function
    assert alarms
    for alarm in alarms:
        assert f"${{{alarm}.Arn}}" in body, alarm


@pytest.mark.parametrize("mode", ["on", "off"])
def test_its_url_is_an_output_in_either_ledger_mode(deployed: Transform, mode: str) -> None:
    # GIVEN the template deployed with the ledger on or off
    template = deployed(LedgerMode=mode)
    # WHEN its outputs are read
    url = template["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]
    # THEN the dashboard's console URL is one of them, and the dashboard exists
    assert re.search(r"#dashboards:name=\$\{Dashboard\}$", url)
    assert "Dashboard" in template["Resources"]


def test_it_shows_latency_and_errors_per_route_from_api_gateways_detailed_metrics(
    deployed: Transform,
) -> None:
    # GIVEN the template deployed with default parameters
    template = deployed()
    # WHEN the dashboard's API Gateway searches and the stage's method settings are read
    expressions = [
        m[0]["expression"]
        for m in metrics_of(dashboard(template))
        if isinstance(m[0], dict) and "AWS/ApiGateway" in m[0]["expression"]
    ]
    stage = next(
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Stage"
    )
    # THEN latency, 4XX and 5XX are shown per resource and method
    for metric in ("Latency", "4XXError", "5XXError"):
        assert any(f'MetricName="{metric}"' in e and "Method,Resource" in e for e in expressions)
    # AND the stage publishes those per-route metrics
    assert all(setting["MetricsEnabled"] for setting in stage["MethodSettings"])
