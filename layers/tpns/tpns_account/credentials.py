"""TPNS app credentials: static, or read from AWS Secrets Manager and cached.

botocore is imported only when a secret is first fetched, so importing this package stays
cheap for code that never touches Secrets Manager. The secret is read with one client
(``tpns_account.aws``: botocore's, as boto3's would be, without boto3's import) and kept
for ``max_age`` seconds here, not through Powertools parameters: that package imports its
AppConfig, SSM and DynamoDB providers too (~2 ms of every cold start) for one cached call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from tpns_account import defaults
from tpns_account.endpoints import REGIONS, resolve_endpoint
from tpns_account.errors import (
    CredentialsError,
    CredentialsUnavailableError,
    SecretFormatError,
    SettingsError,
    UnknownAppError,
)
from tpns_account.validation import json_object
from tpns_account.values import Value, field

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

logger = logging.getLogger(__name__)

DEFAULT_APP = "default"
MIN_REFRESH_INTERVAL_S = 1.0
# Secrets Manager answers that may succeed on a later try (not permissions or a missing secret).
TRANSIENT_AWS_ERRORS = frozenset(
    {
        "ThrottlingException",
        "InternalServiceError",
        "ServiceUnavailable",
        "RequestTimeout",
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
    }
)


class AppCredentials(Value):
    """One TPNS app's AccessID and SecretKey; the key never shows in repr or str.

    ``endpoint`` is the app's own base URL when it sits in another access point than the
    client's default (Android and iOS apps may have been created in different regions).
    """

    access_id: str
    secret_key: str = field(repr=False)
    endpoint: str | None = None

    def __repr__(self) -> str:
        endpoint = f", endpoint={self.endpoint!r}" if self.endpoint else ""
        return f"AppCredentials(access_id={self.access_id!r}, secret_key='***'{endpoint})"

    __str__ = __repr__


class AppSet(Value):
    """Every app of one secret, and which one serves requests that name none."""

    apps: Mapping[str, AppCredentials]
    default_app: str

    def get(self, app: str | None) -> AppCredentials:
        name = app or self.default_app
        found = self.apps.get(name)
        if found is None:
            raise UnknownAppError(name, list(self.apps))
        return found


class CredentialsProvider(Protocol):
    """Anything that hands out app credentials and can be told they went stale."""

    def get(self, app: str | None = None) -> AppCredentials: ...

    def app_names(self) -> list[str]: ...

    def refresh(self) -> None: ...


class SecretSource(Protocol):
    """Where a secret's value comes from, cached (a Powertools ``SecretsProvider`` is one)."""

    def get(self, name: str, *, max_age: int, force_fetch: bool) -> object: ...


class StaticCredentials:
    """Credentials known up front (a script, a test, a local tool)."""

    def __init__(
        self,
        credentials: AppCredentials | Mapping[str, AppCredentials],
        default_app: str | None = None,
    ) -> None:
        if isinstance(credentials, AppCredentials):
            self._apps = AppSet({DEFAULT_APP: credentials}, DEFAULT_APP)
        else:
            apps = dict(credentials)
            default = default_app or (next(iter(apps)) if len(apps) == 1 else DEFAULT_APP)
            if default not in apps:
                raise UnknownAppError(default, list(apps))
            self._apps = AppSet(apps, default)

    def get(self, app: str | None = None) -> AppCredentials:
        return self._apps.get(app)

    def app_names(self) -> list[str]:
        return sorted(self._apps.apps)

    def refresh(self) -> None:
        """Nothing to refresh: static credentials cannot rotate."""


def parse_secret(raw: str | bytes | Mapping[str, Any]) -> AppSet:
    """Read either documented secret shape; errors never quote the secret's content."""
    not_object = "the TPNS secret must be a JSON object"
    if isinstance(raw, Mapping):
        data: Mapping[str, Any] = raw
    elif isinstance(raw, str | bytes):
        try:
            data = json_object(
                raw, not_json="the TPNS secret is not valid JSON", not_object=not_object
            )
        except ValueError as exc:
            raise SecretFormatError(str(exc)) from None
    else:
        raise SecretFormatError(not_object)
    if "apps" in data:
        apps_raw = data["apps"]
        if not isinstance(apps_raw, Mapping) or not apps_raw:
            raise SecretFormatError("the TPNS secret's 'apps' must be a non-empty object")
        apps = {str(name): _app(value, f"apps.{name}") for name, value in apps_raw.items()}
        default = data.get("default_app")
        if default is None:
            if len(apps) != 1:
                raise SecretFormatError(
                    "the TPNS secret holds several apps and must name 'default_app'"
                )
            default = next(iter(apps))
        if not isinstance(default, str) or default not in apps:
            raise SecretFormatError(
                f"the TPNS secret's default_app must be one of: {', '.join(sorted(apps))}"
            )
        return AppSet(apps, default)
    return AppSet({DEFAULT_APP: _app(data, "secret")}, DEFAULT_APP)


