"""The jobs table of a deployed function, from its environment (``JOBS_TABLE``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from tpns_api.jobs.store import DEFAULT_RETENTION_DAYS, JobStore
from tpns_api.store.dynamo import Table, dynamodb_client


def jobs_from_env(clock: Callable[[], float] = time.time) -> JobStore | None:
    """The template's jobs table (None where a function has none)."""
    name = os.environ.get("JOBS_TABLE", "").strip()
    if not name:
        return None
    retention = int(os.environ.get("JOB_RETENTION_DAYS", "") or DEFAULT_RETENTION_DAYS)
    return JobStore(Table(dynamodb_client(), name), retention, clock)
