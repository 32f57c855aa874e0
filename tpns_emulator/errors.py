"""Every exception the emulator raises, under one base."""

from __future__ import annotations


class EmulatorError(Exception):
    """Base class of everything this package raises."""


class ConfigError(EmulatorError, ValueError):
    """A setting, app or fault the emulator cannot take (admin API: 400)."""


class UnknownAppError(EmulatorError, KeyError):
    """No app with this AccessID is registered."""

    def __init__(self, access_id: str) -> None:
        super().__init__(f"unknown app {access_id}")
        self.access_id = access_id

    def __str__(self) -> str:
        return str(self.args[0])


class LifecycleError(EmulatorError, RuntimeError):
    """Started twice, or used before it was started."""


class RequestError(EmulatorError):
    """A request TPNS would reject as a whole; ``code`` goes into the envelope."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
