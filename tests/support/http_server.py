"""A loopback HTTP(S) server that accepts every POST as TPNS does, for transport tests.

It counts the connections it accepted and closed, can close each one after its answer (as a
server whose keep-alive timeout expired does, without saying so; at once, or a while later
without reading what came meanwhile), and serves TLS with a certificate signed by a CA made
for the test.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ACCEPTED = b'{"ret_code": 0, "result": [{"ret_code": 0}]}'


@dataclass
class LoopbackServer:
    """What the server saw, and where it listens."""

    url: str
    connections: int = 0
    close_after_answer: bool = False
    close_delay_s: float = 0.0
    cut_answer_short: bool = False
    closed: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> None:
        with self._lock:
            self.connections += 1

    def wait_closed(self, timeout_s: float = 5.0) -> None:
        """Until the server has closed one more connection."""
        if not self.closed.acquire(timeout=timeout_s):
            raise TimeoutError("the server closed no connection")


@dataclass(frozen=True)
class LocalCa:
    """A CA's certificate file, and a server certificate and key it signed, as PEM files."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_ca(directory: Path, host: str) -> LocalCa:
    """A CA and a certificate it signed for ``host`` (a DNS name or an IP address)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key, now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (
        _builder(name, ca_name, key, now)
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = LocalCa(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    paths.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, now: datetime.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
    )


class _Server(ThreadingHTTPServer):
    state: LoopbackServer

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.state.closed.release()


@contextmanager
def loopback_server(
    *,
    tls: LocalCa | None = None,
    close_after_answer: bool = False,
    close_delay_s: float = 0.0,
    cut_answer_short: bool = False,
) -> Iterator[LoopbackServer]:
    """A server on 127.0.0.1, stopped when the block ends; ``cut_answer_short``: each answer
    announces its whole length, then stops halfway and the connection closes."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server: _Server

        def setup(self) -> None:
            self.server.state.accepted()
            super().setup()

        def do_POST(self) -> None:
            state = self.server.state
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(ACCEPTED)))
            self.end_headers()
            self.wfile.write(ACCEPTED[: len(ACCEPTED) // 2] if state.cut_answer_short else ACCEPTED)
            self.wfile.flush()
            if state.close_after_answer or state.cut_answer_short:
                time.sleep(state.close_delay_s)
                self.close_connection = True

        def log_message(self, *_: Any) -> None:
            return

    httpd = _Server(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert_file, tls.key_file)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    state = LoopbackServer(
        f"{scheme}://127.0.0.1:{httpd.server_address[1]}",
        close_after_answer=close_after_answer,
        close_delay_s=close_delay_s,
        cut_answer_short=cut_answer_short,
    )
    httpd.state = state
    thread = threading.Thread(target=httpd.serve_forever, daemon=True, name="loopback-http")
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def full_listener() -> Iterator[int]:
    """A port whose listener never accepts, its queue full: a new connection hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    waiting: list[socket.socket] = []
    try:
        for _ in range(16):  # until the kernel's queue for it is full
            client = socket.socket()
            client.settimeout(0.2)
            waiting.append(client)
            try:
                client.connect(listener.getsockname())
            except TimeoutError:
                break
        else:
            raise RuntimeError("the listener's queue never filled")
        yield listener.getsockname()[1]
    finally:
        for client in waiting:
            client.close()
        listener.close()
