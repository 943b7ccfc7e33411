"""The Scheduler class in-process: executor failures, lost leases, the heartbeat as the console reads it."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlmodel import Session, select

from storage.db import write_session
from storage.models import RunStatus, SchedulerHeartbeat, SyncLease, SyncRun
from storage.types import utcnow
from sync_engine.services.heartbeat import scheduler_status
from sync_engine.worker.loop import Scheduler
from tests.scheduler.executors import scripted_executor
from tests.scheduler.helpers import add_connection, get_run, queue_runs, wait_for

BEAT = 0.1


def make_scheduler(engine, executor, **kw) -> Scheduler:  # type: ignore[no-untyped-def]
    options = dict(scheduler_id="in-process", poll_seconds=0.05, heartbeat_seconds=BEAT, due_check_seconds=0.2,
                   lease_ttl=timedelta(seconds=2), notifier=None, stop_timeout=10)
    return Scheduler(engine, executor=executor, **{**options, **kw})


@contextmanager
def running(scheduler: Scheduler) -> Iterator[list[int]]:
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(scheduler.run_forever()), daemon=True)
    thread.start()
    try:
        yield codes
    finally:
        scheduler.stop.set()
        scheduler.wake.set()
        thread.join(timeout=15)
        assert not thread.is_alive(), "the scheduler loop did not stop"


def test_an_executor_that_raises_fails_its_run_and_the_loop_goes_on(engine) -> None:
    connection = add_connection(engine)
    first, second = queue_runs(engine, connection, 2)
    calls: list[int] = []
    ok = scripted_executor(RunStatus.SUCCEEDED)

    def flaky(**kw):  # type: ignore[no-untyped-def]
        calls.append(kw["run_id"])
        if kw["run_id"] == first:
            raise RuntimeError("boom")
        return ok(**kw)

    with running(make_scheduler(engine, flaky)) as codes:
        wait_for(lambda: get_run(engine, second).status == RunStatus.SUCCEEDED, what="the second run")
    assert codes == [0]
    assert calls == [first, second]
    run = get_run(engine, first)
    assert run.status == RunStatus.FAILED and run.error_category == "internal"
    assert "RuntimeError: boom" in (run.error_message or "") and run.finished_at is not None
    with Session(engine) as session:
        assert session.exec(select(SyncLease)).all() == []


def test_an_executor_that_forgets_the_final_status_leaves_a_failed_run(engine) -> None:
    connection = add_connection(engine)
    [run_id] = queue_runs(engine, connection, 1)
    with running(make_scheduler(engine, lambda **kw: RunStatus.SUCCEEDED)):
        run = wait_for(lambda: (r := get_run(engine, run_id)).status not in (RunStatus.QUEUED, RunStatus.RUNNING) and r,
                       what="the run to end")
    assert run.status == RunStatus.FAILED and "without recording a result" in (run.error_message or "")


def test_losing_the_lease_stops_the_run(engine) -> None:
    connection = add_connection(engine)
    [run_id] = queue_runs(engine, connection, 1)
    stopped = threading.Event()

    def patient(*, engine, run_id, holder, stop, on_progress=None):  # type: ignore[no-untyped-def]
        if stop.wait(15):
            stopped.set()
        with write_session(engine) as session:
            run = session.get(SyncRun, run_id)
            run.status, run.finished_at = RunStatus.INTERRUPTED, utcnow()
            session.add(run)
        return RunStatus.INTERRUPTED

    with running(make_scheduler(engine, patient)):
        wait_for(lambda: get_run(engine, run_id).status == RunStatus.RUNNING, what="the run to start")
        with write_session(engine) as session:
            # What another scheduler does after our lease expired: it now holds the connection.
            lease = session.exec(select(SyncLease)).one()
            lease.holder = "someone-else"
            session.add(lease)
        wait_for(stopped.is_set, what="the executor to be told to stop")
        wait_for(lambda: get_run(engine, run_id).status == RunStatus.INTERRUPTED, what="the run to end")
    with Session(engine) as session:
        assert session.exec(select(SyncLease)).one().holder == "someone-else"  # not ours to release


def test_scheduler_status_follows_the_heartbeat(engine) -> None:
    with Session(engine) as session:
        status = scheduler_status(session=session, heartbeat_seconds=BEAT)
    assert not status.alive and status.last_beat is None and "none has reported yet" in status.message

    scheduler = make_scheduler(engine, scripted_executor())
    with running(scheduler):
        def alive():  # type: ignore[no-untyped-def]
            with Session(engine) as session:
                return scheduler_status(session=session, heartbeat_seconds=BEAT)
        status = wait_for(lambda: (s := alive()).alive and s, what="a live heartbeat")
        assert [s.scheduler_id for s in status.schedulers] == ["in-process"]
        assert status.schedulers[0].host and status.schedulers[0].pid and "running" in status.message
    with Session(engine) as session:
        status = scheduler_status(session=session, heartbeat_seconds=BEAT)
    assert not status.alive and status.last_beat is not None and "stopped" in status.message


def test_a_heartbeat_that_went_quiet_reads_as_crashed(engine) -> None:
    long_ago = utcnow() - timedelta(minutes=10)
    with write_session(engine) as session:
        session.add(SchedulerHeartbeat(scheduler_id="ghost", pid=1, host="h", version="0", started_at=long_ago,
                                       beat_at=long_ago))
    with Session(engine) as session:
        status = scheduler_status(session=session)
    assert not status.alive and "10 min ago" in status.message and "crashed" in status.message


def test_a_cancel_request_stops_the_run_and_marks_it_cancelled(engine) -> None:
    from sync_engine.schedule.queue import cancel_run

    connection = add_connection(engine)
    [run_id] = queue_runs(engine, connection, 1)

    def patient(*, engine, run_id, holder, stop, on_progress=None):  # type: ignore[no-untyped-def]
        stop.wait(15)
        with write_session(engine) as session:
            run = session.get(SyncRun, run_id)
            run.status, run.finished_at = RunStatus.INTERRUPTED, utcnow()
            session.add(run)
        return RunStatus.INTERRUPTED

    with running(make_scheduler(engine, patient)):
        wait_for(lambda: get_run(engine, run_id).status == RunStatus.RUNNING, what="the run to start")
        with Session(engine) as session:
            cancel_run(session=session, run_id=run_id)
        run = wait_for(lambda: (r := get_run(engine, run_id)).status == RunStatus.CANCELLED and r, timeout=10,
                       what="the run to be cancelled")
    assert run.finished_at is not None
