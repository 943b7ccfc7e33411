"""The run queue as the console uses it: one run per click, cancel, retry, claims that respect the lease."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from storage.models import RunStatus, SyncRun
from storage.types import utcnow
from sync_engine import leases, queue
from tests.scheduler.helpers import add_connection


def test_a_second_click_returns_the_queued_run(engine) -> None:
    connection_id = add_connection(engine)
    with Session(engine, expire_on_commit=False) as session:
        first = queue.enqueue_run(session=session, connection_id=connection_id, kind="accounting_sync", requested_by="ann")
        second = queue.enqueue_run(session=session, connection_id=connection_id, kind="accounting_sync", requested_by="bob")
        other = queue.enqueue_run(session=session, connection_id=connection_id, kind="customer_import", requested_by="bob")
    assert first.id == second.id and other.id != first.id
    with pytest.raises(queue.QueueError, match="Unknown run kind"):
        with Session(engine, expire_on_commit=False) as session:
            queue.enqueue_run(session=session, connection_id=connection_id, kind="nonsense", requested_by="x")


def test_one_run_per_connection_at_a_time(engine) -> None:
    connection_id = add_connection(engine)
    with Session(engine, expire_on_commit=False) as session:
        queue.enqueue_run(session=session, connection_id=connection_id, kind="accounting_sync", requested_by="a")
        queue.enqueue_run(session=session, connection_id=connection_id, kind="invoice_import", requested_by="a")
    first = leases.claim_next_run(engine=engine, holder="s1")
    assert first is not None and first.kind == "accounting_sync"
    assert leases.claim_next_run(engine=engine, holder="s2") is None  # the connection is leased
    leases.release_lease(engine=engine, holder="s1", run_id=first.id)
    assert leases.claim_next_run(engine=engine, holder="s2").kind == "invoice_import"


def test_cancel_and_retry_of_a_preview_is_a_real_run(engine) -> None:
    connection_id = add_connection(engine)
    with Session(engine, expire_on_commit=False) as session:
        preview = queue.enqueue_run(session=session, connection_id=connection_id, kind="accounting_sync",
                                    requested_by="ann", options={"preview": True})
        assert queue.cancel_run(session=session, run_id=preview.id).status == RunStatus.CANCELLED
        with pytest.raises(queue.QueueError, match="already finished"):
            queue.cancel_run(session=session, run_id=preview.id)
        retry = queue.retry_failed(session=session, run_id=preview.id, requested_by="ann")
    assert retry.options == {"retry_of": preview.id} and retry.trigger == "retry"


def test_a_running_run_is_asked_to_stop(engine) -> None:
    connection_id = add_connection(engine)
    with Session(engine, expire_on_commit=False) as session:
        run = queue.enqueue_run(session=session, connection_id=connection_id, kind="accounting_sync", requested_by="a")
    leases.claim_next_run(engine=engine, holder="s1")
    with Session(engine, expire_on_commit=False) as session:
        assert queue.cancel_run(session=session, run_id=run.id).cancel_requested
        assert session.get(SyncRun, run.id).status == RunStatus.RUNNING
    assert leases.recover_stale_runs(engine=engine, now=utcnow()) == []  # its lease is fresh


def test_twenty_simultaneous_sync_now_clicks_queue_one_run(engine) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sqlmodel import func, select

    connection_id = add_connection(engine)
    start = threading.Barrier(20)

    def click(n: int) -> int:
        with Session(engine, expire_on_commit=False) as session:
            start.wait()
            return queue.enqueue_run(session=session, connection_id=connection_id, kind="accounting_sync",
                                     requested_by=f"user-{n}").id

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = set(pool.map(click, range(20)))
    with Session(engine) as session:
        queued = session.exec(select(func.count()).select_from(SyncRun).where(SyncRun.status == "queued")).one()
    assert queued == 1 and len(answers) == 1  # every click was told "already queued" with the same run


def test_the_database_refuses_a_second_active_run_of_a_kind(engine) -> None:
    from sqlalchemy.exc import IntegrityError

    connection_id = add_connection(engine)
    with Session(engine) as session:
        session.add(SyncRun(connection_id=connection_id, kind="accounting_sync"))
        session.commit()
        session.add(SyncRun(connection_id=connection_id, kind="accounting_sync", status="succeeded"))
        session.commit()  # finished runs are not limited
        session.add(SyncRun(connection_id=connection_id, kind="accounting_sync"))
        with pytest.raises(IntegrityError):
            session.commit()
