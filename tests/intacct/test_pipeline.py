"""RequestPipeline keeps requests in flight while the caller works and hands outcomes back in order;
Prefetcher reads ahead and re-raises the producer's errors where the consumer would have met them."""
from __future__ import annotations

import threading

import pytest

from sync_engine.intacct import functions as fn
from sync_engine.intacct.client import FunctionResult
from sync_engine.intacct.errors import TransientError
from sync_engine.intacct.pipeline import MAX_FUNCTIONS_PER_REQUEST, Prefetcher, RequestPipeline


class Gateway:
    """Stands in for IntacctClient.execute: each call blocks until the test releases it."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        self.two_started = threading.Event()

    def execute(self, functions):  # type: ignore[no-untyped-def]
        first = functions[0].controlid
        with self.lock:
            self.started.append(first)
            gate = self.release.setdefault(first, threading.Event())
            if len(self.started) >= 2:
                self.two_started.set()
        assert gate.wait(30), "the test never released the request"
        if first.startswith("boom"):
            raise TransientError("gateway busy")
        return [FunctionResult(function="create", controlid=f.controlid, ok=True, key=f.controlid) for f in functions]

    def let_go(self, controlid: str) -> None:
        with self.lock:
            self.release.setdefault(controlid, threading.Event()).set()


def _batch(name: str, n: int = 3) -> list[fn.Function]:
    return [fn.create("CUSTOMER", {"CUSTOMERID": f"{name}-{i}"}, controlid=f"{name}" if i == 0 else f"{name}-{i}")
            for i in range(n)]


def test_two_requests_are_in_flight_and_outcomes_come_back_in_submission_order() -> None:
    gateway = Gateway()
    with RequestPipeline(gateway.execute, depth=2) as pipeline:
        pipeline.submit("first", _batch("a"))
        assert list(pipeline.completed()) == []  # room for a second request: the caller may go on working
        pipeline.submit("second", _batch("boom"))
        assert gateway.two_started.wait(30)  # both are on the wire at once
        gateway.let_go("boom")  # the later request answers first …
        gateway.let_go("a")
        outcomes = list(pipeline.completed()) + list(pipeline.drain())
    assert [o.tag for o in outcomes] == ["first", "second"]  # … but outcomes keep the order they were sent in
    assert [r.controlid for r in outcomes[0].results] == ["a", "a-1", "a-2"] and outcomes[0].error is None
    assert outcomes[1].results is None and isinstance(outcomes[1].error, TransientError)


def test_a_request_holds_at_most_the_client_limit_of_functions() -> None:
    pipeline = RequestPipeline(lambda functions: [], depth=1)
    with pytest.raises(ValueError, match=f"at most {MAX_FUNCTIONS_PER_REQUEST}"):
        pipeline.submit("big", _batch("x", MAX_FUNCTIONS_PER_REQUEST + 1))
    with pytest.raises(ValueError):
        pipeline.submit("empty", [])
    pipeline.close()


def test_prefetcher_yields_everything_in_order_and_reraises_where_the_error_happened() -> None:
    def pages():  # type: ignore[no-untyped-def]
        yield from (1, 2, 3)
        raise TransientError("page 4 could not be read")

    seen = []
    with pytest.raises(TransientError, match="page 4"):
        with Prefetcher(pages(), ahead=1) as ahead:
            for page in ahead:
                seen.append(page)
    assert seen == [1, 2, 3]


def test_prefetcher_closed_early_stops_its_producer() -> None:
    produced = []

    def endless():  # type: ignore[no-untyped-def]
        n = 0
        while True:
            n += 1
            produced.append(n)
            yield n

    with Prefetcher(endless(), ahead=1) as ahead:
        for page in ahead:
            if page == 3:
                break
    count = len(produced)
    assert count <= 5  # at most the item in hand, one queued and one being produced
    assert len(produced) == count
