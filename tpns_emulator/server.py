"""The HTTP side of the emulator: a fast keep-alive ThreadingHTTPServer on loopback.

Responses are written with a single ``sendall`` (headers and body together) and TCP_NODELAY,
so a keep-alive client never waits on Nagle/delayed-ACK; no lock is held while sleeping for
injected latency, and nothing sleeps when no fault is configured. What to answer is
``tpns_emulator.pipeline``'s (the TPNS endpoints) and ``tpns_emulator.admin``'s (``/_emulator/``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import select
import selectors
import socket
import threading
import time
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

from tpns_emulator import admin, pipeline
from tpns_emulator.errors import ConfigError, EmulatorError
from tpns_emulator.pipeline import ENDPOINTS, JSON_TYPE

if TYPE_CHECKING:
    from tpns_emulator.emulator import Epoch, TpnsEmulator

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/_emulator/"
MAX_BODY_BYTES = 1 << 20

_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


class EmulatorServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that never blocks on close and can cut its open connections."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], emulator: TpnsEmulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stop_requested = False
        # Created first: a failing bind calls server_close(), which closes these too.
        self._wake_r, self._wake_w = socket.socketpair()
        super().__init__(address, _Handler)

    def serve(self) -> None:
        """Accept loop that a wake-up socket stops at once (serve_forever polls instead)."""
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.socket, selectors.EVENT_READ)
                selector.register(self._wake_r, selectors.EVENT_READ)
                while not self._stop_requested:
                    for key, _ in selector.select():
                        if key.fileobj is self.socket and not self._stop_requested:
                            self._accept()
        finally:
            self._wake_r.close()

    def server_close(self) -> None:
        super().server_close()
        self._wake_r.close()
        self._wake_w.close()

    def _accept(self) -> None:
        try:
            request, client_address = self.get_request()
        except OSError:
            return
        try:
            self.process_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
            self.shutdown_request(request)

    def request_stop(self) -> None:
        self._stop_requested = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._wake_w.close()

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-request is routine here, not worth a traceback.
        logger.debug("error while handling a request from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """One connection; keeps it alive across requests (HTTP/1.1)."""

    protocol_version = "HTTP/1.1"
    server_version = "tpns-emulator/1"
    sys_version = ""
    detached = False  # the current request's client hung up while it stalled

    @property
    def emu(self) -> TpnsEmulator:
        return cast(EmulatorServer, self.server).emulator

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cast(EmulatorServer, self.server).track(self.connection, True)

    def finish(self) -> None:
        cast(EmulatorServer, self.server).track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)

    # -- plumbing ----------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = JSON_TYPE,
        extra_headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Write status line, headers and body in one go (keeps keep-alive fast)."""
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        head = [
            f"HTTP/1.1 {status} {reason}",
            f"Server: {self.server_version}",
            f"Date: {_http_date()}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        head.extend(f"{name}: {value}" for name, value in extra_headers)
        if self.close_connection:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._send(status, body)

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering a framing error (connection closed)."""
        encoding = self.headers.get("Transfer-Encoding")
        if encoding and encoding.lower() != "identity":
            self.close_connection = True
            self._send_json(411, {"error": "Content-Length required"})
            return None
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send_json(400, {"error": "bad Content-Length"})
            return None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send_json(413, {"error": "body too large"})
            return None
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True
            return None
        return body

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # -- methods -----------------------------------------------------------------------------

    def do_POST(self) -> None:
        request = self._unless_admin("POST")
        if request is not None:
            self._api(*request)

    def do_GET(self) -> None:
        request = self._unless_admin("GET")
        if request is None:
            return
        if request[0] in ENDPOINTS:
            self._send(405, b'{"error":"method not allowed"}', extra_headers=(("Allow", "POST"),))
        else:
            self._send_json(404, {"error": "not found"})

    def _unless_admin(self, method: str) -> tuple[str, bytes] | None:
        """Read the request and serve it if it is an admin call; else its path and body."""
        path, _, query = self.path.partition("?")
        body = self._read_body()
        if body is None:
            return None
        if path.startswith(ADMIN_PREFIX):
            self._admin(method, path, query, body)
            return None
        return path, body

    # -- the TPNS endpoints ------------------------------------------------------------------

    def _api(self, path: str, body: bytes) -> None:
        emu = self.emu
        self.detached = False
        emu.counters.enter()
        try:
            reply = pipeline.answer(emu, path, self.headers, body, self._stall)
        except Exception:
            # An emulator bug must be loud, yet look like a server error to the client.
            logger.exception("emulator failed while handling %s", path)
            emu.counters.leave(None, detached=self.detached)
            self.close_connection = True
            self._send_json(500, {"error": "emulator internal error"})
            return
        except BaseException:
            emu.counters.leave(None, detached=self.detached)
            raise
        # Leave (and record) before answering, so a client that reads the stats right after
        # its response always sees its own call.
        emu.counters.leave(reply.record, reply.fired, detached=self.detached)
        if reply.drop:
            self._drop()
        else:
            self._send(reply.status, reply.body, reply.content_type, reply.headers)

    def _stall(self, seconds: float, epoch: Epoch) -> bool:
        """Wait like a slow server; False when a reset or stop abandoned the request.

        A request whose client hangs up meanwhile is still applied (a timed-out call may well
        have happened, as with the real service) but stops counting as in flight, so peak
        concurrency measures the calls clients are actually waiting on.
        """
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if epoch is not self.emu.epoch or epoch.wake.is_set():
                return False
            if self.detached:
                self.emu.sleep(min(left, 0.05), epoch)
            elif self._client_gone(min(left, 0.05)):
                self.detached = True
                self.emu.counters.detach()
        return epoch is self.emu.epoch

    def _client_gone(self, wait: float) -> bool:
        """Block up to ``wait`` seconds for the client to hang up (seen the moment it does)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], wait)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    # -- admin API ---------------------------------------------------------------------------

    def _admin(self, method: str, path: str, query: str, body: bytes) -> None:
        emu = self.emu
        route = path[len(ADMIN_PREFIX) :].rstrip("/")
        try:
            data: dict[str, Any] = {}
            if method == "POST" and body.strip():
                loaded = json.loads(body)
                if not isinstance(loaded, dict):
                    raise ConfigError("body must be a JSON object")
                data = loaded
            status, payload = admin.route(emu, method, route, parse_qs(query), data)
        except (EmulatorError, ValueError, TypeError) as exc:
            status, payload = 400, {"error": str(exc).strip("'\"")}
        self._send_json(status, payload)
