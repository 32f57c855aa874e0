"""The HTTP side of the emulator: a fast keep-alive ThreadingHTTPServer on loopback.

Responses are written with a single ``sendall`` (headers and body together) and TCP_NODELAY,
so a keep-alive client never waits on Nagle/delayed-ACK; no lock is held while sleeping for
injected latency, and nothing sleeps when no fault is configured.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import select
import selectors
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qs

from tpns_emulator.auth import APP_STATES, App, AuthResult, authenticate, decode_basic
from tpns_emulator.faults import Fault, FaultSet
from tpns_emulator.protocol import (
    INVALID_TOKEN,
    NOT_FOUND,
    STYLES,
    THROTTLED,
    ParsedRequest,
    RequestError,
    account_json,
    batch_ret_code,
    envelope,
    item_result,
    message_for,
    parse_json_object,
    parse_request,
    summarize,
)
from tpns_emulator.state import AccountKey, BindingStore, Mutation

logger = logging.getLogger(__name__)

BATCH_PATH = "/v3/device/account/batchoperate"
QUERY_PATH = "/v3/device/account/query"
ENDPOINTS = {BATCH_PATH: "batchoperate", QUERY_PATH: "query"}
ADMIN_PREFIX = "/_emulator/"
MAX_BODY_BYTES = 1 << 20
MAX_CALL_RECORDS = 10_000
JSON_TYPE = "application/json; charset=utf-8"

_OUTCOMES: dict[int, str] = {
    0: "ok",
    1008026: "partial",
    1008027: "all_failed",
    1008001: "bad_request",
    1008002: "bad_request",
    1008007: "bad_request",
    1008003: "auth",
    1008035: "unknown_app",
    1008030: "app_state",
    1008031: "app_state",
    1010001: "app_state",
    THROTTLED: "throttled",
}


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One handled TPNS call, as tests and benchmarks want to see it."""

    path: str
    access_id: str | None
    operator_type: int | None
    item_count: int | None
    ret_code: int | None
    http_status: int
    outcome: str
    at: float

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class EmulatorStats:
    """A consistent snapshot of the counters; also readable as ``stats["requests"]``."""

    requests: int
    by_path: dict[str, int]
    by_outcome: dict[str, int]
    peak_concurrency: int
    in_flight: int
    throttled: int
    faults_fired: dict[str, int]
    pending_mutations: int
    calls: list[CallRecord]

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["calls"] = [c.as_dict() for c in self.calls]
        return data


