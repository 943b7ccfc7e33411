"""Hourly auto-sync with an injected clock: due, not due, disabled, paused, catch-up, racing schedulers;
and the authentication circuit breaker."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlmodel import Session, select

from storage.db import write_session
from storage.models import AuditEvent, RunKind, RunStatus, RunTrigger, SyncRun, SyncSchedule
from storage.types import utcnow
from sync_engine.schedule.due import enqueue_due_syncs, next_due_after
from sync_engine.schedule.pause import clear_pause
from sync_engine.worker.loop import Scheduler
from tests.scheduler.executors import scripted_executor
from tests.scheduler.helpers import add_connection, get_run, queue_runs

HOUR = timedelta(hours=1)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _top_of_hour() -> datetime:
    return utcnow().replace(minute=0, second=0, microsecond=0)


def _plan(engine, connection_id: int, **values) -> SyncSchedule:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        plan = session.exec(select(SyncSchedule).where(SyncSchedule.connection_id == connection_id)).one()
        for key, value in values.items():
            setattr(plan, key, value)
        session.add(plan)
    return _read_plan(engine, connection_id)


def _read_plan(engine, connection_id: int) -> SyncSchedule:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(SyncSchedule).where(SyncSchedule.connection_id == connection_id)).one()


def _auto_runs(engine) -> list[SyncRun]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(SyncRun).where(SyncRun.trigger == RunTrigger.AUTO).order_by(SyncRun.id)).all())


def _scheduler(engine, clock, executor=None) -> Scheduler:  # type: ignore[no-untyped-def]
    return Scheduler(engine, executor=executor or scripted_executor(), clock=clock, scheduler_id="hourly",
                     poll_seconds=0.05, heartbeat_seconds=0.1, notifier=None)


def _finish(engine, run_id: int, status: str = RunStatus.SUCCEEDED) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        run = session.get(SyncRun, run_id)
        run.status, run.finished_at = status, utcnow()  # type: ignore[union-attr]
        session.add(run)


def test_next_due_keeps_the_grid() -> None:
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=utcnow().tzinfo)
    assert next_due_after(t0, HOUR, t0) == t0 + HOUR
    assert next_due_after(t0, HOUR, t0 + timedelta(minutes=59)) == t0 + HOUR
    assert next_due_after(t0, HOUR, t0 + timedelta(hours=3, minutes=5)) == t0 + 4 * HOUR
    assert next_due_after(None, HOUR, t0) == t0 + HOUR


def test_due_enqueues_exactly_one_auto_run_and_moves_next_due(engine) -> None:
    connection = add_connection(engine)
    t0 = _top_of_hour()
    _plan(engine, connection, enabled=True, next_due_at=t0)
    clock = FakeClock(t0 + timedelta(minutes=1))

    [run_id] = _scheduler(engine, clock).check_due()
    run = get_run(engine, run_id)
    assert (run.kind, run.trigger, run.status, run.requested_by) == (
        RunKind.ACCOUNTING_SYNC, RunTrigger.AUTO, RunStatus.QUEUED, "auto-sync")
    plan = _read_plan(engine, connection)
    assert plan.next_due_at == t0 + HOUR and plan.last_enqueued_run_id == run_id
    assert _scheduler(engine, clock).check_due() == []  # the same minute again: nothing more
    assert len(_auto_runs(engine)) == 1


def test_not_due_disabled_or_paused_enqueue_nothing(engine) -> None:
    t0 = _top_of_hour()
    not_due = add_connection(engine, "not due")
    disabled = add_connection(engine, "disabled")
    paused = add_connection(engine, "paused")
    _plan(engine, not_due, enabled=True, next_due_at=t0 + timedelta(seconds=1))
    _plan(engine, disabled, enabled=False, next_due_at=t0 - HOUR)
    _plan(engine, paused, enabled=True, next_due_at=t0 - HOUR, paused_reason="Auto-sync paused: bad password")

    assert enqueue_due_syncs(engine=engine, now=t0) == []
    assert _auto_runs(engine) == []
    assert _read_plan(engine, paused).next_due_at == t0 - HOUR  # a paused slot is kept for one catch-up


def test_a_restart_after_three_hours_down_enqueues_one_catch_up_run(engine) -> None:
    connection = add_connection(engine)
    t0 = _top_of_hour()
    _plan(engine, connection, enabled=True, next_due_at=t0)
    [first] = _scheduler(engine, FakeClock(t0 + timedelta(minutes=1))).check_due()
    _finish(engine, first)

    # The process is gone for three hours; a new one starts (new Scheduler object, same database).
    later = FakeClock(t0 + timedelta(hours=3, minutes=5))
    restarted = _scheduler(engine, later)
    [catch_up] = restarted.check_due()
    assert restarted.check_due() == []
    assert [r.id for r in _auto_runs(engine)] == [first, catch_up]
    assert get_run(engine, catch_up).options["missed_slots"] == 2
    assert _read_plan(engine, connection).next_due_at == t0 + 4 * HOUR  # back on the :00 grid


def test_a_slot_whose_previous_auto_run_is_still_queued_adds_no_second_run(engine) -> None:
    connection = add_connection(engine)
    t0 = _top_of_hour()
    _plan(engine, connection, enabled=True, next_due_at=t0)
    [first] = enqueue_due_syncs(engine=engine, now=t0 + timedelta(minutes=1))
    assert enqueue_due_syncs(engine=engine, now=t0 + HOUR + timedelta(minutes=1)) == [first]
    assert len(_auto_runs(engine)) == 1
    assert _read_plan(engine, connection).next_due_at == t0 + 2 * HOUR


def test_schedulers_racing_for_one_slot_enqueue_one_run(engine) -> None:
    connection = add_connection(engine)
    t0 = _top_of_hour()
    _plan(engine, connection, enabled=True, next_due_at=t0)
    barrier = threading.Barrier(6)
    results: list[list[int]] = []

    def race() -> None:
        barrier.wait()
        results.append(enqueue_due_syncs(engine=engine, now=t0 + timedelta(minutes=1)))

    threads = [threading.Thread(target=race) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(len(r) for r in results) == [0, 0, 0, 0, 0, 1]
    assert len(_auto_runs(engine)) == 1
    assert _read_plan(engine, connection).next_due_at == t0 + HOUR


def test_one_tick_with_the_injected_clock_enqueues_and_runs_the_due_sync(engine) -> None:
    connection = add_connection(engine)
    t0 = _top_of_hour()
    _plan(engine, connection, enabled=True, next_due_at=t0)
    executor = scripted_executor()
    assert _scheduler(engine, FakeClock(t0 + timedelta(seconds=30)), executor).run_once() == 0
    [run] = _auto_runs(engine)
    assert run.status == RunStatus.SUCCEEDED and executor.calls == [run.id]


def test_an_authentication_failure_pauses_auto_sync_until_cleared(engine) -> None:
    connection = add_connection(engine)
    t0 = _top_of_hour()
    _plan(engine, connection, enabled=True, next_due_at=t0)
    bad_password = scripted_executor(RunStatus.FAILED, error_category="authentication",
                                     error_message="Sign-in information is incorrect")
    assert _scheduler(engine, FakeClock(t0 + timedelta(minutes=1)), bad_password).run_once() == 0
    [failed] = _auto_runs(engine)
    assert failed.status == RunStatus.FAILED

    plan = _read_plan(engine, connection)
    assert plan.paused_reason and f"run #{failed.id}" in plan.paused_reason
    assert "Sign-in information is incorrect" in plan.paused_reason
    # An hour later (and three): the breaker holds, Intacct is not hammered with the bad password.
    assert enqueue_due_syncs(engine=engine, now=t0 + 3 * HOUR) == []
    # A person's own Sync Now still runs (and is how they see whether the new password works).
    [manual] = queue_runs(engine, connection, 1)
    assert _scheduler(engine, FakeClock(t0 + 3 * HOUR), scripted_executor()).run_once() == 0
    assert get_run(engine, manual).status == RunStatus.SUCCEEDED

    with Session(engine) as session:
        assert clear_pause(session=session, connection_id=connection, actor="ana") is True
        assert clear_pause(session=session, connection_id=connection) is False
        audit = session.exec(select(AuditEvent).where(AuditEvent.field == "paused_reason")).all()
    assert [(a.actor, a.new_value is None) for a in audit] == [("scheduler", False), ("ana", True)]
    assert _read_plan(engine, connection).paused_reason is None
    [catch_up] = enqueue_due_syncs(engine=engine, now=t0 + 3 * HOUR)
    assert get_run(engine, catch_up).trigger == RunTrigger.AUTO


def test_other_failures_do_not_pause(engine) -> None:
    connection = add_connection(engine)
    _plan(engine, connection, enabled=True, next_due_at=_top_of_hour() + HOUR)
    queue_runs(engine, connection, 1)
    transient = scripted_executor(RunStatus.FAILED, error_category="transient", error_message="HTTP 503")
    assert _scheduler(engine, utcnow, transient).run_once() == 0
    assert _read_plan(engine, connection).paused_reason is None


def test_saving_the_connection_clears_an_authentication_pause(engine) -> None:
    from sync_engine.services.settings import ConnectionForm, save_connection

    connection = add_connection(engine)
    _plan(engine, connection, enabled=True, paused_reason="Auto-sync paused: Intacct refused the sign-in")
    with Session(engine) as session:
        save_connection(session=session, actor="ana", form=ConnectionForm(
            endpoint_url="https://api.intacct.com/ia/xml/xmlgw.phtml", company_id="DEMO", user_id="sync",
            sender_id="sender", user_password="new-password"))
    assert _read_plan(engine, connection).paused_reason is None
