"""A running sync or import shows records done / total, its step in plain words and the time left; the main
panel and the sidebar give one answer for when the next auto-sync is due."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from console import state
from storage.db import read_session, write_session
from storage.models import SyncRun, SyncSchedule
from storage.types import utcnow
from sync_engine.schedule.queue import time_left
from sync_engine.services.settings import next_sync_due
from tests.console.conftest import texts
from tests.console.seed import seed_connection


def _running(db, connection_id: int, *, kind: str, step: str, done: int, total: int | None,
             minutes: float) -> None:
    with write_session(db) as session:
        session.add(SyncRun(connection_id=connection_id, kind=kind, status="running", requested_by="someone",
                            step=step, progress_done=done, progress_total=total,
                            started_at=utcnow() - timedelta(minutes=minutes)))


def _progress_texts(at) -> str:
    return "\n".join(str(el.proto.text) for el in at.get("progress")) + "\n" + texts(at)


def test_a_running_sync_shows_done_of_total_the_step_and_time_left(app_as, db) -> None:
    connection_id = seed_connection(db)
    # 25,000 of 100,000 in 10 minutes: 30 minutes to go at that pace
    _running(db, connection_id, kind="accounting_sync", step="invoices", done=25_000, total=100_000, minutes=10)
    at = app_as("viewer", state.ACCOUNTING_SYNC)
    shown = _progress_texts(at)
    assert "Reading invoices · 25,000 of 100,000 records" in shown
    assert "about 30 min" in shown
    assert "invoices ·" not in shown.replace("Reading invoices ·", "")  # the step is never the raw name


def test_a_running_import_without_a_total_says_counting(app_as, db) -> None:
    connection_id = seed_connection(db)
    _running(db, connection_id, kind="customer_import", step="customers", done=700, total=None, minutes=1)
    at = app_as("accountant", state.IMPORTS)
    shown = _progress_texts(at)
    assert "Reading customers · 700 records so far" in shown and "time left: counting…" in shown


def test_time_left_is_elapsed_over_done_times_what_remains(db) -> None:
    now = utcnow()
    run = SyncRun(connection_id=1, kind="invoice_import", status="running", started_at=now - timedelta(minutes=4),
                  progress_done=100, progress_total=500)
    assert time_left(run, now=now) == timedelta(minutes=16)
    run.progress_done = 0
    assert time_left(run, now=now) is None  # nothing done yet: no pace to go by
    run.progress_done, run.progress_total = 100, None
    assert time_left(run, now=now) is None


def _schedule(db, connection_id: int, **fields) -> None:
    with write_session(db) as session:
        schedule = session.exec(select(SyncSchedule).where(SyncSchedule.connection_id == connection_id)).first()
        schedule = schedule or SyncSchedule(connection_id=connection_id)
        for name, value in fields.items():
            setattr(schedule, name, value)
        session.add(schedule)


def test_after_an_auto_run_the_main_panel_and_the_sidebar_agree(app_as, db) -> None:
    connection_id = seed_connection(db)
    # the scheduler has just enqueued the auto-run and moved the slot on by the hour
    _schedule(db, connection_id, enabled=True, next_due_at=utcnow() + timedelta(minutes=59, seconds=30))
    at = app_as("viewer", state.ACCOUNTING_SYNC)
    captions = [c.value for c in at.caption if c.value.startswith("Next sync")]
    assert len(captions) == 2, captions  # the main panel and the sidebar
    assert all("due in 59 min" in c for c in captions), captions


def test_a_passed_slot_is_due_now_not_seconds_ago(db) -> None:
    connection_id = seed_connection(db)
    now = utcnow()
    _schedule(db, connection_id, enabled=True, next_due_at=now - timedelta(seconds=4))
    with read_session(db) as session:
        assert next_sync_due(session=session, connection_id=connection_id, now=now) == now
    _schedule(db, connection_id, paused_reason="Auto-sync paused: bad password")
    with read_session(db) as session:
        assert next_sync_due(session=session, connection_id=connection_id, now=now) is None
