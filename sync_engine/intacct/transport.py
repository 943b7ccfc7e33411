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

from .errors import DEFAULT_RETRY_STATUSES, classify
from .redact import redact_body

log = logging.getLogger("sync_engine.intacct.transport")

DEFAULT_MAX_RESPONSE_BYTES = 64 * 2**20
_CHUNK = 64 * 1024

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
    ) -> None:
        self._http = http
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
                chunks = self._capped_chunks(resp, host=host, is_write=is_write, head=head, size=size)
                if resp.status_code == 200 and on_success is not None:
                    parsed = on_success(chunks, content_type)
                    content = b""
                else:
                    content = b"".join(chunks)
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

    def _capped_chunks(self, resp: requests.Response, *, host: str, is_write: bool, head: bytearray,
                       size: list[int]) -> Iterator[bytes]:
        """The body in chunks, refused past the size limit; the first 64 KiB are kept in ``head`` for the log."""
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self._max_bytes:
            raise classify(level="format", is_write=is_write, http_status=resp.status_code, host=host,
                           message=f"response of {int(declared)} bytes exceeds the {self._max_bytes}-byte limit")
        try:
            for chunk in resp.iter_content(chunk_size=_CHUNK):
                size[0] += len(chunk)
                if size[0] > self._max_bytes:
                    raise classify(level="format", is_write=is_write, http_status=resp.status_code, host=host,
                                   message=f"response exceeds the {self._max_bytes}-byte limit")
                if len(head) < _CHUNK:
                    head += chunk[:_CHUNK - len(head)]
                yield chunk
        except requests.exceptions.RequestException as exc:
            raise classify(level="transport", exception=exc, is_write=is_write, host=host) from exc