class _Counters:
    """Request counters and the throttling window, under one small lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.by_path: Counter[str] = Counter()
        self.by_outcome: Counter[str] = Counter()
        self.faults_fired: Counter[str] = Counter()
        self.in_flight = 0
        self.peak = 0
        self.throttled = 0
        self.calls: deque[CallRecord] = deque(maxlen=MAX_CALL_RECORDS)
        self.window: deque[float] = deque()

    def reset(self) -> None:
        with self.lock:
            self.requests = 0
            self.by_path.clear()
            self.by_outcome.clear()
            self.faults_fired.clear()
            self.peak = self.in_flight
            self.throttled = 0
            self.calls.clear()
            self.window.clear()


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.version == 4 and address.is_loopback


class TpnsEmulator:
    """An in-process TPNS account API (batchoperate + query) for tests, stacks and benchmarks."""

    def __init__(
        self,
        apps: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        apply_delay: float = 0.0,
        *,
        latency_s: float = 0.0,
        qps_cap: float | None = None,
        style: str = "current",
        omit_default_account_type: bool = False,
        skew_window_s: float = 600.0,
        seed: int | None = None,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(f"the emulator binds loopback only, not {host!r}")
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = port
        self.apply_delay = apply_delay
        self.latency_s = latency_s
        self.omit_default_account_type = omit_default_account_type
        self.skew_window_s = skew_window_s
        self.invalid_tokens: set[str] = set()
        self.faults = FaultSet(seed)
        self.store = BindingStore()
        self._apps: dict[str, App] = {}
        self._style = "current"
        self._qps_cap: float | None = None
        self.style = style
        self.qps_cap = qps_cap
        self._counters = _Counters()
        # Replaced by reset()/stop(): requests still sleeping in an older epoch are abandoned,
        # so a late "hang" cannot leak a mutation or a call record into the next test.
        self._epoch = _Epoch()
        self._initial_settings = self._settings()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        for access_id, secret_key in (apps or {}).items():
            self.add_app(access_id, secret_key)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> TpnsEmulator:
        """Bind and serve in a background daemon thread (OSError when the port is taken)."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        server = _Server((self.host, self.port), _Handler, self)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve, daemon=True, name=f"tpns-emulator-{self.port}"
        )
        self._thread.start()
        logger.info("TPNS emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and every open connection, join the thread."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._new_epoch()
        server.request_stop()
        if thread is not None:
            thread.join(timeout=5)
        server.server_close()
        server.close_connections()
        self._server = None
        self._thread = None
        logger.info("TPNS emulator stopped")

    def __enter__(self) -> TpnsEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return f"http://{self.host}:{self.port}"

    # -- configuration -----------------------------------------------------------------------

    @property
    def style(self) -> str:
        return self._style

    @style.setter
    def style(self, value: str) -> None:
        if value not in STYLES:
            raise ValueError(f"style must be one of {sorted(STYLES)}")
        self._style = value

    @property
    def qps_cap(self) -> float | None:
        return self._qps_cap

    @qps_cap.setter
    def qps_cap(self, value: float | None) -> None:
        if value is not None and (isinstance(value, bool) or value <= 0):
            raise ValueError("qps_cap must be a positive number or None")
        self._qps_cap = None if value is None else float(value)

    def add_app(self, access_id: str, secret_key: str, state: str = "active") -> None:
        """Register (or replace) an app."""
        if state not in APP_STATES:
            raise ValueError(f"state must be one of {sorted(APP_STATES)}")
        if not access_id or not secret_key:
            raise ValueError("access_id and secret_key must be non-empty")
        self._apps[access_id] = App(access_id, secret_key, state)

    def set_secret(self, access_id: str, secret_key: str) -> None:
        """Rotate an app's SecretKey: the old one fails from now on."""
        app = self._app(access_id)
        self._apps[access_id] = App(access_id, secret_key, app.state)

    def set_app_state(self, access_id: str, state: str) -> None:
        """Make an app unpaid / destroyed / undeployed (or active again)."""
        self.add_app(access_id, self._app(access_id).secret_key, state)

    def apps(self) -> dict[str, str]:
        """access_id -> state (never the keys)."""
        return {a.access_id: a.state for a in self._apps.values()}

    def _app(self, access_id: str) -> App:
        try:
            return self._apps[access_id]
        except KeyError:
            raise KeyError(f"unknown app {access_id}") from None

    def reset(self) -> None:
        """Clear bindings, pending mutations, counters, faults and invalid tokens; keep apps.

        Settings (style, qps_cap, delays, ...) go back to the constructor's values, and requests
        still sleeping in an injected latency or hang are abandoned (connection closed).
        """
        self._new_epoch()
        self.store.reset()
        self.faults.clear()
        self.invalid_tokens.clear()
        self.configure(self._initial_settings)
        self._counters.reset()

    def _new_epoch(self) -> None:
        old, self._epoch = self._epoch, _Epoch()
        old.wake.set()

    # -- state -------------------------------------------------------------------------------

    def bindings(self, access_id: str) -> dict[str, list[tuple[str, int]]]:
        """Applied state of one app: token -> [(account, account_type)]."""
        return self.store.bindings(access_id)

    def tokens_of(self, access_id: str, account: str, account_type: int = 0) -> list[str]:
        return self.store.tokens_of(access_id, account, account_type)

    def accounts_of(self, access_id: str, token: str) -> list[tuple[str, int]]:
        return self.store.accounts_of(access_id, token)

    def flush(self) -> int:
        """Apply every pending mutation now, ignoring apply_delay."""
        return self.store.flush()

    # -- stats -------------------------------------------------------------------------------

    @property
    def stats(self) -> EmulatorStats:
        c = self._counters
        with c.lock:
            return EmulatorStats(
                requests=c.requests,
                by_path=dict(c.by_path),
                by_outcome=dict(c.by_outcome),
                peak_concurrency=c.peak,
                in_flight=c.in_flight,
                throttled=c.throttled,
                faults_fired=dict(c.faults_fired),
                pending_mutations=self.store.pending_count,
                calls=list(c.calls),
            )

    def reset_stats(self) -> None:
        self._counters.reset()

    def _enter(self) -> None:
        c = self._counters
        with c.lock:
            c.in_flight += 1
            if c.in_flight > c.peak:
                c.peak = c.in_flight

    def _detach(self) -> None:
        """A stalled request's client hung up: it no longer counts as in flight."""
        with self._counters.lock:
            self._counters.in_flight -= 1

    def _leave(
        self, record: CallRecord | None, fired: tuple[str, ...] = (), *, detached: bool = False
    ) -> None:
        c = self._counters
        with c.lock:
            if not detached:
                c.in_flight -= 1
            if record is None:
                return
            c.requests += 1
            c.by_path[record.path] += 1
            c.by_outcome[record.outcome] += 1
            if record.outcome == "throttled":
                c.throttled += 1
            for kind in fired:
                c.faults_fired[kind] += 1
            c.calls.append(record)

    def _admit(self) -> bool:
        """Sliding one-second window across all apps; only admitted requests count."""
        cap = self._qps_cap
        if cap is None:
            return True
        c = self._counters
        now = time.monotonic()
        with c.lock:
            window = c.window
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= cap:
                return False
            window.append(now)
            return True

    def _sleep(self, seconds: float, epoch: _Epoch) -> bool:
        """Sleep (cut short by reset/stop); False when the request was abandoned meanwhile."""
        if seconds > 0:
            epoch.wake.wait(seconds)
        return epoch is self._epoch

    # -- TPNS semantics ----------------------------------------------------------------------

    def _authenticate(self, headers: Any, body: bytes) -> AuthResult:
        return authenticate(
            access_id=headers.get("AccessId"),
            timestamp=headers.get("TimeStamp"),
            sign=headers.get("Sign"),
            authorization=headers.get("Authorization"),
            body=body,
            apps=self._apps,
            now=time.time(),
            skew_window_s=self.skew_window_s,
        )

    def _batchoperate(self, access_id: str, req: ParsedRequest) -> dict[str, Any]:
        style = self._style
        invalid = self.invalid_tokens
        op = req.operator_type
        codes: list[int]
        mutation: Mutation
        if op == 5:
            codes = [0] * len(req.account_list)
            mutation = Mutation(access_id, op, account_list=req.account_list)
        elif op == 4:
            codes = [INVALID_TOKEN if t in invalid else 0 for t in req.token_list]
            tokens = (
                tuple(t for t in req.token_list if t not in invalid) if invalid else req.token_list
            )
            mutation = Mutation(access_id, op, token_list=tokens)
        else:
            codes = [INVALID_TOKEN if ta[0] in invalid else 0 for ta in req.token_accounts]
            items = req.token_accounts
            if invalid:
                items = tuple(ta for ta in items if ta[0] not in invalid)
            mutation = Mutation(access_id, op, token_accounts=items)
        if mutation.token_accounts or mutation.token_list or mutation.account_list:
            self.store.submit(mutation, self.apply_delay)
        answer = envelope("batchoperate", style, batch_ret_code(codes))
        answer["result"] = [item_result(code, style) for code in codes]
        return answer

    def _query(self, access_id: str, req: ParsedRequest) -> dict[str, Any]:
        style = self._style
        omit = self.omit_default_account_type
        results: list[str] = []
        answer = envelope("query", style, 0)
        if req.operator_type == 1:
            found = self.store.query_accounts(access_id, req.account_list)
            entries: list[dict[str, Any]] = []
            for (account, account_type), tokens in zip(req.account_list, found, strict=True):
                entry = account_json(account, account_type, omit)
                entry["token_list"] = tokens
                entries.append(entry)
                results.append(item_result(0 if tokens else NOT_FOUND, style))
            answer["result"] = results
            answer["account_tokens"] = entries
            return answer
        invalid = self.invalid_tokens
        bound = self.store.query_tokens(access_id, req.token_list)
        token_entries: list[dict[str, Any]] = []
        for token, accounts in zip(req.token_list, bound, strict=True):
            if token in invalid:
                code, accounts = INVALID_TOKEN, []
            else:
                code = 0 if accounts else NOT_FOUND
            token_entries.append({"token": token, "account_list": _accounts_json(accounts, omit)})
            results.append(item_result(code, style))
        answer["result"] = results
        answer["token_accounts"] = token_entries
        return answer

    # -- admin -------------------------------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        return {
            "apply_delay": self.apply_delay,
            "latency_s": self.latency_s,
            "qps_cap": self._qps_cap,
            "style": self._style,
            "omit_default_account_type": self.omit_default_account_type,
            "skew_window_s": self.skew_window_s,
        }

    def config(self) -> dict[str, Any]:
        """Current settings, as the admin API shows them (no secret keys)."""
        return {
            "url": self.url if self._server is not None else None,
            "apps": self.apps(),
            **self._settings(),
            "invalid_tokens": sorted(self.invalid_tokens),
            "faults": [f.as_dict() for f in self.faults.snapshot()],
        }

    def configure(self, changes: dict[str, Any]) -> None:
        """Apply admin ``config`` changes; ValueError on unknown keys or bad values."""
        unknown = set(changes) - _CONFIG_KEYS
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        for key in ("apply_delay", "latency_s", "skew_window_s"):
            if key in changes:
                value = changes[key]
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ValueError(f"{key} must be a non-negative number")
        if "invalid_tokens" in changes:
            tokens = changes["invalid_tokens"]
            if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
                raise ValueError("invalid_tokens must be a list of strings")
        if "omit_default_account_type" in changes and not isinstance(
            changes["omit_default_account_type"], bool
        ):
            raise ValueError("omit_default_account_type must be a boolean")
        if "style" in changes:
            self.style = changes["style"]
        if "qps_cap" in changes:
            self.qps_cap = changes["qps_cap"]
        for key in ("apply_delay", "latency_s", "skew_window_s"):
            if key in changes:
                setattr(self, key, float(changes[key]))
        if "omit_default_account_type" in changes:
            self.omit_default_account_type = changes["omit_default_account_type"]
        if "invalid_tokens" in changes:
            self.invalid_tokens.clear()
            self.invalid_tokens.update(changes["invalid_tokens"])


