"""A function's cold start without the cyclic garbage collector.

Importing a function (the layer, Powertools, botocore) and its first request (botocore's service
models and endpoint rules, decoded into some hundred thousand containers) allocate objects that
live as long as the process. CPython's collector, counting those allocations, walks them again
and again while they are being built, and frees nothing: tens of milliseconds of a cold start
as shipped (a DynamoDB client takes three times as long to create with it; figures in
``BENCHMARKS.md``).

So, in a Lambda execution environment only, importing ``tpns_api.adapter`` pauses the collector;
every handler of the bundle then freezes what was built (``gc.freeze``: out of every later
collection's sight) and resumes it, once:

- an API function after its first request (``resume_after_first_call``): one request, whose
  reference cycles (a few tracebacks at most) are frozen with the rest;
- a queue function as its first batch begins (``resume_before_first_call``): a batch can run
  for minutes and must be collected as it goes; only its import runs paused.

Elsewhere (tests, a program importing a handler) the collector is left alone.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_paused = False


def in_lambda() -> bool:
    """The Lambda runtime (and the local stack's function processes) set the function's name."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def pause_collector() -> None:
    """Pause the collector for the cold start, in a Lambda execution environment only."""
    global _paused
    if in_lambda() and gc.isenabled():
        gc.disable()
        _paused = True


def resume_collector() -> None:
    """Freeze what the cold start built and resume the collector, if it was paused here."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def resume_after_first_call(handler: Callable[P, T]) -> Callable[P, T]:
    """``handler``, resuming the collector once its first invocation answers or raises."""

    @functools.wraps(handler)
    def invocation(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return handler(*args, **kwargs)
        finally:
            resume_collector()

    return invocation


def resume_before_first_call(handler: Callable[P, T]) -> Callable[P, T]:
    """``handler``, resuming the collector as its first invocation begins."""

    @functools.wraps(handler)
    def invocation(*args: P.args, **kwargs: P.kwargs) -> T:
        resume_collector()
        return handler(*args, **kwargs)

    return invocation
