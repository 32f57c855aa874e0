"""Fault injection, so clients can be tested against the failures a real TPNS produces.

Faults are checked in insertion order before normal handling.  Every matching ``latency``
fault adds its delay; the first matching answer-changing fault (``error``, ``http``, ``hang``,
``drop``, ``reply``) decides what happens.  ``lose`` is different: the call is answered as
usual, but the items it picks (each with ``probability``, or every item of ``token``) are
accepted and never applied, as a TPNS task that silently went missing.  With no fault
configured the check is a single truthiness test (no lock).
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import asdict, dataclass
from typing import Any, TypedDict, Unpack

from tpns_emulator.errors import ConfigError

logger = logging.getLogger(__name__)

FAULT_KINDS = frozenset({"latency", "error", "http", "hang", "drop", "reply", "lose"})
ENDPOINT_NAMES = frozenset({"batchoperate", "query"})


def normalize_path(path: str | None) -> str | None:
    """Accept ``"batchoperate"``, ``"query"`` or a full endpoint path; None means both."""
    if path is None:
        return None
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if name not in ENDPOINT_NAMES:
        raise ConfigError(
            f"fault path must be one of {sorted(ENDPOINT_NAMES)} or None, not {path!r}"
        )
    return name


class FaultOptions(TypedDict, total=False):
    """What ``FaultSet.add`` takes besides the kind: every field of ``Fault`` it may set."""

    times: int | None
    probability: float | None
    path: str | None
    code: int | None
    status: int | None
    seconds: float | None
    access_id: str | None
    body: dict[str, Any] | None
    token: str | None


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
    body: dict[str, Any] | None = None
    token: str | None = None
    fired: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, endpoint: str, access_id: str | None) -> bool:
        if self.path is not None and self.path != endpoint:
            return False
        return self.access_id is None or self.access_id == access_id


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

    def add(self, kind: str, **options: Unpack[FaultOptions]) -> Fault:
        """Configure a fault; raises ConfigError (a ValueError) for an inconsistent one.

        ``access_id`` limits the fault to one app's calls (signature auth's AccessId header);
        ``body`` is the JSON object a ``reply`` fault answers; ``token`` the one token a
        ``lose`` fault loses every write of.
        """
        fault = Fault(kind, **options)
        _validate(fault)
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

    def lost(self, access_id: str | None, token: str) -> bool:
        """Whether a ``lose`` fault swallows this accepted write of ``token``."""
        if not self._faults:
            return False
        with self._lock:
            for fault in list(self._faults):
                if fault.kind != "lose" or not fault.matches("batchoperate", access_id):
                    continue
                if fault.token is not None and fault.token != token:
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                self._fire(fault)
                return True
        return False

    def _fire(self, fault: Fault) -> None:
        """Count a firing; a fault with ``times`` left disappears at 0 (caller holds the lock)."""
        fault.fired += 1
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)

    def decide(self, endpoint: str, access_id: str | None = None) -> FaultDecision:
        """Pick the faults that fire for one request to ``endpoint`` (consumes ``times``)."""
        if not self._faults:
            return NO_FAULT
        delay = 0.0
        chosen: Fault | None = None
        fired: list[str] = []
        with self._lock:
            for fault in list(self._faults):
                if fault.kind == "lose" or not fault.matches(endpoint, access_id):
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                self._fire(fault)
                fired.append(fault.kind)
                if fault.kind == "latency":
                    delay += fault.seconds or 0.0
                    continue
                chosen = Fault(**fault.as_dict())
                break
        if not fired:
            return NO_FAULT
        return FaultDecision(delay, chosen, tuple(fired))


#: The HTTP status a fault answers with when it names none.
DEFAULT_STATUS = {"error": 200, "http": 500, "reply": 200}


def _validate(fault: Fault) -> None:
    """Check a new fault's options, filling in its defaults (its status, a path's name)."""
    kind = fault.kind
    if kind not in FAULT_KINDS:
        raise ConfigError(f"fault kind must be one of {sorted(FAULT_KINDS)}, not {kind!r}")
    if fault.times is not None and (not _is_int(fault.times) or fault.times < 1):
        raise ConfigError("times must be a positive integer or None")
    fault.probability = _number("probability", fault.probability, 0.0, 1.0)
    for name, value in (("code", fault.code), ("status", fault.status)):
        if value is not None and not _is_int(value):
            raise ConfigError(f"{name} must be an integer")
    fault.seconds = _number("seconds", fault.seconds, 0.0, None)
    if kind == "error" and fault.code is None:
        raise ConfigError("an error fault needs a code (e.g. 1008004)")
    if fault.status is None:
        fault.status = DEFAULT_STATUS.get(kind)
    if fault.status is not None and not 200 <= fault.status <= 599:
        raise ConfigError("status must be an HTTP status code")
    if kind in ("latency", "hang") and fault.seconds is None:
        raise ConfigError(f"a {kind} fault needs seconds")
    fault.path = normalize_path(fault.path)
    fault.body = _reply_body(kind, fault.body)
    fault.token = _lost_token(kind, fault.token)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(name: str, value: object, low: float, high: float | None) -> float | None:
    """An optional number within [low, high] (no upper bound: ``high`` None), as a float."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number")
    if value < low or (high is not None and value > high):
        bound = f"within [{low:g}, {high:g}]" if high is not None else "non-negative"
        raise ConfigError(f"{name} must be {bound}")
    return float(value)


def _reply_body(kind: str, body: object) -> dict[str, Any] | None:
    if kind != "reply":
        if body is not None:
            raise ConfigError("only a reply fault takes a body")
        return None
    if not isinstance(body, dict):
        raise ConfigError("a reply fault needs a body: the JSON object to answer")
    return body


def _lost_token(kind: str, token: object) -> str | None:
    if token is not None and (kind != "lose" or not isinstance(token, str)):
        raise ConfigError("token (a string) is for lose faults only")
    return token
