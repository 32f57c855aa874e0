"""Configuration from environment variables (the table in the README), validated once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar

from tpns_account import defaults
from tpns_account.defaults import AuthScheme
from tpns_account.endpoints import resolve_endpoint
from tpns_account.errors import SettingsError
from tpns_account.values import Value

if TYPE_CHECKING:
    from tpns_account.client import TpnsClient
    from tpns_account.pacing import Pacing

N = TypeVar("N", int, float)


class Settings(Value):
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
            timeout_s=_number(env, "TPNS_TIMEOUT_S", float, defaults.TIMEOUT_S, low=0.1, high=60.0),
            max_concurrency=_number(
                env, "TPNS_MAX_CONCURRENCY", int, defaults.MAX_CONCURRENCY, low=1, high=256
            ),
            max_qps=_number(env, "TPNS_MAX_QPS", float, defaults.MAX_QPS, low=0.1, high=100_000.0),
            sync_max_items=_number(
                env, "SYNC_MAX_ITEMS", int, defaults.SYNC_MAX_ITEMS, low=1, high=10_000
            ),
            secret_max_age_s=_number(
                env, "TPNS_SECRET_MAX_AGE_S", int, defaults.SECRET_MAX_AGE_S, low=0, high=86_400
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


#: What each kind of number is called in an error.
_KIND_NAMES: dict[type, str] = {float: "a number", int: "an integer"}


def _number(env: Mapping[str, str], name: str, kind: type[N], default: N, *, low: N, high: N) -> N:
    """The variable ``name`` read as ``kind`` within [low, high]; ``default`` when unset."""
    raw = _raw(env, name)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be {_KIND_NAMES[kind]}, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, got {raw}")
    return value