class _Epoch:
    """One reset generation; its event wakes the requests sleeping in it."""

    __slots__ = ("wake",)

    def __init__(self) -> None:
        self.wake = threading.Event()


_CONFIG_KEYS = frozenset(
    {
        "qps_cap",
        "style",
        "apply_delay",
        "latency_s",
        "invalid_tokens",
        "omit_default_account_type",
        "skew_window_s",
    }
)


def _accounts_json(accounts: list[AccountKey], omit: bool) -> list[dict[str, Any]]:
    return [account_json(account, account_type, omit) for account, account_type in accounts]


@dataclass(frozen=True, slots=True)
class _Reply:
    """What to send back for one TPNS call, and how to record it."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    record: CallRecord | None = None
    fired: tuple[str, ...] = ()
    drop: bool = False

    @classmethod
    def of_json(
        cls, status: int, payload: Any, record: CallRecord, fired: tuple[str, ...] = ()
    ) -> _Reply:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, body, JSON_TYPE, (), record, fired)


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that never blocks on close and can cut its open connections."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(
        self, address: tuple[str, int], handler: type[_Handler], emulator: TpnsEmulator
    ) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stop_requested = False
        # Created first: a failing bind calls server_close(), which closes these too.
        self._wake_r, self._wake_w = socket.socketpair()
        super().__init__(address, handler)

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
        return cast(_Server, self.server).emulator

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cast(_Server, self.server).track(self.connection, True)

    def finish(self) -> None:
        cast(_Server, self.server).track(self.connection, False)
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
        path, _, query = self.path.partition("?")
        body = self._read_body()
        if body is None:
            return
        if path.startswith(ADMIN_PREFIX):
            self._admin("POST", path, query, body)
        else:
            self._api(path, body)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        body = self._read_body()
        if body is None:
            return
        if path.startswith(ADMIN_PREFIX):
            self._admin("GET", path, query, body)
        elif path in ENDPOINTS:
            self._send(405, b'{"error":"method not allowed"}', extra_headers=(("Allow", "POST"),))
        else:
            self._send_json(404, {"error": "not found"})

    # -- the TPNS endpoints ------------------------------------------------------------------

    def _api(self, path: str, body: bytes) -> None:
        emu = self.emu
        self.detached = False
        emu._enter()
        try:
            reply = self._process(path, body)
        except Exception:
            # An emulator bug must be loud, yet look like a server error to the client.
            logger.exception("emulator failed while handling %s", path)
            emu._leave(None, detached=self.detached)
            self.close_connection = True
            self._send_json(500, {"error": "emulator internal error"})
            return
        except BaseException:
            emu._leave(None, detached=self.detached)
            raise
        # Leave (and record) before answering, so a client that reads the stats right after
        # its response always sees its own call.
        emu._leave(reply.record, reply.fired, detached=self.detached)
        if reply.drop:
            self._drop()
        else:
            self._send(reply.status, reply.body, reply.content_type, reply.headers)

    def _stall(self, seconds: float, epoch: _Epoch) -> bool:
        """Wait like a slow server; False when a reset or stop abandoned the request.

        A request whose client hangs up meanwhile is still applied (a timed-out call may well
        have happened, as with the real service) but stops counting as in flight, so peak
        concurrency measures the calls clients are actually waiting on.
        """
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if epoch is not self.emu._epoch or epoch.wake.is_set():
                return False
            if self.detached:
                self.emu._sleep(min(left, 0.05), epoch)
            elif self._client_gone(min(left, 0.05)):
                self.detached = True
                self.emu._detach()
        return epoch is self.emu._epoch

    def _client_gone(self, wait: float) -> bool:
        """Block up to ``wait`` seconds for the client to hang up (seen the moment it does)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], wait)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _process(self, path: str, body: bytes) -> _Reply:
        emu = self.emu
        endpoint = ENDPOINTS.get(path)
        access_id = self.headers.get("AccessId")
        if endpoint is None:
            record = CallRecord(path, access_id, None, None, None, 404, "not_found", time.time())
            return _Reply.of_json(404, {"error": "not found"}, record)
        try:
            obj: dict[str, Any] | None = parse_json_object(body)
        except RequestError:
            obj = None
        op, count = summarize(obj)

        epoch = emu._epoch
        decision = emu.faults.decide(endpoint, access_id)
        fault = decision.fault
        delay = emu.latency_s + decision.delay
        if fault is not None and fault.kind == "hang":
            # Stall (typically past the client's timeout), then answer normally.
            delay += fault.seconds or 0.0
        if delay > 0 and not self._stall(delay, epoch):
            return _Reply(0, b"", drop=True)  # abandoned by reset()/stop()
        if fault is not None and fault.kind != "hang":
            status, payload, outcome = _fault_answer(fault, endpoint, emu.style)
            code = fault.code if fault.kind == "error" else None
            record = CallRecord(path, access_id, op, count, code, status, outcome, time.time())
            if fault.kind == "drop":
                return _Reply(0, b"", record=record, fired=decision.fired_kinds, drop=True)
            if payload is not None:
                return _Reply.of_json(status, payload, record, decision.fired_kinds)
            # What a gateway in front of TPNS would send: HTML, not JSON.
            title = f"{status} {HTTPStatus(status).phrase}"
            html = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
            headers = (("Retry-After", "1"),) if status in (429, 503) else ()
            return _Reply(
                status,
                html.encode(),
                "text/html; charset=utf-8",
                headers,
                record,
                decision.fired_kinds,
            )

        status, payload, app_id = self._handle(endpoint, body, obj)
        ret_code: int = payload["ret_code"] if "ret_code" in payload else payload["retCode"]
        if status == 200:
            outcome = _OUTCOMES.get(ret_code, f"code_{ret_code}")
        else:
            outcome = "unknown_app" if status == 403 else "auth"
        record = CallRecord(path, app_id, op, count, ret_code, status, outcome, time.time())
        return _Reply.of_json(status, payload, record, decision.fired_kinds)

    def _handle(
        self, endpoint: str, body: bytes, obj: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any], str | None]:
        """Throttle, authenticate, validate, then run the operation: (status, answer, app)."""
        emu = self.emu
        style = emu.style
        if not emu._admit():
            return 200, envelope(endpoint, style, THROTTLED), self._claimed_access_id()
        auth = emu._authenticate(self.headers, body)
        if not auth.ok:
            return auth.http_status, envelope(endpoint, style, auth.ret_code), auth.access_id
        access_id = cast(str, auth.access_id)
        try:
            if obj is None:
                obj = parse_json_object(body)
            req = parse_request(endpoint, obj)
        except RequestError as exc:
            logger.debug("rejected %s request: %s", endpoint, exc.detail)
            return 200, envelope(endpoint, style, exc.code), access_id
        if endpoint == "batchoperate":
            return 200, emu._batchoperate(access_id, req), access_id
        return 200, emu._query(access_id, req), access_id

    def _claimed_access_id(self) -> str | None:
        access_id = self.headers.get("AccessId")
        if access_id:
            return str(access_id)
        basic = decode_basic(self.headers.get("Authorization"))
        return basic[0] if basic else None

    # -- admin API ---------------------------------------------------------------------------

    def _admin(self, method: str, path: str, query: str, body: bytes) -> None:
        emu = self.emu
        route = path[len(ADMIN_PREFIX) :].rstrip("/")
        try:
            data: dict[str, Any] = {}
            if method == "POST" and body.strip():
                loaded = json.loads(body)
                if not isinstance(loaded, dict):
                    raise ValueError("body must be a JSON object")
                data = loaded
            status, payload = _admin_route(emu, method, route, parse_qs(query), data)
        except (ValueError, KeyError, TypeError) as exc:
            status, payload = 400, {"error": str(exc).strip("'\"")}
        self._send_json(status, payload)


