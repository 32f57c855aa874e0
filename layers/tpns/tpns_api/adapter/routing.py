"""Path matching with Powertools' route patterns: ``<name>`` segments, trailing slashes ignored.

Importing Powertools' event handler costs ~30 ms of every cold start (every resolver, asyncio,
every event data class), more than the rest of a function; these few lines keep its contract
for what the API uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Generic, TypeVar

from tpns_account.values import Value

# Path segments as Powertools matches them: RFC 3986 unreserved/sub-delims, the characters API
# Gateway decodes, and word characters; never "/", "?", "#", quotes or backticks.
_SEGMENT = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+"
_PARAMETER = re.compile(r"<(\w+)>")

T = TypeVar("T")


class _Entry(Value, Generic[T]):
    method: str
    pattern: re.Pattern[str]
    target: T


class Routes(Generic[T]):
    """Method + path rules to targets; static rules are tried before parameterised ones."""

    def __init__(self) -> None:
        self._static: list[_Entry[T]] = []
        self._dynamic: list[_Entry[T]] = []

    def add(self, method: str, rule: str, target: T) -> None:
        regex = _PARAMETER.sub(lambda m: f"(?P<{m.group(1)}>{_SEGMENT})", rule)
        entry = _Entry(method.upper(), re.compile(f"^{regex}/*$"), target)
        (self._dynamic if _PARAMETER.search(rule) else self._static).append(entry)

    def match(self, method: str, path: str) -> tuple[T, Mapping[str, str]] | None:
        for entry in (*self._static, *self._dynamic):
            if entry.method != method.upper():
                continue
            found = entry.pattern.match(path)
            if found:
                return entry.target, found.groupdict()
        return None
