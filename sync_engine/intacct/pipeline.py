"""Requests kept in flight while the caller works: batched writes and read-ahead over one connection.

``RequestPipeline`` sends each submitted batch of functions as one request (``IntacctClient.execute``) on a
worker thread and hands outcomes back **in submission order**, so the caller (on its own thread, where the
database work happens) prepares batch N+1 while batch N is on the wire. At most ``depth`` batches are in
flight; the transport's per-connection semaphore still caps concurrent requests across the process.

Functions per request: Intacct's published request schema puts no maximum on the functions in
``<content>`` (``maxOccurs="unbounded"``), and no limit is published (protocol notes section 12); what is
documented is that a synchronous request may time out after about 15 minutes while the server goes on
(developer.intacct.com, "Synchronous or Asynchronous Response Types"), and every function counts as one API
transaction either way. We stay at ``MAX_FUNCTIONS_PER_REQUEST`` (100) functions, the client's cap, which
keeps one write request to a few seconds of server work and ~100 KB.

``Prefetcher`` is the read side: it runs a producer (e.g. "read page N+1 and its line look-ups") ahead of
the consumer, so reading overlaps with writing the previous page; ``ordered_map`` runs two such reads at once
(the connection's two request slots) and keeps their order.
"""
from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from .client import MAX_FUNCTIONS_PER_REQUEST, FunctionResult
from .functions import Function

T = TypeVar("T")
U = TypeVar("U")

__all__ = ["MAX_FUNCTIONS_PER_REQUEST", "Outcome", "Prefetcher", "RequestPipeline", "ordered_map"]


@dataclass
class Outcome(Generic[T]):
    """One batch's outcome: its results (aligned with the functions, matched by controlid) or the error."""

    tag: T
    results: list[FunctionResult] | None
    error: BaseException | None


class RequestPipeline(Generic[T]):
    """Up to ``depth`` requests in flight; outcomes returned in the order the batches were submitted."""

    def __init__(self, execute: Callable[..., list[FunctionResult]], *, depth: int = 2) -> None:
        if depth < 1:
            raise ValueError("depth must be >= 1")
        self._execute = execute
        self._depth = depth
        self._pool = ThreadPoolExecutor(max_workers=depth, thread_name_prefix="intacct-pipeline")
        self._pending: deque[tuple[T, Future[list[FunctionResult]]]] = deque()

    def __enter__(self) -> RequestPipeline[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def submit(self, tag: T, functions: Sequence[Function], **options: object) -> None:
        """Send ``functions`` as one request (at most MAX_FUNCTIONS_PER_REQUEST of them); ``options`` go to
        ``execute`` with them (e.g. ``repeats``)."""
        if not functions:
            raise ValueError("a batch needs at least one function")
        if len(functions) > MAX_FUNCTIONS_PER_REQUEST:
            raise ValueError(f"at most {MAX_FUNCTIONS_PER_REQUEST} functions per request, got {len(functions)}")
        self._pending.append((tag, self._pool.submit(self._execute, list(functions), **options)))

    def completed(self) -> Iterator[Outcome[T]]:
        """Outcomes that must be taken now so that another batch may be submitted (oldest first)."""
        while len(self._pending) >= self._depth:
            yield self._take()

    def drain(self) -> Iterator[Outcome[T]]:
        """Every outstanding outcome, oldest first (waits for the requests still on the wire)."""
        while self._pending:
            yield self._take()

    def _take(self) -> Outcome[T]:
        tag, future = self._pending.popleft()
        try:
            return Outcome(tag, future.result(), None)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who classifies it
            return Outcome(tag, None, exc)

    def close(self) -> None:
        """Wait for requests still in flight (their outcomes are lost to the caller: the journal's 'sent' rows
        make the next run look those records up) and stop the worker threads."""
        self._pool.shutdown(wait=True)


def ordered_map(fn: Callable[[U], T], source: Iterable[U], *, workers: int = 2) -> Iterator[T]:
    """`fn` over `source` on `workers` threads at once, results in the order of `source` (an error is raised
    where its item would have been). Used to keep both of a connection's request slots busy with reads."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="intacct-read") as pool:
        pending: deque[Future[T]] = deque()
        for item in source:
            pending.append(pool.submit(fn, item))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


_DONE = object()


class Prefetcher(Generic[U]):
    """Iterate ``source`` on a background thread, at most ``ahead`` items ahead of the consumer.

    Exceptions raised by the source are re-raised in the consumer at the point they occurred; closing the
    prefetcher early (``close()`` or leaving a ``with`` block) stops the producer after its current item.
    """

    def __init__(self, source: Iterable[U], *, ahead: int = 1) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, ahead))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, args=(iter(source),), daemon=True,
                                        name="intacct-prefetch")
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, iterator: Iterator[U]) -> None:
        try:
            for item in iterator:
                if not self._put(("item", item)):
                    return
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
            self._put(("error", exc))
            return
        self._put(("done", _DONE))

    def __iter__(self) -> Iterator[U]:
        while True:
            kind, value = self._queue.get()
            if kind == "done":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]

    def __enter__(self) -> Prefetcher[U]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        while True:  # unblock a producer waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout=60)
