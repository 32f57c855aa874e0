"""HTTP for the client: one pooled POST, its failures already classified.

The default is ``urllib3`` directly: boto3 (which a Lambda loads anyway for the secret) already
imports it, so it costs nothing at a cold start, where ``requests`` costs ~20 ms (it preloads a
CA bundle at import) and ~0.1 ms per call (environment proxy lookups, request preparation).
``requests`` is still used when the environment configures a proxy for the endpoint (urllib3
does not read proxy variables) or when the caller hands the client a ``requests.Session``.
Both report the same failures with the same messages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from tpns_account.errors import UpstreamTimeoutError, UpstreamUnavailableError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status_code: int
    content: bytes
    headers: Mapping[str, str]


class Transport(Protocol):
    def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: tuple[float, float]
    ) -> HttpAnswer:
        """POST and read the whole answer; UpstreamTimeoutError / UpstreamUnavailableError."""
        ...

    def close(self) -> None: ...


def new_transport(base_url: str, pool_size: int) -> Transport:
    """urllib3, unless an environment proxy applies to ``base_url`` (then requests honours it)."""
    parts = urlsplit(base_url)
    if _proxied(parts.scheme, parts.hostname or ""):
        return RequestsTransport(pool_size=pool_size)
    return Urllib3Transport(pool_size)


def _proxied(scheme: str, host: str) -> bool:
    """Whether ``requests`` would send to ``host`` through an environment proxy."""
    names = {name.lower() for name, value in os.environ.items() if value}
    if f"{scheme}_proxy" not in names and "all_proxy" not in names:
        return False  # the common case decided without importing urllib.request
    import urllib.request

    proxies = urllib.request.getproxies()
    return (scheme in proxies or "all" in proxies) and not urllib.request.proxy_bypass(host)


def _timed_out(timeout: tuple[float, float]) -> UpstreamTimeoutError:
    return UpstreamTimeoutError(f"TPNS did not answer within {timeout[1]:.2f}s")


def _unreachable(name: str) -> UpstreamUnavailableError:
    return UpstreamUnavailableError(f"could not reach TPNS ({name})")


def _failure_name(exc: BaseException, names: tuple[tuple[type[BaseException], str], ...]) -> str:
    """The name ``requests`` would give a urllib3 failure (what the error messages say)."""
    return next((name for kind, name in names if isinstance(exc, kind)), "ConnectionError")


class Urllib3Transport:
    """A urllib3 pool (``pool_size`` connections per host), no retries or redirects of its own.

    Failures are named as ``requests`` names them, so messages do not depend on the transport.
    """

    def __init__(self, pool_size: int) -> None:
        import urllib3

        try:
            import certifi

            ca_certs: str | None = certifi.where()
        except ImportError:  # pragma: no cover - certifi ships with requests and botocore
            ca_certs = None
        self._urllib3 = urllib3
        self._pool = urllib3.PoolManager(
            num_pools=4,
            maxsize=pool_size,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_certs,
            retries=False,
        )

    def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: tuple[float, float]
    ) -> HttpAnswer:
        exceptions = self._urllib3.exceptions
        try:
            response = self._pool.request(
                "POST",
                url,
                body=body,
                headers=headers,
                timeout=self._urllib3.Timeout(connect=timeout[0], read=timeout[1]),
                retries=False,
                redirect=False,
                preload_content=False,
            )
        except exceptions.NewConnectionError:  # (a ConnectTimeoutError, for urllib3)
            raise _unreachable("ConnectionError") from None
        except exceptions.TimeoutError:
            raise _timed_out(timeout) from None
        except (exceptions.HTTPError, OSError) as exc:
            sending = ((exceptions.SSLError, "SSLError"), (exceptions.ProxyError, "ProxyError"))
            raise _unreachable(_failure_name(exc, sending)) from None
        try:
            content = response.read()
        except (exceptions.HTTPError, OSError) as exc:
            reading = (
                (exceptions.ProtocolError, "ChunkedEncodingError"),
                (exceptions.DecodeError, "ContentDecodingError"),
                (exceptions.SSLError, "SSLError"),
            )
            raise _unreachable(_failure_name(exc, reading)) from None
        finally:
            response.release_conn()
        return HttpAnswer(response.status, content, response.headers)

    def close(self) -> None:
        self._pool.clear()


class RequestsTransport:
    """A ``requests.Session``: the caller's, or one sized like the urllib3 pool."""

    def __init__(self, session: requests.Session | None = None, *, pool_size: int = 8) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        self._requests = requests
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        session.verify = True
        self.session = session

    def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: tuple[float, float]
    ) -> HttpAnswer:
        requests = self._requests
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=timeout)
        except requests.Timeout:
            raise _timed_out(timeout) from None
        except requests.RequestException as exc:
            raise _unreachable(type(exc).__name__) from None
        headers_: Any = response.headers
        return HttpAnswer(response.status_code, response.content, headers_)

    def close(self) -> None:
        self.session.close()
