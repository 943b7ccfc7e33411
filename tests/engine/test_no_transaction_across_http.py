"""No ledger transaction stays open while its thread waits on Intacct or sleeps.

A process frozen inside a transaction keeps its locks until it wakes; PostgreSQL's
`idle_in_transaction_session_timeout` (storage.db) bounds that, and would end any session that legitimately kept a
transaction open across a slow request. So the design rule is checked here over a whole accounting sync: every
HTTP request, and every blocking wait (a sleep, a pipeline future, a queue, the request slots' semaphore, a stop
event), happens on a thread with no open transaction on the ledger. Threads of their own doing their short
database work while another thread's request is on the wire are the intended overlap and are allowed.
"""
from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from storage.db import read_session, write_session
from storage.models import Customer, RunStatus
from sync_engine.services import connection as connection_service
from sync_engine.services.upload_lookup import ask_intacct
from sync_engine.sync.intacct_lists import refresh_lists
from tests.engine.helpers import connect, ledger_invoice, ledger_payment, run_now, sandbox_query

INVOICES = 130  # more than one write request of 100 functions, so the pipeline overlaps database work and sends


class TransactionWatch:
    """Which threads have a transaction open on one engine, and every wait made while one was."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._open: dict[int, int] = {}  # id(connection) -> thread ident
        self._lock = threading.Lock()
        self.violations: list[str] = []
        self.requests = 0
        self.waits = 0
        self.transactions = 0

    def _began(self, connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get("sqlite_autocommit", False) or options.get("isolation_level") == "AUTOCOMMIT":
            return  # read_session(): each statement is its own transaction, nothing is held
        with self._lock:
            self._open[id(connection)] = threading.get_ident()
            self.transactions += 1

    def _ended(self, connection: Connection) -> None:
        with self._lock:
            self._open.pop(id(connection), None)

    def in_transaction(self) -> bool:
        me = threading.get_ident()
        with self._lock:
            return me in self._open.values()

    def check(self, what: str) -> None:
        if self.in_transaction():
            stack = "".join(traceback.format_stack(limit=40)[:-2])
            self.violations.append(f"{what} on thread {threading.current_thread().name} inside a ledger "
                                   f"transaction:\n{stack}")

    @staticmethod
    def _wrap(original: Callable[..., Any], before: Callable[[], None]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            before()
            return original(*args, **kwargs)
        return wrapper

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        event.listen(self.engine, "begin", self._began)
        event.listen(self.engine, "commit", self._ended)
        event.listen(self.engine, "rollback", self._ended)

        def on_request() -> None:
            self.requests += 1
            self.check("an HTTP request")

        monkeypatch.setattr(requests.adapters.HTTPAdapter, "send",
                            self._wrap(requests.adapters.HTTPAdapter.send, on_request))
        # Condition.wait is what every blocking wait in threading, queue and concurrent.futures comes down to
        # (Event.wait, Semaphore.acquire, Queue.get, Future.result); it is only called when the wait really blocks.
        def on_wait(what: str) -> None:
            self.waits += 1
            self.check(what)

        monkeypatch.setattr(threading.Condition, "wait",
                            self._wrap(threading.Condition.wait, lambda: on_wait("a blocking wait")))
        monkeypatch.setattr(time, "sleep", self._wrap(time.sleep, lambda: on_wait("a sleep")))

    def remove(self) -> None:
        event.remove(self.engine, "begin", self._began)
        event.remove(self.engine, "commit", self._ended)
        event.remove(self.engine, "rollback", self._ended)


@pytest.fixture
def watch(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TransactionWatch]:
    watching = TransactionWatch(engine)
    watching.install(monkeypatch)
    yield watching
    watching.remove()


def test_the_watch_sees_a_request_sent_inside_a_transaction(engine, sandbox, watch) -> None:
    with write_session(engine) as session:
        session.exec(select(Customer)).all()
        requests.get(sandbox.url, timeout=10)
    assert watch.requests == 1 and len(watch.violations) == 1
    assert "an HTTP request" in watch.violations[0]


def test_a_full_sync_with_writes_holds_no_transaction_across_a_request_or_a_wait(engine, sandbox, watch) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        invoices = [ledger_invoice(session, customer_number=f"T-{n % 7}", invoice_number=f"T-{n:03}",
                                   amounts=["100.00", "20.50"]) for n in range(INVOICES)]
        for n, invoice in enumerate(invoices[:12]):
            ledger_payment(session, invoice, "60.25", f"TX-PAY-{n}")
    watch.violations.clear()
    run = run_now(engine, connection_id, "accounting_sync")
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.created_count >= INVOICES + 12
    assert len(sandbox_query(sandbox, "ARINVOICE", ["RECORDNO"], "RECORDID LIKE 'T-%'")) == INVOICES
    assert watch.requests >= 4  # reads, two invoice requests, payments, read-back
    assert watch.transactions > 10 and watch.waits > 0  # the watch did see the run's transactions and waits
    assert watch.violations == [], "\n\n".join(watch.violations[:3])

    again = run_now(engine, connection_id, "accounting_sync")  # a sync with nothing to write reads only
    assert again.status == RunStatus.SUCCEEDED, again.error_message
    assert watch.violations == [], "\n\n".join(watch.violations[:3])


def test_the_consoles_calls_to_intacct_hold_no_transaction(engine, sandbox, watch) -> None:
    with Session(engine) as session:
        connect(session, sandbox)
    with read_session(engine) as session:  # each with the session its screen gives it
        assert connection_service.test_connection(session=session).ok
    with read_session(engine) as session:
        connection_service.validate_mapping(session=session)
    with write_session(engine) as session:
        assert refresh_lists(session=session)
    with read_session(engine) as session:
        facts = ask_intacct(session=session, customer_numbers={"NOWHERE-1"}, invoice_numbers={"NOWHERE-2"})
        assert facts.customers == {} and facts.invoices == {}
    assert watch.requests >= 4
    assert watch.violations == [], "\n\n".join(watch.violations[:3])
