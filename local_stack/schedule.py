"""EventBridge Scheduler expressions, evaluated locally: ``cron(...)``, ``rate(...)``, ``at(...)``.

``cron`` has six fields (minutes hours day-of-month month day-of-week year) with ``*``, ``?``,
lists, ranges, steps and month/day names; ``L``, ``W`` and ``#`` are refused with a clear error
(the schedule can still be triggered by hand). Days of the week are 1-7 = SUN-SAT, as in AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_FIELDS = (  # name, low, high, names
    ("minutes", 0, 59, None),
    ("hours", 0, 23, None),
    ("day-of-month", 1, 31, None),
    ("month", 1, 12, MONTHS),
    ("day-of-week", 1, 7, DAYS),
    ("year", 1970, 2199, None),
)
# How far ahead a cron expression is searched for its next time.
_HORIZON_DAYS = 366 * 5


class ScheduleError(ValueError):
    """An expression this evaluator does not understand or cannot run locally."""


@dataclass(frozen=True)
class ScheduleExpression:
    expression: str
    timezone: ZoneInfo
    rate: timedelta | None = None
    at: datetime | None = None
    cron: tuple[frozenset[int], ...] | None = None

    @classmethod
    def parse(cls, expression: str, timezone: str = "UTC") -> ScheduleExpression:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ScheduleError(f"unknown time zone {timezone!r}") from exc
        match = re.fullmatch(r"(cron|rate|at)\((.*)\)", expression.strip())
        if not match:
            raise ScheduleError(f"{expression!r}: expected cron(...), rate(...) or at(...)")
        kind, body = match.groups()
        if kind == "rate":
            return cls(expression, zone, rate=_rate(body))
        if kind == "at":
            try:
                moment = datetime.strptime(body, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=zone)
            except ValueError as exc:
                raise ScheduleError(f"{expression!r}: at() takes yyyy-mm-ddThh:mm:ss") from exc
            return cls(expression, zone, at=moment)
        return cls(expression, zone, cron=_cron(body))

    def next_after(self, moment: datetime) -> datetime | None:
        """The first time strictly after ``moment`` (aware), or None if there is none."""
        local = moment.astimezone(self.timezone)
        if self.rate is not None:
            return moment + self.rate
        if self.at is not None:
            return self.at if self.at > local else None
        assert self.cron is not None
        minutes, hours, days, months, weekdays, years = self.cron
        start = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.date()
        for _ in range(_HORIZON_DAYS):
            weekday = (day.isoweekday() % 7) + 1  # SUN=1 ... SAT=7
            if (
                day.year in years
                and day.month in months
                and day.day in days
                and weekday in weekdays
            ):
                for hour in sorted(hours):
                    for minute in sorted(minutes):
                        candidate = datetime(
                            day.year, day.month, day.day, hour, minute, tzinfo=self.timezone
                        )
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        return None


def _rate(body: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*", body)
    if not match or int(match.group(1)) < 1:
        raise ScheduleError(f"rate({body}): expected 'N minute(s)|hour(s)|day(s)', N >= 1")
    return timedelta(seconds=int(match.group(1)) * _RATE_UNITS[match.group(2).rstrip("s")])


def _cron(body: str) -> tuple[frozenset[int], ...]:
    parts = body.split()
    if len(parts) != 6:
        raise ScheduleError(f"cron({body}): expected 6 fields, got {len(parts)}")
    if (parts[2] == "?") == (parts[4] == "?"):
        raise ScheduleError(f"cron({body}): exactly one of day-of-month and day-of-week is '?'")
    return tuple(
        _field(text, name, low, high, names)
        for text, (name, low, high, names) in zip(parts, _FIELDS, strict=True)
    )


def _field(text: str, name: str, low: int, high: int, names: list[str] | None) -> frozenset[int]:
    if text in ("*", "?"):
        return frozenset(range(low, high + 1))
    without_names = text.upper()
    for known in names or []:
        without_names = without_names.replace(known, "")
    if re.search(r"[LW#]", without_names):
        raise ScheduleError(f"{name} {text!r}: L, W and # are not supported locally")
    values: set[int] = set()
    for item in text.split(","):
        span, _, step_text = item.partition("/")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first_text, last_text = span.split("-", 1)
            first, last = _value(first_text, name, names), _value(last_text, name, names)
        else:
            first = _value(span, name, names)
            last = high if step_text else first
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ScheduleError(f"{name} {text!r}: bad step {step_text!r}")
        if not low <= first <= last <= high:
            raise ScheduleError(f"{name} {text!r}: out of range {low}-{high}")
        values.update(range(first, last + 1, step or 1))
    return frozenset(values)


def _value(text: str, name: str, names: list[str] | None) -> int:
    if names and text.upper() in names:
        return names.index(text.upper()) + 1
    if not text.isdigit():
        raise ScheduleError(f"{name}: {text!r} is not a number{' or a name' if names else ''}")
    return int(text)
