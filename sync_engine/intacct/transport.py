"""HTTP POST to the gateway: timeouts, bounded streaming read, in-flight limit, redacted logging.

Every failure is turned into a typed error through ``errors.classify``; this module never decides
on its own whether something is retryable.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
import urllib3

from .errors import DEFAULT_RETRY_STATUSES, classify
from .redact import redact_body

log = logging.getLogger("sync_engine.intacct.transport")

DEFAULT_MAX_RESPONSE_BYTES = 64 * 2**20
# A whole response must arrive within this (the gateway itself gives up on synchronous requests after ~15 minutes),
# so a server dripping bytes below the read timeout cannot hold a request and its in-flight slot for ever.
DEFAULT_RESPONSE_DEADLINE = 900.0
_CHUNK = 64 * 1024
_ERROR_BODY_BYTES = 1 << 20

_registry_lock = threading.Lock()
_limiters: dict[tuple[str, str, str], threading.BoundedSemaphore] = {}


def limiter_for(key: tuple[str, str, str], max_in_flight: int) -> threading.BoundedSemaphore:
    """The in-flight semaphore shared by every client of one connection (endpoint, company, user).

    The first client to ask fixes the limit for that connection for the life of the process.
    """
    if max_in_flight < 1:
        raise ValueError("max_in_flight must be >= 1")
    with _registry_lock:
        sem = _limiters.get(key)
        if sem is None:
            sem = _limiters[key] = threading.BoundedSemaphore(max_in_flight)
        return sem


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class HttpReply:
    """A fully read HTTP response."""

    status: int
    body: bytes
    content_type: str | None
    retry_after: float | None
    elapsed: float
    parsed: object | None = None  # what ``on_success`` made of a 200 body streamed to it (``body`` is then empty)


class Transport:
    """Posts XML documents and returns bounded, fully read replies."""

    def __init__(
        self,
        *,
        http: requests.Session,
        timeout: tuple[float, float],
        max_response_bytes: int,
        limiter: threading.BoundedSemaphore,
        secrets: Callable[[], Iterable[str]],
        retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES,
        response_deadline: float = DEFAULT_RESPONSE_DEADLINE,
    ) -> None:
        self._http = http
        self._deadline = response_deadline
        self._timeout = timeout
        self._max_bytes = max_response_bytes
        self._limiter = limiter
        self._secrets = secrets
        self._retry_statuses = retry_statuses
        self._count_lock = threading.Lock()
        self.requests_sent = 0

    def post(self, url: str, body: bytes, *, is_write: bool,
             on_success: Callable[[Iterator[bytes], str | None], object] | None = None) -> HttpReply:
        """POST ``body`` to ``url``; raise a classified error for transport-level failures.

        Non-200 statuses are returned, not raised: the caller classifies them with the body. With
        ``on_success``, a 200 body is streamed to it chunk by chunk as it arrives (never held whole) and its
        return value is the reply's ``parsed``; its exceptions propagate.
        """
        host = urlsplit(url).netloc or url
        with self._limiter:
            with self._count_lock:
                self.requests_sent += 1
            if log.isEnabledFor(logging.DEBUG):
                log.debug("POST %s (%d bytes)\n%s", url, len(body), redact_body(body, self._secrets()))
            started = time.monotonic()
            try:
                resp = self._http.post(
                    url,
                    data=body,
                    headers={"Content-Type": "application/xml", "Accept": "application/xml, text/xml"},
                    timeout=self._timeout,
                    stream=True,
                    allow_redirects=False,
                )
            except requests.exceptions.RequestException as exc:
                raise classify(level="transport", exception=exc, is_write=is_write, host=host) from exc
            content_type = resp.headers.get("Content-Type")
            parsed: object | None = None
            head = bytearray()
            size = [0]
            try:
                chunks = self._capped_chunks(resp, host=host, is_write=is_write, head=head, size=size,
                                             started=started)
                if resp.status_code == 200 and on_success is not None:
                    parsed = on_success(chunks, content_type)
                    content = b""
                else:
                    content = self._error_body(chunks)
            finally:
                resp.close()
            elapsed = time.monotonic() - started
        if log.isEnabledFor(logging.DEBUG):
            log.debug("HTTP %d from %s in %.3fs (%d bytes)\n%s", resp.status_code, host, elapsed, size[0],
                      redact_body(bytes(head) if parsed is not None else content, self._secrets()))
        return HttpReply(
            status=resp.status_code,
            body=content,
            content_type=content_type,
            retry_after=parse_retry_after(resp.headers.get("Retry-After")),
            elapsed=elapsed,
            parsed=parsed,
        )

    @staticmethod
    def _error_body(chunks: Iterator[bytes]) -> bytes:
        """The start of a non-200 body (enough for Intacct's small error document); the rest is not read."""
        buf = bytearray()
        for chunk in chunks:
            buf += chunk
            if len(buf) >= _ERROR_BODY_BYTES:
                break
        return bytes(buf[:_ERROR_BODY_BYTES])

    def _capped_chunks(self, resp: requests.Response, *, host: str, is_write: bool, head: bytearray,
                       size: list[int], started: float) -> Iterator[bytes]:
        """The body in chunks, refused past the size limit; the first 64 KiB are kept in ``head`` for the log."""
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self._max_bytes:
            raise classify(level="format", is_write=is_write, http_status=resp.status_code, host=host,
                           message=f"response of {int(declared)} bytes exceeds the {self._max_bytes}-byte limit")
        raw = resp.raw
        while True:
            try:
                # read1: whatever has arrived (up to a chunk), so the deadline is checked even when bytes drip in.
                chunk = raw.read1(_CHUNK, decode_content=True)
            except urllib3.exceptions.HTTPError as exc:
                raise classify(level="transport", exception=_as_requests_error(exc), is_write=is_write,
                               host=host) from exc
            if not chunk:
                return
            size[0] += len(chunk)
            if size[0] > self._max_bytes:
                raise classify(level="format", is_write=is_write, http_status=resp.status_code, host=host,
                               message=f"response exceeds the {self._max_bytes}-byte limit")
            if len(head) < _CHUNK:
                head += chunk[:_CHUNK - len(head)]
            if time.monotonic() - started > self._deadline:
                late = requests.exceptions.ReadTimeout(f"response not complete within {self._deadline:.0f} s")
                raise classify(level="transport", exception=late, is_write=is_write, host=host)
            yield chunk


def _as_requests_error(exc: urllib3.exceptions.HTTPError) -> requests.exceptions.RequestException:
    """The requests exception ``iter_content`` would have raised for a urllib3 read error."""
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        out: requests.exceptions.RequestException = requests.exceptions.ReadTimeout(str(exc))
    elif isinstance(exc, urllib3.exceptions.SSLError):
        out = requests.exceptions.SSLError(str(exc))
    elif isinstance(exc, urllib3.exceptions.DecodeError):
        out = requests.exceptions.ContentDecodingError(str(exc))
    elif isinstance(exc, urllib3.exceptions.ProtocolError):
        out = requests.exceptions.ChunkedEncodingError(str(exc))
    else:
        out = requests.exceptions.ConnectionError(str(exc))
    out.__cause__ = exc
    return out
