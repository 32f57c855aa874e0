"""``TpnsEmulator``: a local TPNS account API for tests, the local stack and benchmarks.

The facade holds the apps, the settings, the binding state, the faults and the counters; the
HTTP server (``tpns_emulator.server``) feeds it requests and ``tpns_emulator.pipeline`` decides
each answer.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

from tpns_account.endpoints import is_loopback
from tpns_emulator.auth import APP_STATES, App
from tpns_emulator.errors import ConfigError, LifecycleError, UnknownAppError
from tpns_emulator.faults import FaultSet
from tpns_emulator.protocol import STYLES
from tpns_emulator.state import BindingStore, OverrideScope
from tpns_emulator.stats import EmulatorStats, RequestCounters

logger = logging.getLogger(__name__)

_NUMBERS = ("apply_delay", "latency_s", "skew_window_s")
CONFIG_KEYS = frozenset(
    {
        "qps_cap",
        "style",
        "override_scope",
        "invalid_tokens",
        "omit_default_account_type",
        *_NUMBERS,
    }
)


class Epoch:
    """One reset generation; its event wakes the requests sleeping in it."""

    __slots__ = ("wake",)

    def __init__(self) -> None:
        self.wake = threading.Event()


class TpnsEmulator:
    """An in-process TPNS account API (batchoperate + query) for tests, stacks and benchmarks.

    ``override_scope``: what an override (operator_type 2) replaces, ``"token"`` (all of the
    token's accounts) or ``"type"`` (only those of the account types it names).
    """

    def __init__(
        self,
        apps: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        apply_delay: float = 0.0,
        *,
        latency_s: float = 0.0,
        qps_cap: float | None = None,
        style: str = "current",
        override_scope: OverrideScope = "token",
        omit_default_account_type: bool = False,
        skew_window_s: float = 600.0,
        seed: int | None = None,
    ) -> None:
        if not is_loopback(host) or ":" in host:
            raise ConfigError(f"the emulator binds IPv4 loopback only, not {host!r}")
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = port
        self.apply_delay = apply_delay
        self.latency_s = latency_s
        self.omit_default_account_type = omit_default_account_type
        self.skew_window_s = skew_window_s
        self.invalid_tokens: set[str] = set()
        self.faults = FaultSet(seed)
        self.store = BindingStore(override_scope=override_scope)
        self._apps: dict[str, App] = {}
        self._style = "current"
        self._qps_cap: float | None = None
        self.style = style
        self.qps_cap = qps_cap
        self._counters = RequestCounters()
        # Replaced by reset()/stop(): requests still sleeping in an older epoch are abandoned,
        # so a late "hang" cannot leak a mutation or a call record into the next test.
        self.epoch = Epoch()
        self._initial_settings = self._settings()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        for access_id, secret_key in (apps or {}).items():
            self.add_app(access_id, secret_key)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> TpnsEmulator:
        """Bind and serve in a background daemon thread (OSError when the port is taken)."""
        from tpns_emulator.server import EmulatorServer

        if self._server is not None:
            raise LifecycleError("emulator already started")
        server = EmulatorServer((self.host, self.port), self)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve, daemon=True, name=f"tpns-emulator-{self.port}"
        )
        self._thread.start()
        logger.info("TPNS emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and every open connection, join the thread."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._new_epoch()
        server.request_stop()
        if thread is not None:
            thread.join(timeout=5)
        server.server_close()
        server.close_connections()
        self._server = None
        self._thread = None
        logger.info("TPNS emulator stopped")

    def __enter__(self) -> TpnsEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise LifecycleError("emulator not started")
        return f"http://{self.host}:{self.port}"

    # -- configuration -----------------------------------------------------------------------

    @property
    def style(self) -> str:
        return self._style

    @style.setter
    def style(self, value: str) -> None:
        if value not in STYLES:
            raise ConfigError(f"style must be one of {sorted(STYLES)}")
        self._style = value

    @property
    def qps_cap(self) -> float | None:
        return self._qps_cap

    @qps_cap.setter
    def qps_cap(self, value: float | None) -> None:
        if value is not None and (isinstance(value, bool) or value <= 0):
            raise ConfigError("qps_cap must be a positive number or None")
        self._qps_cap = None if value is None else float(value)

    @property
    def override_scope(self) -> OverrideScope:
        return self.store.override_scope

    @override_scope.setter
    def override_scope(self, value: str) -> None:
        self.store.override_scope = value

    def add_app(self, access_id: str, secret_key: str, state: str = "active") -> None:
        """Register (or replace) an app."""
        if state not in APP_STATES:
            raise ConfigError(f"state must be one of {sorted(APP_STATES)}")
        if not access_id or not secret_key:
            raise ConfigError("access_id and secret_key must be non-empty")
        self._apps[access_id] = App(access_id, secret_key, state)

    def set_secret(self, access_id: str, secret_key: str) -> None:
        """Rotate an app's SecretKey: the old one fails from now on."""
        app = self._app(access_id)
        self._apps[access_id] = App(access_id, secret_key, app.state)

    def set_app_state(self, access_id: str, state: str) -> None:
        """Make an app unpaid / destroyed / undeployed (or active again)."""
        self.add_app(access_id, self._app(access_id).secret_key, state)

    def apps(self) -> dict[str, str]:
        """access_id -> state (never the keys)."""
        return {a.access_id: a.state for a in self._apps.values()}

    def app_table(self) -> dict[str, App]:
        """The registered apps, keys included, for authentication."""
        return self._apps

    def _app(self, access_id: str) -> App:
        try:
            return self._apps[access_id]
        except KeyError:
            raise UnknownAppError(access_id) from None

    def reset(self) -> None:
        """Clear bindings, pending mutations, counters, faults and invalid tokens; keep apps.

        Settings (style, qps_cap, delays, ...) go back to the constructor's values, and requests
        still sleeping in an injected latency or hang are abandoned (connection closed).
        """
        self._new_epoch()
        self.store.reset()
        self.faults.clear()
        self.invalid_tokens.clear()
        self.configure(self._initial_settings)
        self._counters.reset()

    def _new_epoch(self) -> None:
        old, self.epoch = self.epoch, Epoch()
        old.wake.set()

    def sleep(self, seconds: float, epoch: Epoch) -> bool:
        """Sleep (cut short by reset/stop); False when the request was abandoned meanwhile."""
        if seconds > 0:
            epoch.wake.wait(seconds)
        return epoch is self.epoch

    # -- state -------------------------------------------------------------------------------

    def bindings(self, access_id: str) -> dict[str, list[tuple[str, int]]]:
        """Applied state of one app: token -> [(account, account_type)]."""
        return self.store.bindings(access_id)

    def tokens_of(self, access_id: str, account: str, account_type: int = 0) -> list[str]:
        return self.store.tokens_of(access_id, account, account_type)

    def accounts_of(self, access_id: str, token: str) -> list[tuple[str, int]]:
        return self.store.accounts_of(access_id, token)

    def flush(self) -> int:
        """Apply every pending mutation now, ignoring apply_delay."""
        return self.store.flush()

    # -- stats -------------------------------------------------------------------------------

    @property
    def stats(self) -> EmulatorStats:
        return self._counters.snapshot(self.store.pending_count)

    @property
    def counters(self) -> RequestCounters:
        return self._counters

    def reset_stats(self) -> None:
        self._counters.reset()

    def admit(self) -> bool:
        """Whether a call fits under the QPS cap (a throttled call answers 1008028)."""
        return self._counters.admit(self._qps_cap)

    # -- settings as the admin API sees them -------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        return {
            "apply_delay": self.apply_delay,
            "latency_s": self.latency_s,
            "qps_cap": self._qps_cap,
            "style": self._style,
            "override_scope": self.override_scope,
            "omit_default_account_type": self.omit_default_account_type,
            "skew_window_s": self.skew_window_s,
        }

    def config(self) -> dict[str, Any]:
        """Current settings, as the admin API shows them (no secret keys)."""
        return {
            "url": self.url if self._server is not None else None,
            "apps": self.apps(),
            **self._settings(),
            "invalid_tokens": sorted(self.invalid_tokens),
            "faults": [f.as_dict() for f in self.faults.snapshot()],
        }

    def configure(self, changes: dict[str, Any]) -> None:
        """Apply admin ``config`` changes, all or none; ConfigError on unknown keys or values."""
        unknown = set(changes) - CONFIG_KEYS
        if unknown:
            raise ConfigError(f"unknown config keys: {sorted(unknown)}")
        _check(changes)
        if "style" in changes:
            self.style = changes["style"]
        if "qps_cap" in changes:
            self.qps_cap = changes["qps_cap"]
        if "override_scope" in changes:
            self.override_scope = changes["override_scope"]
        for key in _NUMBERS:
            if key in changes:
                setattr(self, key, float(changes[key]))
        if "omit_default_account_type" in changes:
            self.omit_default_account_type = changes["omit_default_account_type"]
        if "invalid_tokens" in changes:
            self.invalid_tokens.clear()
            self.invalid_tokens.update(changes["invalid_tokens"])


def _check(changes: dict[str, Any]) -> None:
    """Refuse a bad value before any change is applied."""
    for key in _NUMBERS:
        value = changes.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{key} must be a non-negative number")
    tokens = changes.get("invalid_tokens", [])
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise ConfigError("invalid_tokens must be a list of strings")
    if not isinstance(changes.get("omit_default_account_type", False), bool):
        raise ConfigError("omit_default_account_type must be a boolean")
    if changes.get("override_scope", "token") not in ("token", "type"):
        raise ConfigError("override_scope must be 'token' or 'type'")
