"""Every default of the library, once: the client's arguments and the environment settings."""

from __future__ import annotations

from typing import Final, Literal

AuthScheme = Literal["signature", "basic"]

ENDPOINT: Final = "guangzhou"
AUTH: Final[AuthScheme] = "signature"
TIMEOUT_S: Final = 5.0
CONNECT_TIMEOUT_S: Final = 3.0
MAX_CONCURRENCY: Final = 8
MAX_QPS: Final = 50.0
#: A call's whole deadline when the caller gives none: retries back off inside it.
TIME_BUDGET_S: Final = 20.0
SYNC_MAX_ITEMS: Final = 100
SECRET_MAX_AGE_S: Final = 300
