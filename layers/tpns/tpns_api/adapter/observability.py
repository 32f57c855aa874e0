"""Powertools logging and metrics shared by every function of the bundle."""

from __future__ import annotations

import os
from collections.abc import Mapping

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit

from tpns_api.telemetry import NAMESPACE, SERVICE

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE))
# The library logs through the standard logging module; give its loggers the same JSON format
# (and correlation id) as the functions' own lines, so CloudWatch queries see one shape.
copy_config_to_registered_loggers(source_logger=logger, include={"tpns_account", "tpns_api"})


def count(counts: Mapping[str, int]) -> None:
    """Add each count to this invocation's metrics (flushed by ``metrics.log_metrics``)."""
    for name, value in counts.items():
        metrics.add_metric(name=str(name), unit=MetricUnit.Count, value=value)
