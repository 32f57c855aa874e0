"""How long upstream work may take before the caller needs its answer."""

from __future__ import annotations

import time

from tpns_account import defaults
from tpns_account.values import Value

#: Whatever the invocation has left, upstream calls get at most this, and at least this floor.
MIN_BUDGET_S = 0.5


class Deadline(Value):
    """A monotonic instant; ``budget()`` is what TPNS calls may still take."""

    at: float

    @classmethod
    def within(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    @classmethod
    def for_invocation(cls, remaining_s: float | None, margin_s: float) -> Deadline:
        """What an invocation with ``remaining_s`` left may spend, keeping ``margin_s``."""
        if remaining_s is None:
            return cls.within(defaults.TIME_BUDGET_S)
        usable = min(defaults.TIME_BUDGET_S, remaining_s - margin_s)
        return cls.within(max(MIN_BUDGET_S, usable))

    def budget(self) -> float:
        return max(0.0, self.at - time.monotonic())


#: A queue function keeps this long (or a tenth of its time, if more) to report its batch
#: before Lambda stops it.
QUEUE_SAFETY_MARGIN_S = 5.0


def queue_batch_budget(remaining_s: float) -> float:
    """What a queue function's batch may spend on TPNS, of the ``remaining_s`` it has left."""
    return max(1.0, remaining_s - max(QUEUE_SAFETY_MARGIN_S, remaining_s / 10))
