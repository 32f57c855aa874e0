"""HTTP for the client: one pooled POST, its failures already classified.

The default is the standard library's ``http.client``, with connections kept alive: it costs
nothing at a cold start, where ``requests`` costs ~20 ms (it preloads a CA bundle at import),
and about a third less CPU per call than ``urllib3``'s pool (~0.15 ms of a 20-binding call's
~0.4), which a bulk batch's calls in flight pay under the GIL. ``requests`` is still used when
the environment configures a proxy for the endpoint or when the caller hands the client a
``requests.Session``. Both report the same failures with the same messages.
"""

from __future__ import annotations

import http.client
import logging
import os
import select
import socket
import ssl
import threading
import time
from http.client import HTTPConnection
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from tpns_account.errors import UpstreamTimeoutError, UpstreamUnavailableError
from tpns_account.values import Value

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)


class Headers(Protocol):
    def get(self, name: str, /) -> str | None:
        """The header's value (names are case-insensitive), or None."""
        ...


Host = tuple[str, str, int]  # scheme, name, port: what a connection is kept for


class HttpAnswer(Value):
    status_code: int
    content: bytes
    headers: Headers


class Transport(Protocol):
    def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: tuple[float, float]
    ) -> HttpAnswer:
        """POST and read the whole answer; UpstreamTimeoutError / UpstreamUnavailableError."""
        ...

    def close(self) -> None: ...


def new_transport(base_url: str, pool_size: int) -> Transport:
    """http.client, unless an environment proxy applies to ``base_url`` (requests honours it)."""
    parts = urlsplit(base_url)
    if _proxied(parts.scheme, parts.hostname or ""):
        return RequestsTransport(pool_size=pool_size)
    return HttpClientTransport(pool_size)


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


class HttpClientTransport:
    """``http.client`` connections, kept alive, at most ``pool_size`` idle ones per host; no
    redirects, and no retries but one: a kept-alive connection the server closed just as the
    request went out (its idle timeout) is replaced and the request sent once more. TLS
    verifies the certificate and the host name.

    Failures are named as ``requests`` names them, so messages do not depend on the transport.
    """

    def __init__(self, pool_size: int) -> None:
        self._pool_size = pool_size
        self._idle: dict[Host, list[HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: tuple[float, float]
    ) -> HttpAnswer:
        parts = urlsplit(url)
        default_port = 443 if parts.scheme == "https" else 80
        host = (parts.scheme, parts.hostname or "", parts.port or default_port)
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path or "/"
        connection = self._idle_connection(host)
        if connection is not None:
            started = time.monotonic()
            try:
                return self._exchange(host, connection, target, body, headers, timeout)
            except _ClosedBeforeAnswerError:
                # Binds, unbinds and queries mean the same sent twice; the second attempt
                # gets what is left of the read timeout, so the call's deadline still holds.
                left = timeout[1] - (time.monotonic() - started)
                if left <= 0:
                    raise _unreachable("ConnectionError") from None
                logger.debug("TPNS closed a kept-alive connection; sending again on a new one")
                timeout = (min(timeout[0], left), left)
        connection = self._new_connection(host, timeout)
        try:
            return self._exchange(host, connection, target, body, headers, timeout)
        except _ClosedBeforeAnswerError:
            raise _unreachable("ConnectionError") from None

    def close(self) -> None:
        with self._lock:
            idle = [c for connections in self._idle.values() for c in connections]
            self._idle.clear()
        for connection in idle:
            connection.close()

    def _exchange(
        self,
        host: Host,
        connection: HTTPConnection,
        target: str,
        body: bytes,
        headers: dict[str, str],
        timeout: tuple[float, float],
    ) -> HttpAnswer:
        """One request and its whole answer; the connection goes back to the pool after it."""
        try:
            connection.sock.settimeout(timeout[1])
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            connection.close()
            raise _ClosedBeforeAnswerError from None
        except (http.client.HTTPException, OSError) as exc:
            raise _failure(connection, exc, timeout) from None
        try:
            content = response.read()
        except (http.client.HTTPException, OSError) as exc:
            raise _failure(connection, exc, timeout, reading=True) from None
        if response.will_close:
            connection.close()
        else:
            self._put_back(host, connection)
        return HttpAnswer(response.status, content, response.headers)

    def _idle_connection(self, host: Host) -> HTTPConnection | None:
        """An idle connection to ``host`` the server has not closed yet, if there is one."""
        with self._lock:
            idle = self._idle.get(host, [])
            while idle:
                connection = idle.pop()
                if not _dropped(connection):
                    return connection
                connection.close()
        return None

    def _new_connection(self, host: Host, timeout: tuple[float, float]) -> HTTPConnection:
        """A connection to ``host``, connected within ``timeout[0]`` (failures as ``_failure``
        names them)."""
        scheme, name, port = host
        if scheme == "https":
            connection: HTTPConnection = http.client.HTTPSConnection(
                name, port, timeout=timeout[0], context=self._tls_context()
            )
        else:
            connection = http.client.HTTPConnection(name, port, timeout=timeout[0])
        try:
            connection.connect()  # (the TLS handshake too, within the connect timeout)
        except OSError as exc:
            raise _failure(connection, exc, timeout) from None
        # http.client writes the headers and the body apart: without this, Nagle's algorithm
        # holds the body until the server acknowledges the headers (up to its delayed-ACK
        # timeout, 40 ms and more), as urllib3 and requests avoid by the same option.
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _put_back(self, host: Host, connection: HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(host, [])
            if len(idle) < self._pool_size:
                idle.append(connection)
                return
        connection.close()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            try:
                import certifi

                ca_file: str | None = certifi.where()
            except ImportError:  # pragma: no cover - certifi ships with requests and botocore
                ca_file = None
            self._tls = ssl.create_default_context(cafile=ca_file)
        return self._tls


def _failure(
    connection: HTTPConnection,
    exc: BaseException,
    timeout: tuple[float, float],
    *,
    reading: bool = False,
) -> UpstreamTimeoutError | UpstreamUnavailableError:
    """The connection closed, and what its failure means for the caller (a broken answer is a
    ``ChunkedEncodingError`` to ``requests``)."""
    connection.close()
    if isinstance(exc, TimeoutError):
        return _timed_out(timeout)
    if isinstance(exc, ssl.SSLError):
        return _unreachable("SSLError")
    return _unreachable("ChunkedEncodingError" if reading else "ConnectionError")


class _ClosedBeforeAnswerError(Exception):
    """The server closed the connection before a byte of its answer came back."""


def _dropped(connection: HTTPConnection) -> bool:
    """Whether the server closed (or wrote on) an idle connection: it cannot carry a request."""
    sock = connection.sock
    if sock is None:
        return True
    poller = select.poll()  # (select.select fails on descriptors past 1023)
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class RequestsTransport:
    """A ``requests.Session``: the caller's, or one sized like the http.client pool."""

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
