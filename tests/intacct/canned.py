"""A tiny canned-response HTTP server on 127.0.0.1 for exercising the client over real sockets.

Tests queue actions (reply, drop mid-body, sleep past the timeout...) or install a handler; sign-ins
(getAPISession) are answered automatically unless ``auto_login`` is off. Every POST is recorded.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lxml import etree

from . import samples as s


@dataclass
class Reply:
    """Send this status/body (optionally after ``delay`` seconds)."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_length: bool = True  # False: HTTP/1.0 style, body delimited by closing the connection
    chunk_size: int = 0  # >0: write the body in chunks of this size


@dataclass
class Drop:
    """Announce ``declared`` bytes, send ``partial``, then close the connection."""

    partial: bytes = b"<?xml version='1.0'?><response><control><status>succ"
    declared: int = 4096


Action = Reply | Drop | Callable[[bytes], "Reply | Drop"]


@dataclass
class Seen:
    """One POST as the server received it."""

    body: bytes
    functions: list[str]
    controlids: list[str]
    session: str | None
    is_login: bool


def parse_request(body: bytes) -> tuple[list[str], list[str], str | None]:
    root = etree.fromstring(body)
    funcs = root.findall("operation/content/function")
    names = [f[0].tag for f in funcs]
    ids = [f.get("controlid") for f in funcs]
    return names, ids, root.findtext("operation/authentication/sessionid")


def ok_results(body: bytes, inner: Callable[[str, str, etree._Element], str] | None = None,
               auth: str | None = None) -> bytes:
    """A success response echoing every function of ``body``; ``inner`` supplies each result's data."""
    root = etree.fromstring(body)
    parts = []
    for f in root.findall("operation/content/function"):
        el = f[0]
        data = inner(el.tag, f.get("controlid"), el) if inner else ""
        parts.append(s.result(el.tag, f.get("controlid"), data))
    return s.response(*parts, auth=auth)


class CannedServer:
    """Start with ``with CannedServer() as srv``; ``srv.url`` is the gateway URL."""

    def __init__(self, *, auto_login: bool = True, session_id: str = "SESSION-SECRET-abc123..",
                 session_timeout: datetime | None = None) -> None:
        self.actions: deque[Action] = deque()
        self.default: Action | None = None
        self.seen: list[Seen] = []
        self.auto_login = auto_login
        self.session_id = session_id
        self.session_timeout = session_timeout or datetime(2099, 1, 1, tzinfo=UTC)
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    server._handle(self, body)
                finally:
                    with server._lock:
                        server.in_flight -= 1

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:  # noqa: ANN001
                import sys

                if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
                    super().handle_error(request, client_address)  # a client that hung up early is expected

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/ia/xml/xmlgw.phtml"

    def __enter__(self) -> CannedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def push(self, *actions: Action) -> None:
        self.actions.extend(actions)

    def count(self, function: str) -> int:
        """How many POSTs carried a function named ``function``."""
        return sum(1 for r in self.seen if function in r.functions)

    @property
    def logins(self) -> int:
        return sum(1 for r in self.seen if r.is_login)

    def session_reply(self, controlid: str = "sess") -> Reply:
        stamp = self.session_timeout.isoformat()
        return Reply(s.session_response(self.url, self.session_id, timeout=stamp, controlid=controlid))

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        try:
            names, ids, session = parse_request(body)
        except etree.XMLSyntaxError:
            names, ids, session = [], [], None
        is_login = "getAPISession" in names
        with self._lock:
            self.seen.append(Seen(body, names, ids, session, is_login))
            if is_login and self.auto_login:
                action: Action | None = self.session_reply(ids[0])
            elif self.actions:
                action = self.actions.popleft()
            else:
                action = self.default
        if action is None:
            action = Reply(ok_results(body))
        if callable(action) and not isinstance(action, (Reply, Drop)):
            action = action(body)
        self._perform(handler, action)

    @staticmethod
    def _perform(handler: BaseHTTPRequestHandler, action: Reply | Drop) -> None:
        if isinstance(action, Drop):
            handler.send_response(200)
            handler.send_header("Content-Type", "text/xml")
            handler.send_header("Content-Length", str(action.declared))
            handler.end_headers()
            handler.wfile.write(action.partial)
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        if action.delay:
            time.sleep(action.delay)
        try:
            handler.send_response(action.status)
            headers = {"Content-Type": "text/xml; charset=UTF-8", **action.headers}
            for k, v in headers.items():
                handler.send_header(k, v)
            if action.content_length:
                handler.send_header("Content-Length", str(len(action.body)))
            else:
                handler.send_header("Connection", "close")
                handler.close_connection = True
            handler.end_headers()
            if action.chunk_size:
                for i in range(0, len(action.body), action.chunk_size):
                    handler.wfile.write(action.body[i:i + action.chunk_size])
            else:
                handler.wfile.write(action.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (timeouts, size cap): that is what those tests check


class FakeClock:
    """A clock whose sleep only advances time (and records the waits)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)

    def advance(self, **kw: float) -> None:
        self.current += timedelta(**kw)
