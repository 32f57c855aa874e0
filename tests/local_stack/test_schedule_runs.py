"""The local scheduler keeps a schedule running after a failed run, as EventBridge Scheduler does."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from local_stack.stack import Config, LocalStack
from local_stack.template import Schedule
from local_stack.workers import FunctionError


class FailingPool:
    def __init__(self) -> None:
        self.calls = 0

    def invoke(self, event: Any) -> Any:
        self.calls += 1
        raise FunctionError({"errorMessage": "cleanup crashed", "errorType": "RuntimeError"})


class Soon:
    """An expression due every few milliseconds, three times."""

    def __init__(self) -> None:
        self.left = 3

    def next_after(self, moment: datetime) -> datetime | None:
        self.left -= 1
        return datetime.now(UTC) + timedelta(milliseconds=5) if self.left >= 0 else None


def test_a_failed_scheduled_run_does_not_stop_the_schedule() -> None:
    # GIVEN a schedule whose function fails every time
    lines: list[str] = []
    stack = LocalStack(Config(), say=lines.append)
    pool = FailingPool()
    stack.pools["CleanupFunction"] = pool  # type: ignore[assignment]
    schedule = Schedule("CleanupFunction", "Schedule", "rate(1 minute)", "UTC", "{}")
    stack.schedules["CleanupFunctionSchedule"] = (schedule, None)

    # WHEN its timer fires three times
    ticking = threading.Thread(
        target=stack._tick, args=("CleanupFunctionSchedule", Soon()), daemon=True
    )
    ticking.start()
    ticking.join(timeout=10)

    # THEN every run happened, and each failure was logged
    assert not ticking.is_alive() and pool.calls == 3
    assert sum("failed: RuntimeError: cleanup crashed" in line for line in lines) == 3
