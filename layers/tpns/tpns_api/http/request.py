"""An HTTP request as the API sees it, whoever delivered it (API Gateway, the local gateway)."""

from __future__ import annotations

from collections.abc import Mapping

from tpns_account.values import Value, field


class HttpRequest(Value):
    """One request: its route's path parameters, query string, headers and raw body.

    ``received_at_ms`` is when the API received it (epoch milliseconds), the instant a bind or
    unbind was issued; ``caller`` identifies who sent it (the IAM principal or API key id),
    which scopes idempotency keys.
    """

    method: str
    path: str
    request_id: str | None = None
    body: bytes | None = None
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    received_at_ms: int | None = None
    caller: str | None = None
    #: What comes before the route's path in URLs the caller uses (a stage: ``/prod``).
    base_path: str = ""

    def header(self, name: str) -> str | None:
        """A header by name, whatever its case."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None