def _app(value: object, where: str) -> AppCredentials:
    if not isinstance(value, Mapping):
        raise SecretFormatError(f"the TPNS secret's {where} must be an object")
    access_id = value.get("access_id")
    secret_key = value.get("secret_key")
    if isinstance(access_id, int) and not isinstance(access_id, bool):
        access_id = str(access_id)
    if not isinstance(access_id, str) or not access_id.strip():
        raise SecretFormatError(f"the TPNS secret's {where}.access_id must be a non-empty string")
    if not isinstance(secret_key, str) or not secret_key:
        raise SecretFormatError(f"the TPNS secret's {where}.secret_key must be a non-empty string")
    return AppCredentials(access_id.strip(), secret_key, _endpoint(value.get("endpoint"), where))


def _endpoint(value: object, where: str) -> str | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise SettingsError("not a string")
        return resolve_endpoint(value)
    except SettingsError:
        raise SecretFormatError(
            f"the TPNS secret's {where}.endpoint must be a region ({', '.join(REGIONS)}) "
            "or an https:// base URL"
        ) from None


class _SecretBodyFilter(logging.Filter):
    """Drop botocore's DEBUG dump of a GetSecretValue response: it holds the SecretKey."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "SecretString" not in message and "SecretBinary" not in message


_SECRET_BODY_FILTER = _SecretBodyFilter()


def _guard_botocore_logs() -> None:
    # botocore.parsers logs whole response bodies at DEBUG; a process logging at DEBUG would
    # otherwise write the secret value. Adding the same filter twice is a no-op.
    logging.getLogger("botocore.parsers").addFilter(_SECRET_BODY_FILTER)


class SecretsManagerCredentials:
    """Credentials from one Secrets Manager secret, cached for ``max_age`` seconds.

    ``refresh()`` forces the next ``get()`` to fetch again; the client calls it once when TPNS
    answers an auth failure, so a rotated key is picked up without a redeploy.
    """

    def __init__(
        self,
        secret_id: str,
        *,
        max_age: int = defaults.SECRET_MAX_AGE_S,
        boto3_client: SecretsManagerClient | None = None,
        provider: SecretSource | None = None,
    ) -> None:
        if not secret_id:
            raise CredentialsError("a secret id (TPNS_SECRET_ID) is required")
        _guard_botocore_logs()
        self.secret_id = secret_id
        self.max_age = max_age
        self._secrets_client = boto3_client
        self._provider = provider
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._last_forced = 0.0
        self._parsed: tuple[object, AppSet] | None = None
        self._cached: tuple[float, str | bytes] | None = None  # (monotonic time read, value)

    def get(self, app: str | None = None) -> AppCredentials:
        return self._app_set().get(app)

    def app_names(self) -> list[str]:
        return sorted(self._app_set().apps)

    def refresh(self) -> None:
        """Re-read the secret now; concurrent callers wait for that one read and share it."""
        with self._refresh_lock:
            if time.monotonic() - self._last_forced < MIN_REFRESH_INTERVAL_S:
                return
            logger.info("TPNS credentials refused upstream; re-reading the secret")
            self._remember(self._fetch(force=True))
            self._last_forced = time.monotonic()

    def _app_set(self) -> AppSet:
        return self._remember(self._fetch(force=False))

    def _remember(self, raw: str | bytes) -> AppSet:
        parsed = self._parsed
        if parsed is not None and parsed[0] is raw:
            return parsed[1]
        app_set = parse_secret(raw)
        self._parsed = (raw, app_set)
        return app_set

    def _fetch(self, force: bool) -> str | bytes:
        try:
            value = self._read(force)
        except Exception as exc:
            # The AWS error code says what went wrong; botocore's messages never carry the
            # value, but the secret's name stays in our logs rather than in callers' answers.
            reason = _aws_error_code(exc)
            logger.error("could not read TPNS secret %s: %s", self.secret_id, reason)
            error_class = (
                CredentialsUnavailableError if reason in TRANSIENT_AWS_ERRORS else CredentialsError
            )
            raise error_class(f"could not read the TPNS secret ({reason})") from None
        if not isinstance(value, str | bytes):
            raise SecretFormatError("the TPNS secret has no string value")
        return value

    def _read(self, force: bool) -> object:
        """The secret's value: from ``max_age`` seconds of cache unless ``force``d."""
        if self._provider is not None:
            return self._provider.get(self.secret_id, max_age=self.max_age, force_fetch=force)
        cached = self._cached
        if not force and cached is not None and time.monotonic() - cached[0] < self.max_age:
            return cached[1]
        answer = self._client().get_secret_value(SecretId=self.secret_id)
        value = answer["SecretString"] if "SecretString" in answer else answer["SecretBinary"]
        self._cached = (time.monotonic(), value)
        return value

    def _client(self) -> SecretsManagerClient:
        with self._lock:
            if self._secrets_client is None:
                from tpns_account import aws

                # The process's one session, which its other clients (DynamoDB, SQS) share:
                # a session of its own would load botocore's service data again.
                self._secrets_client = aws.client("secretsmanager")
            return self._secrets_client


def _aws_error_code(exc: BaseException) -> str:
    """The AWS error code, else the botocore exception's name, found along the cause chain."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for error in chain:
        response = getattr(error, "response", None)
        if isinstance(response, Mapping):
            details = response.get("Error")
            if isinstance(details, Mapping) and details.get("Code"):
                return str(details["Code"])
    for error in chain:
        if type(error).__module__.startswith("botocore"):
            return type(error).__name__
    return type(exc).__name__
