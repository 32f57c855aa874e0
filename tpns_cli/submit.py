"""Submitting a planned file: every part under its own key, in order, resumable.

A run that stops halfway (a crash, Ctrl-C, the API unreachable) has submitted a prefix of the
parts; the same command again replays that prefix (the API answers each part's job with
``"replayed": true`` and queues nothing) and submits the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tpns_cli.errors import ApiError, CliError
from tpns_cli.plan import Part


class JobsApi(Protocol):
    """What submitting and watching need of the API (``ApiClient``, or a test's fake)."""

    def submit_job(self, body: bytes, key: str) -> dict[str, Any]: ...

    def job(self, job_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Submitted:
    part: Part
    answer: dict[str, Any]

    @property
    def job_id(self) -> str:
        return str(self.answer["job_id"])

    @property
    def replayed(self) -> bool:
        return bool(self.answer.get("replayed"))


class SubmitStoppedError(CliError):
    """A part could not be submitted; the parts before it were (``done``)."""

    def __init__(self, message: str, done: Sequence[Submitted]) -> None:
        super().__init__(message)
        self.done = list(done)


def submit_parts(
    api: JobsApi, parts: Sequence[Part], before: Callable[[Part], None] | None = None
) -> list[Submitted]:
    """``POST /v1/jobs`` each part with its key; stop at the first part the API refuses."""
    done: list[Submitted] = []
    for part in parts:
        if before is not None:
            before(part)
        try:
            answer = api.submit_job(part.body, part.key)
        except ApiError as exc:
            if exc.code == "idempotency_key_reused":
                hint = (
                    "its key was used within 24 h for another body (by another version of "
                    "tpns-bindings?); another --job-size makes new keys"
                )
            else:
                hint = (
                    "run the same command again to submit the rest: the parts already "
                    "submitted are replayed, not queued twice"
                )
            raise SubmitStoppedError(
                f"part {part.number} of {len(parts)} was not submitted ({exc.message}); "
                f"{len(done)} part(s) were; {hint}",
                done,
            ) from None
        done.append(Submitted(part, answer))
    return done
