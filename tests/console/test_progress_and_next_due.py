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
             minutes: float, step_minutes: float | None = None, first_done: int = 0, created: int = 0) -> None:
    """A running run `minutes` in, whose current step's first `first_done` records were done `step_minutes` ago."""
    now = utcnow()
    step_minutes = minutes if step_minutes is None else step_minutes
    with write_session(db) as session:
        session.add(SyncRun(connection_id=connection_id, kind=kind, status="running", requested_by="someone",
                            step=step, progress_done=done, progress_total=total, created_count=created,
                            started_at=now - timedelta(minutes=minutes),
                            step_started_at=now - timedelta(minutes=step_minutes),
                            step_first_done_at=now - timedelta(minutes=step_minutes) if done else None,
                            step_first_done=first_done if done else None))


def _progress_texts(at) -> str:
    return "\n".join(str(el.proto.text) for el in at.get("progress")) + "\n" + texts(at)


def test_a_running_sync_shows_done_of_total_the_step_and_the_time_left_of_that_step(app_as, db) -> None:
    connection_id = seed_connection(db)
    # An hour into the sync, invoices began 10 minutes ago: 25,000 of 100,000 at that pace leave 30 minutes.
    _running(db, connection_id, kind="accounting_sync", step="invoices", done=25_000, total=100_000, minutes=60,
             step_minutes=10)
    at = app_as("viewer", state.ACCOUNTING_SYNC)
    shown = _progress_texts(at)
    assert "Reading invoices from Intacct · 25,000 of 100,000 records" in shown
    assert "· about 30 min" in shown and "left in this step" in shown  # not 3 hours: the earlier hour is left out
    assert "this step for 10 min" in shown
    assert "invoices ·" not in shown.replace("Reading invoices from Intacct ·", "")  # never the raw step name


def test_writing_payments_says_so_in_plain_words(app_as, db) -> None:
    connection_id = seed_connection(db)
    _running(db, connection_id, kind="accounting_sync", step="payment_writes", done=40, total=120, minutes=30,
             step_minutes=2, first_done=20)
    at = app_as("viewer", state.ACCOUNTING_SYNC)
    shown = _progress_texts(at)
    # 20 payments in the 2 minutes since the first ones: 80 to go take 8 minutes
    assert "Writing payments to Intacct · 40 of 120 records · about 8 min" in shown and "left in this step" in shown


def test_a_running_import_without_a_total_says_counting(app_as, db) -> None:
    connection_id = seed_connection(db)
    _running(db, connection_id, kind="customer_import", step="customers", done=700, total=None, minutes=1)
    at = app_as("accountant", state.IMPORTS)
    shown = _progress_texts(at)
    assert "Reading customers from Intacct · 700 records so far" in shown and "time left: counting…" in shown


def test_an_import_whose_first_page_just_came_says_estimating(app_as, db) -> None:
    connection_id = seed_connection(db)
    # the first page of 3,600 has just been stored: one reading, no pace yet (it once said "about 48 s")
    _running(db, connection_id, kind="invoice_import", step="invoices", done=3_600, total=100_000, minutes=0.05,
             step_minutes=0, first_done=3_600)
    at = app_as("accountant", state.IMPORTS)
    shown = _progress_texts(at)
    assert "3,600 of 100,000 records · time left: estimating…" in shown and "about" not in shown.split("records")[1]


def _row_of(at, column: str, run_id: int) -> dict:
    table = next(df.value for df in at.dataframe if column in df.value.columns)
    return table[table["Run"] == f"#{run_id}"].iloc[0].to_dict()


def test_the_last_imports_row_of_a_running_import_shows_what_the_panel_shows(app_as, db) -> None:
    connection_id = seed_connection(db)
    _running(db, connection_id, kind="invoice_import", step="invoices", done=89_100, total=100_000, minutes=0.4,
             step_minutes=0.35, created=89_100)
    with read_session(db) as session:
        run_id = session.exec(select(SyncRun.id)).one()
    at = app_as("accountant", state.IMPORTS)
    assert "Created 89,100" in texts(at)
    row = _row_of(at, "Created", run_id)
    assert row["Status"] == "Running" and row["Created"] == 89_100
    with write_session(db) as session:  # the next flush
        run = session.get(SyncRun, run_id)
        run.progress_done = run.created_count = 99_000
        session.add(run)
    at.run()
    assert _row_of(at, "Created", run_id)["Created"] == 99_000


def test_the_recent_syncs_row_of_a_running_sync_shows_its_counts(app_as, db) -> None:
    connection_id = seed_connection(db)
    _running(db, connection_id, kind="accounting_sync", step="invoices", done=500, total=1_000, minutes=1,
             created=480)
    at = app_as("viewer", state.ACCOUNTING_SYNC)
    with read_session(db) as session:
        run_id = session.exec(select(SyncRun.id)).one()
    row = _row_of(at, "Created", run_id)
    assert row["Status"] == "Running" and row["Created"] == 480


def test_time_left_goes_by_the_steps_pace_since_its_first_records(db) -> None:
    now = utcnow()
    run = SyncRun(connection_id=1, kind="invoice_import", status="running", started_at=now - timedelta(minutes=9),
                  step_started_at=now - timedelta(minutes=5), step_first_done_at=now - timedelta(minutes=4),
                  step_first_done=20, progress_done=120, progress_total=420)
    assert time_left(run, now=now) == timedelta(minutes=12)  # 100 in 4 minutes, 300 to go
    run.step_first_done_at, run.step_first_done = None, None
    assert time_left(run, now=now) is None  # nothing done in this step yet: no pace to go by
    run.step_first_done_at, run.step_first_done, run.progress_total = now - timedelta(minutes=4), 20, None
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
