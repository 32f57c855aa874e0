"""Configuration from environment variables (the table in the README), validated once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tpns_account.endpoints import resolve_endpoint
from tpns_account.errors import SettingsError

if TYPE_CHECKING:
    from tpns_account.client import AuthScheme, TpnsClient


@dataclass(frozen=True, slots=True)
class Settings:
    secret_id: str
    endpoint: str = "guangzhou"
    auth: AuthScheme = "signature"
    timeout_s: float = 5.0
    max_concurrency: int = 8
    max_qps: float = 50.0
    sync_max_items: int = 100
    secret_max_age_s: int = 300

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        secret_id = env.get("TPNS_SECRET_ID", "").strip()
        if not secret_id:
            raise SettingsError("TPNS_SECRET_ID is required (a Secrets Manager name or ARN)")
        endpoint = env.get("TPNS_ENDPOINT", "guangzhou").strip() or "guangzhou"
        resolve_endpoint(endpoint)
        auth = env.get("TPNS_AUTH", "signature").strip().lower() or "signature"
        if auth not in ("signature", "basic"):
            raise SettingsError(f"TPNS_AUTH must be 'signature' or 'basic', got {auth!r}")
        return cls(
            secret_id=secret_id,
            endpoint=endpoint,
            auth="basic" if auth == "basic" else "signature",
            timeout_s=_number(env, "TPNS_TIMEOUT_S", 5.0, low=0.1, high=60.0),
            max_concurrency=int(
                _number(env, "TPNS_MAX_CONCURRENCY", 8, low=1, high=256, integer=True)
            ),
            max_qps=_number(env, "TPNS_MAX_QPS", 50.0, low=0.1, high=100_000.0),
            sync_max_items=int(
                _number(env, "SYNC_MAX_ITEMS", 100, low=1, high=10_000, integer=True)
            ),
            secret_max_age_s=int(
                _number(env, "TPNS_SECRET_MAX_AGE_S", 300, low=0, high=86_400, integer=True)
            ),
        )

    def client(self) -> TpnsClient:
        """A client wired to Secrets Manager as these settings say."""
        from tpns_account.client import TpnsClient
        from tpns_account.credentials import SecretsManagerCredentials

        return TpnsClient(
            SecretsManagerCredentials(self.secret_id, max_age=self.secret_max_age_s),
            endpoint=self.endpoint,
            auth=self.auth,
            timeout=self.timeout_s,
            max_concurrency=self.max_concurrency,
            max_qps=self.max_qps,
        )


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    low: float,
    high: float,
    integer: bool = False,
) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise SettingsError(f"{name} must be {kind}, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, got {raw}")
    return value