def _admin_route(
    emu: TpnsEmulator, method: str, route: str, params: dict[str, list[str]], data: dict[str, Any]
) -> tuple[int, Any]:
    ok: dict[str, Any] = {"ok": True}
    if method == "GET":
        if route == "stats":
            return 200, emu.stats.as_dict()
        if route == "config":
            return 200, emu.config()
        if route == "state":
            access_id = params.get("access_id", [""])[0]
            if not access_id:
                raise ValueError("access_id is required")
            if access_id not in emu.apps():
                return 404, {"error": f"unknown app {access_id}"}
            return 200, {
                token: [{"account": a, "account_type": t} for a, t in accounts]
                for token, accounts in emu.bindings(access_id).items()
            }
        return 404, {"error": f"no admin route GET {route}"}
    if route == "reset":
        emu.reset()
        return 200, ok
    if route == "stats/reset":
        emu.reset_stats()
        return 200, ok
    if route == "flush":
        return 200, {"ok": True, "applied": emu.flush()}
    if route == "faults":
        if data.get("clear"):
            emu.faults.clear()
            return 200, ok
        if "seed" in data and len(data) == 1:
            emu.faults.seed(data["seed"])
            return 200, ok
        fault = emu.faults.add(
            data.get("kind", ""),
            times=data.get("times"),
            probability=data.get("probability"),
            path=data.get("path"),
            code=data.get("code"),
            status=data.get("status"),
            seconds=data.get("seconds"),
            access_id=data.get("access_id"),
        )
        return 200, {"ok": True, "fault": fault.as_dict()}
    if route == "config":
        emu.configure(data)
        return 200, {"ok": True, "config": emu.config()}
    if route == "apps":
        app_id = data.get("access_id")
        if not isinstance(app_id, str) or not app_id:
            raise ValueError("access_id is required")
        state = data.get("state", "active")
        secret_key = data.get("secret_key")
        if secret_key is None:
            emu.set_app_state(app_id, state)
        elif not isinstance(secret_key, str):
            raise ValueError("secret_key must be a string")
        else:
            emu.add_app(app_id, secret_key, state)
        return 200, {"ok": True, "access_id": app_id, "state": state}
    return 404, {"error": f"no admin route POST {route}"}


def _fault_answer(
    fault: Fault, endpoint: str, style: str
) -> tuple[int, dict[str, Any] | None, str]:
    """(HTTP status, JSON answer or None for a text body, outcome) of a firing fault."""
    if fault.kind == "drop":
        return 0, None, "fault_drop"
    if fault.kind == "error":
        code = cast(int, fault.code)
        status = fault.status or 200
        return status, envelope(endpoint, style, code, message_for(code)), f"fault_error_{code}"
    status = fault.status or 500
    return status, None, f"fault_http_{status}"


__all__ = ["BATCH_PATH", "QUERY_PATH", "CallRecord", "EmulatorStats", "TpnsEmulator"]
