"""The CLI's one exception family: each says what went wrong and what to do, never a trace.

``main`` prints the message and exits with ``exit_code``; anything else escaping is a bug.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Exit codes: everything done and clean; done but some lines or items failed; could not do it.
EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_ERROR = 2


class CliError(Exception):
    """Base class of everything the CLI raises on purpose."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(CliError):
    """The input file cannot be used at all (unreadable, no header, nothing valid)."""


class TargetError(CliError):
    """Where to send requests is unknown or unusable (no --local/--api, no credentials)."""


class ApiError(CliError):
    """The API refused a request or could not be reached; carries its status and error body."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body

    @property
    def code(self) -> str | None:
        """The contract's error code (``job_not_found``, ``idempotency_key_reused``...)."""
        if isinstance(self.body, Mapping):
            error = self.body.get("error")
            if isinstance(error, Mapping) and isinstance(error.get("code"), str):
                return str(error["code"])
        return None


class QueueError(CliError):
    """SQS refused or could not be reached while listing or redriving the DLQ."""
