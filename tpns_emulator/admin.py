"""The emulator's admin API under ``/_emulator/``: read and reset state, set faults and config.

Tests and the local stack drive the emulator through it when it runs in another process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tpns_emulator.errors import ConfigError
from tpns_emulator.faults import FaultOptions

if TYPE_CHECKING:
    from tpns_emulator.emulator import TpnsEmulator

Params = dict[str, list[str]]
Answer = tuple[int, Any]
OK: dict[str, Any] = {"ok": True}


def route(
    emu: TpnsEmulator, method: str, name: str, params: Params, data: dict[str, Any]
) -> Answer:
    """Answer one admin request (``name`` is the path after ``/_emulator/``)."""
    if method == "GET":
        get = _GET.get(name)
        return get(emu, params) if get else (404, {"error": f"no admin route GET {name}"})
    post = _POST.get(name)
    return post(emu, data) if post else (404, {"error": f"no admin route POST {name}"})


def _state(emu: TpnsEmulator, params: Params) -> Answer:
    access_id = params.get("access_id", [""])[0]
    if not access_id:
        raise ConfigError("access_id is required")
    if access_id not in emu.apps():
        return 404, {"error": f"unknown app {access_id}"}
    return 200, {
        token: [{"account": a, "account_type": t} for a, t in accounts]
        for token, accounts in emu.bindings(access_id).items()
    }


def _reset(emu: TpnsEmulator, data: dict[str, Any]) -> Answer:
    emu.reset()
    return 200, OK


def _reset_stats(emu: TpnsEmulator, data: dict[str, Any]) -> Answer:
    emu.reset_stats()
    return 200, OK


def _faults(emu: TpnsEmulator, data: dict[str, Any]) -> Answer:
    if data.get("clear"):
        emu.faults.clear()
        return 200, OK
    if "seed" in data and len(data) == 1:
        emu.faults.seed(data["seed"])
        return 200, OK
    options = {name: data.get(name) for name in FaultOptions.__optional_keys__}
    fault = emu.faults.add(data.get("kind", ""), **options)
    return 200, {"ok": True, "fault": fault.as_dict()}


def _configure(emu: TpnsEmulator, data: dict[str, Any]) -> Answer:
    emu.configure(data)
    return 200, {"ok": True, "config": emu.config()}


def _apps(emu: TpnsEmulator, data: dict[str, Any]) -> Answer:
    app_id = data.get("access_id")
    if not isinstance(app_id, str) or not app_id:
        raise ConfigError("access_id is required")
    state = data.get("state", "active")
    secret_key = data.get("secret_key")
    if secret_key is None:
        emu.set_app_state(app_id, state)
    elif not isinstance(secret_key, str):
        raise ConfigError("secret_key must be a string")
    else:
        emu.add_app(app_id, secret_key, state)
    return 200, {"ok": True, "access_id": app_id, "state": state}


_GET: dict[str, Callable[[TpnsEmulator, Params], Answer]] = {
    "stats": lambda emu, _: (200, emu.stats.as_dict()),
    "config": lambda emu, _: (200, emu.config()),
    "state": _state,
}
_POST: dict[str, Callable[[TpnsEmulator, dict[str, Any]], Answer]] = {
    "reset": _reset,
    "stats/reset": _reset_stats,
    "flush": lambda emu, _: (200, {"ok": True, "applied": emu.flush()}),
    "faults": _faults,
    "config": _configure,
    "apps": _apps,
}
