"""HTTP front: a threaded server routing ``*xmlgw.phtml`` to the gateway and ``/_sandbox/*`` to admin.

With a TLS context the listening socket is wrapped by ``ssl`` and the same routes are served over HTTPS;
gateway replies are gzip-compressed when the client's ``Accept-Encoding`` asks for it.
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .admin import handle_admin
from .config import ADMIN_PREFIX, GZIP_WHEN_ACCEPTED, MAX_REQUEST_BYTES, TLS_HANDSHAKE_TIMEOUT_SECONDS
from .envelope import gateway_error_body
from .gateway import Gateway, Reply, Services, endpoint_from


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], services: Services, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(address, _Handler)
        self.services = services
        self.gateway = Gateway(services)
        self.tls = tls is not None
        if tls is not None:
            # The handshake is deferred to the handler thread: done in accept() it would let one slow or
            # non-TLS client stall the accept loop for everyone.
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)


def tls_context(cert_path: str, key_path: str) -> ssl.SSLContext:
    """A server-side context for ``--tls-cert``/``--tls-key`` (TLS 1.2 or later)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    return context


def _is_gateway(path: str) -> bool:
    return urllib.parse.urlsplit(path).path.rstrip("/").endswith("xmlgw.phtml")


def accepts_gzip(header: str | None) -> bool:
    """True when an ``Accept-Encoding`` value allows gzip (``gzip``/``x-gzip`` or ``*``, q > 0)."""
    explicit: float | None = None
    wildcard: float | None = None
    for item in (header or "").split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            explicit = q if explicit is None else max(explicit, q)
        elif coding == "*":
            wildcard = q
    chosen = explicit if explicit is not None else wildcard
    return chosen is not None and chosen > 0


class _Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "IntacctSandbox/0.1"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return

    def setup(self) -> None:
        super().setup()
        self._tls_failed = False
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.settimeout(TLS_HANDSHAKE_TIMEOUT_SECONDS)
                self.request.do_handshake()
                self.request.settimeout(None)
            except (ssl.SSLError, OSError):
                self._tls_failed = True
                self.close_connection = True

    def handle(self) -> None:
        if not self._tls_failed:
            super().handle()

    def _body(self) -> bytes | None:
        """The request body, or None (after answering) when its length is missing, invalid or too large."""
        raw = (self.headers.get("Content-Length") or "0").strip()
        length = int(raw) if raw.isdigit() else -1
        if length < 0 or length > MAX_REQUEST_BYTES:
            self.close_connection = True
            self._send(413 if length > 0 else 400,
                       gateway_error_body("GW-0011", f"Invalid Request: the body must be 0 to {MAX_REQUEST_BYTES} "
                                                     "bytes with a valid Content-Length"), "text/xml; charset=UTF-8")
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        headers = dict(headers or {})
        if _is_gateway(self.path) and GZIP_WHEN_ACCEPTED:
            headers["Vary"] = "Accept-Encoding"
            if body and accepts_gzip(self.headers.get("Accept-Encoding")):
                body = gzip.compress(body, compresslevel=5)
                headers["Content-Encoding"] = "gzip"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        if _is_gateway(self.path):
            self.server.services.stats.status(status)

    def _admin(self, method: str) -> None:
        body = self._body()
        if body is None:
            return
        status, payload = handle_admin(self.server.services, method, self.path, body)
        self._send(status, json.dumps(payload).encode(), "application/json")

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path.startswith(ADMIN_PREFIX + "/"):
            return self._admin("GET")
        if _is_gateway(self.path):
            return self._send(405, gateway_error_body("GW-0011", "Invalid Request: use POST"),
                              "text/xml; charset=UTF-8", {"Allow": "POST"})
        self._send(404, b"Not Found", "text/plain")

    def do_DELETE(self) -> None:  # noqa: N802
        if self.path.startswith(ADMIN_PREFIX + "/"):
            return self._admin("DELETE")
        self._send(404, b"Not Found", "text/plain")

    def do_PUT(self) -> None:  # noqa: N802
        if self.path.startswith(ADMIN_PREFIX + "/"):
            return self._admin("PUT")
        self._send(404, b"Not Found", "text/plain")

    def do_POST(self) -> None:  # noqa: N802
        if self.path.startswith(ADMIN_PREFIX + "/"):
            return self._admin("POST")
        if not _is_gateway(self.path):
            if self._body() is not None:
                self._send(404, b"Not Found", "text/plain")
            return
        body = self._body()
        if body is None:
            return
        if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or "") and body.startswith(b"xmlrequest="):
            body = urllib.parse.unquote_to_bytes(body[len("xmlrequest="):].replace(b"+", b" "))
        own_scheme = "https" if self.server.tls else "http"
        scheme = (self.headers.get("X-Forwarded-Proto") or own_scheme).split(",")[0].strip()
        host_fallback = "%s:%s" % self.server.server_address[:2]
        endpoint = endpoint_from(self.headers.get("Host"), scheme, self.path, host_fallback)
        reply: Reply = self.server.gateway.handle(body, endpoint)
        if reply.drop:
            self.close_connection = True
            self.server.services.stats.status(0)
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(reply.status, reply.body, reply.content_type, reply.headers)
