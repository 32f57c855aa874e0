"""Fault injection, so clients can be tested against the failures a real TPNS produces.

Faults are checked in insertion order before normal handling.  Every matching ``latency``
fault adds its delay; the first matching non-latency fault decides what happens.  With no
fault configured the check is a single truthiness test (no lock).
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

logger = logging.getLogger(__name__)

FAULT_KINDS = frozenset({"latency", "error", "http", "hang", "drop"})
ENDPOINT_NAMES = frozenset({"batchoperate", "query"})


def normalize_path(path: str | None) -> str | None:
    """Accept ``"batchoperate"``, ``"query"`` or a full endpoint path; None means both."""
    if path is None:
        return None
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if name not in ENDPOINT_NAMES:
        raise ValueError(
            f"fault path must be one of {sorted(ENDPOINT_NAMES)} or None, not {path!r}"
        )
    return name


@dataclass(slots=True)
class Fault:
    """One configured fault; ``times`` counts down and the fault disappears at 0."""

    kind: str
    times: int | None = None
    probability: float | None = None
    path: str | None = None
    code: int | None = None
    status: int | None = None
    seconds: float | None = None
    access_id: str | None = None
    fired: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do with one request: sleep ``delay`` seconds, then obey ``fault`` if any."""

    delay: float = 0.0
    fault: Fault | None = None
    fired_kinds: tuple[str, ...] = ()


NO_FAULT = FaultDecision()


class FaultSet:
    """The ordered, thread-safe list of configured faults with a seedable random source."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)

    def add(
        self,
        kind: str,
        *,
        times: int | None = None,
        probability: float | None = None,
        path: str | None = None,
        code: int | None = None,
        status: int | None = None,
        seconds: float | None = None,
        access_id: str | None = None,
    ) -> Fault:
        """Configure a fault; raises ValueError for an inconsistent one.

        ``access_id`` limits the fault to one app's calls (signature auth's AccessId header).
        """
        fault = _validated(kind, times, probability, path, code, status, seconds)
        fault.access_id = access_id
        with self._lock:
            self._faults.append(fault)
        logger.info("fault added: %s", fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def seed(self, n: int | None) -> None:
        """Make probabilistic faults reproducible."""
        with self._lock:
            self._rng.seed(n)

    def snapshot(self) -> list[Fault]:
        """A snapshot of the remaining faults."""
        with self._lock:
            return [Fault(**f.as_dict()) for f in self._faults]

    def __len__(self) -> int:
        return len(self._faults)

    def __bool__(self) -> bool:
        return bool(self._faults)

    def decide(self, endpoint: str, access_id: str | None = None) -> FaultDecision:
        """Pick the faults that fire for one request to ``endpoint`` (consumes ``times``)."""
        if not self._faults:
            return NO_FAULT
        delay = 0.0
        chosen: Fault | None = None
        fired: list[str] = []
        with self._lock:
            for fault in list(self._faults):
                if fault.path is not None and fault.path != endpoint:
                    continue
                if fault.access_id is not None and fault.access_id != access_id:
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                fault.fired += 1
                fired.append(fault.kind)
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                if fault.kind == "latency":
                    delay += fault.seconds or 0.0
                    continue
                chosen = Fault(**fault.as_dict())
                break
        if not fired:
            return NO_FAULT
        return FaultDecision(delay, chosen, tuple(fired))


def _validated(
    kind: str,
    times: int | None,
    probability: float | None,
    path: str | None,
    code: int | None,
    status: int | None,
    seconds: float | None,
) -> Fault:
    if kind not in FAULT_KINDS:
        raise ValueError(f"fault kind must be one of {sorted(FAULT_KINDS)}, not {kind!r}")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise ValueError("times must be a positive integer or None")
    if probability is not None:
        if isinstance(probability, bool) or not isinstance(probability, int | float):
            raise ValueError("probability must be a number")
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        probability = float(probability)
    for name, value in (("code", code), ("status", status)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{name} must be an integer")
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError("seconds must be a non-negative number")
        seconds = float(seconds)
    if kind == "error":
        if code is None:
            raise ValueError("an error fault needs a code (e.g. 1008004)")
        status = 200 if status is None else status
    if kind == "http":
        status = 500 if status is None else status
    if status is not None and not 200 <= status <= 599:
        raise ValueError("status must be an HTTP status code")
    if kind in ("latency", "hang") and seconds is None:
        raise ValueError(f"a {kind} fault needs seconds")
    return Fault(kind, times, probability, normalize_path(path), code, status, seconds)
