"""Every exception the layer raises, in one place.

Callers branch on the class, not on messages: ``RetryableError`` means "send it again later",
everything else under ``UpstreamError`` is permanent for that request. No message ever holds a
SecretKey: messages are built from codes, field paths and names only.
"""

from __future__ import annotations

from collections.abc import Sequence

from tpns_account import codes
from tpns_account.values import Value


class TpnsError(Exception):
    """Base class of everything this package raises."""

    retryable: bool = False

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    @property
    def meaning(self) -> str | None:
        return codes.describe(self.code) if self.code is not None else None


class FieldIssue(Value):
    """One problem with one field of a request, e.g. ``token_accounts[3].token``."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class RequestValidationError(TpnsError, ValueError):
    """The request is invalid; nothing was sent. ``issues`` names every offending field."""

    def __init__(self, issues: Sequence[FieldIssue], *, more: int = 0) -> None:
        self.issues = tuple(issues)
        self.more = more
        shown = "; ".join(str(issue) for issue in self.issues[:5])
        hidden = len(self.issues) - 5 + more
        super().__init__(shown + (f" (and {hidden} more)" if hidden > 0 else ""))


class SettingsError(TpnsError, ValueError):
    """A configuration value (environment variable or argument) is invalid."""


class CredentialsError(TpnsError):
    """Credentials could not be obtained or are malformed."""


class CredentialsUnavailableError(CredentialsError):
    """Secrets Manager could not be reached or throttled us; a later try may succeed."""

    retryable = True


class SecretFormatError(CredentialsError):
    """The secret exists but does not have one of the documented shapes."""


class UnknownAppError(CredentialsError, ValueError):
    """The request names an app the secret does not hold."""

    def __init__(self, app: str, known: Sequence[str]) -> None:
        self.app = app
        self.known = tuple(sorted(known))
        super().__init__(f"unknown app {app!r}; known apps: {', '.join(self.known) or '(none)'}")


class UpstreamError(TpnsError):
    """TPNS (or the network in front of it) refused or failed the call.

    ``retry_after`` is the wait an answer asked for (HTTP Retry-After, seconds), when it did.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.http_status = http_status
        self.attempts = attempts
        self.retry_after = retry_after


class BadRequestError(UpstreamError):
    """TPNS rejected the request body (1008001/1008002/1008007): fix the request."""


class AuthError(UpstreamError):
    """TPNS rejected the credentials (1008003, HTTP 401), even after one refresh."""


class ConfigurationError(UpstreamError):
    """Wrong AccessID, key pair or regional host (1008035, 10030002, HTTP 403/404)."""


class AppStateError(UpstreamError):
    """The TPNS app is unpaid, destroyed or not deployed (1008030, 1008031, 1010001)."""


class UnexpectedResponseError(UpstreamError):
    """TPNS answered something this client cannot interpret (e.g. not JSON, wrong length)."""


class RetryableError(UpstreamError):
    """A failure that may succeed if sent again later; raised once retries ran out."""

    retryable = True


class UpstreamUnavailableError(RetryableError):
    """TPNS was unreachable, dropped the connection, answered 5xx, or failed internally."""


class UpstreamTimeoutError(RetryableError):
    """TPNS did not answer within the timeout."""


class ThrottledError(RetryableError):
    """TPNS asked us to slow down (1008028, HTTP 429)."""
