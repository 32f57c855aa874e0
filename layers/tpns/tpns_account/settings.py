"""Configuration from environment variables (the table in the README), validated once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tpns_account import defaults
from tpns_account.defaults import AuthScheme
from tpns_account.endpoints import resolve_endpoint
from tpns_account.errors import SettingsError

if TYPE_CHECKING:
    from tpns_account.client import TpnsClient
    from tpns_account.pacing import Pacing


@dataclass(frozen=True, slots=True)
class Settings:
    secret_id: str
    endpoint: str = defaults.ENDPOINT
    auth: AuthScheme = defaults.AUTH
    timeout_s: float = defaults.TIMEOUT_S
    max_concurrency: int = defaults.MAX_CONCURRENCY
    max_qps: float = defaults.MAX_QPS
    sync_max_items: int = defaults.SYNC_MAX_ITEMS
    secret_max_age_s: int = defaults.SECRET_MAX_AGE_S

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        secret_id = env.get("TPNS_SECRET_ID", "").strip()
        if not secret_id:
            raise SettingsError("TPNS_SECRET_ID is required (a Secrets Manager name or ARN)")
        endpoint = env.get("TPNS_ENDPOINT", "").strip() or defaults.ENDPOINT
        resolve_endpoint(endpoint)
        auth = env.get("TPNS_AUTH", "").strip().lower() or defaults.AUTH
        if auth not in ("signature", "basic"):
            raise SettingsError(f"TPNS_AUTH must be 'signature' or 'basic', got {auth!r}")
        return cls(
            secret_id=secret_id,
            endpoint=endpoint,
            auth="basic" if auth == "basic" else "signature",
            timeout_s=_number(env, "TPNS_TIMEOUT_S", defaults.TIMEOUT_S, low=0.1, high=60.0),
            max_concurrency=_integer(
                env, "TPNS_MAX_CONCURRENCY", defaults.MAX_CONCURRENCY, low=1, high=256
            ),
            max_qps=_number(env, "TPNS_MAX_QPS", defaults.MAX_QPS, low=0.1, high=100_000.0),
            sync_max_items=_integer(
                env, "SYNC_MAX_ITEMS", defaults.SYNC_MAX_ITEMS, low=1, high=10_000
            ),
            secret_max_age_s=_integer(
                env, "TPNS_SECRET_MAX_AGE_S", defaults.SECRET_MAX_AGE_S, low=0, high=86_400
            ),
        )

    def client(self, *, pacing: Pacing = "shared") -> TpnsClient:
        """A client wired to Secrets Manager as these settings say.

        ``pacing``: ``per_call`` for a function serving independent requests (the API), so no
        request waits for another's slot; ``shared`` for a sustained consumer (bulk).
        """
        from tpns_account.client import TpnsClient
        from tpns_account.credentials import SecretsManagerCredentials

        return TpnsClient(
            SecretsManagerCredentials(self.secret_id, max_age=self.secret_max_age_s),
            endpoint=self.endpoint,
            auth=self.auth,
            timeout=self.timeout_s,
            max_concurrency=self.max_concurrency,
            max_qps=self.max_qps,
            pacing=pacing,
        )


def _raw(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _number(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    raw = _raw(env, name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    return _bounded(name, raw, value, low, high)


def _integer(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = _raw(env, name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    return int(_bounded(name, raw, value, low, high))


def _bounded(name: str, raw: str, value: float, low: float, high: float) -> float:
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, got {raw}")
    return value
