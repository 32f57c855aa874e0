"""CloudWatch Embedded Metric Format lines (what Powertools Metrics prints), read back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class EmfMetric:
    """One metric of one EMF line: its namespace, dimensions (name -> value) and value."""

    namespace: str
    name: str
    value: float
    dimensions: dict[str, str]


def emf_metrics(text: str) -> list[EmfMetric]:
    """Every metric of every EMF line in ``text`` (other lines are skipped)."""
    found: list[EmfMetric] = []
    for line in text.splitlines():
        try:
            record: Any = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or "_aws" not in record:
            continue
        for directive in record["_aws"]["CloudWatchMetrics"]:
            names = [d for group in directive["Dimensions"] for d in group]
            dimensions = {name: str(record[name]) for name in names}
            for metric in directive["Metrics"]:
                raw = record[metric["Name"]]
                values = raw if isinstance(raw, list) else [raw]
                found += [
                    EmfMetric(directive["Namespace"], metric["Name"], float(v), dimensions)
                    for v in values
                ]
    return found


def emf_metrics_in(path: Path) -> list[EmfMetric]:
    """The EMF metrics a function's log file holds so far (none if it has none yet)."""
    return emf_metrics(path.read_text()) if path.exists() else []
