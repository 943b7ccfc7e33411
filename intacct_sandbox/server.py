"""HTTP front: a threaded server routing ``*xmlgw.phtml`` to the gateway and ``/_sandbox/*`` to admin."""

from __future__ import annotations

import json
import socket
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .admin import handle_admin
from .config import ADMIN_PREFIX
from .envelope import gateway_error_body
from .gateway import Gateway, Reply, Services, endpoint_from


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], services: Services) -> None:
        super().__init__(address, _Handler)
        self.services = services
        self.gateway = Gateway(services)


def _is_gateway(path: str) -> bool:
    return urllib.parse.urlsplit(path).path.rstrip("/").endswith("xmlgw.phtml")


class _Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "IntacctSandbox/0.1"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        if _is_gateway(self.path):
            self.server.services.stats.status(status)

    def _admin(self, method: str) -> None:
        status, payload = handle_admin(self.server.services, method, self.path, self._body())
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
            self._body()
            return self._send(404, b"Not Found", "text/plain")
        body = self._body()
        if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or "") and body.startswith(b"xmlrequest="):
            body = urllib.parse.unquote_to_bytes(body[len("xmlrequest="):].replace(b"+", b" "))
        scheme = (self.headers.get("X-Forwarded-Proto") or "http").split(",")[0].strip()
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
