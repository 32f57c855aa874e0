"""The TPNS emulator driven over its admin API (``/_emulator/...``), as when it runs in another
process (the local stack's): reset, configure, faults, its applied state and its counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from tests.support.apps import ACCESS_ID

AccountKey = tuple[str, int]


@dataclass(frozen=True)
class EmulatorAdmin:
    """The admin API of the emulator at ``url``."""

    url: str

    def _post(self, route: str, body: dict[str, Any] | None = None) -> Any:
        answer = requests.post(f"{self.url}/_emulator/{route}", json=body or {}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def _get(self, route: str, **params: str) -> Any:
        answer = requests.get(f"{self.url}/_emulator/{route}", params=params, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def reset(self) -> None:
        """Bindings, pending applies, counters, faults and invalid tokens cleared; settings back
        to the ones the emulator started with (override scope, apply delay...)."""
        self._post("reset")

    def configure(self, **changes: Any) -> None:
        """E.g. ``override_scope="type"``, ``invalid_tokens=[...]``."""
        self._post("config", changes)

    def fault(self, kind: str, **options: Any) -> None:
        """Add a fault (``http``, ``lose``, ...), e.g. ``probability=0.1``, ``token="t"``."""
        self._post("faults", {"kind": kind, **options})

    def seed(self, seed: int) -> None:
        """Make probabilistic faults reproducible."""
        self._post("faults", {"seed": seed})

    def clear_faults(self) -> None:
        self._post("faults", {"clear": True})

    def flush(self) -> None:
        """Apply every accepted write now, whatever the apply delay."""
        self._post("flush")

    def state(self, access_id: str = ACCESS_ID) -> dict[str, set[AccountKey]]:
        """What TPNS holds (applied): token -> {(account, account_type)}; unbound tokens absent."""
        raw = self._get("state", access_id=access_id)
        return {
            token: {(a["account"], a["account_type"]) for a in accounts}
            for token, accounts in raw.items()
            if accounts
        }

    def stats(self) -> dict[str, Any]:
        """Counters, and every call with its body (``calls``)."""
        stats: dict[str, Any] = self._get("stats")
        return stats

    def batch_calls(self) -> list[dict[str, Any]]:
        """The batchoperate calls TPNS answered itself (not a fault), with their bodies."""
        return [
            call
            for call in self.stats()["calls"]
            if call["path"].endswith("/batchoperate") and call["body"] is not None
            and not call["outcome"].startswith("fault")
        ]  # fmt: skip

    def pending(self) -> int:
        """Accepted writes not applied yet (the apply delay)."""
        return int(self.stats()["pending_mutations"])


def tokens_sent(call: dict[str, Any]) -> list[str]:
    """The tokens a batchoperate call carried (ops 1-4)."""
    body = call["body"]
    if "token_list" in body:
        return [str(t) for t in body["token_list"]]
    return [str(item["token"]) for item in body.get("token_accounts", [])]
