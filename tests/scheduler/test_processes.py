"""Real scheduler processes against a real database: exactly-once claims, kill -9 recovery, SIGTERM, --once."""
from __future__ import annotations

import os
import signal

from sqlmodel import Session, select

from storage.models import JournalState, RunStatus, SchedulerHeartbeat, SyncLease, WriteJournal
from sync_engine.heartbeat import scheduler_status
from tests.scheduler.helpers import add_connection, executions, get_run, queue_runs, wait_for

BEAT = 0.3  # the --heartbeat-seconds the helper gives every subprocess
LONG_RUN = {"TEST_EXEC_STEPS": "400", "TEST_EXEC_STEP_SECONDS": "0.05"}  # 20 s unless stopped


def _alive_ids(engine) -> set[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        status = scheduler_status(session=session, heartbeat_seconds=BEAT)
    return {s.scheduler_id for s in status.schedulers if s.alive}


def _leases(engine) -> list[SyncLease]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(SyncLease)).all())


def test_two_schedulers_execute_each_of_20_runs_exactly_once(db_url, engine, spawn_scheduler) -> None:
    connections = [add_connection(engine, f"company {i}") for i in range(10)]
    env = {"TEST_EXEC_STEPS": "2", "TEST_EXEC_STEP_SECONDS": "0.05"}
    a = spawn_scheduler(db_url, "--id", "sched-a", env=env)
    b = spawn_scheduler(db_url, "--id", "sched-b", env=env)
    # Queue only once both are polling, so the two really compete for the same rows.
    wait_for(lambda: _alive_ids(engine) == {"sched-a", "sched-b"}, what="both schedulers' heartbeats")
    run_ids = [run_id for c in connections for run_id in queue_runs(engine, c, 2)]
    assert len(run_ids) == 20

    wait_for(lambda: all(get_run(engine, r).status == RunStatus.SUCCEEDED for r in run_ids), timeout=60,
             what="all 20 runs to succeed")

    done = executions(engine)
    assert {r: len(done.get(r, [])) for r in run_ids} == {r: 1 for r in run_ids}
    names = {holder.split("#")[0] for holders in done.values() for holder in holders}
    assert names == {"sched-a", "sched-b"}
    # A run is marked succeeded a moment before its scheduler releases the lease.
    wait_for(lambda: _leases(engine) == [], what="every lease to be released")
    for proc in (a, b):
        proc.proc.send_signal(signal.SIGTERM)
    assert (a.wait(), b.wait()) == (0, 0)


def test_kill_9_mid_run_is_recovered_as_abandoned_after_the_lease_expires(db_url, engine, spawn_scheduler) -> None:
    connection = add_connection(engine)
    [run_id] = queue_runs(engine, connection, 1)
    doomed = spawn_scheduler(db_url, "--id", "doomed", "--lease-ttl", "1.5", env={**LONG_RUN, "TEST_EXEC_JOURNAL": "1"})
    wait_for(lambda: get_run(engine, run_id).progress_done >= 1, what="the run to be under way")

    os.kill(doomed.pid, signal.SIGKILL)
    assert doomed.wait() == -signal.SIGKILL
    spawn_scheduler(db_url, "--id", "survivor", "--lease-ttl", "1.5", env={"TEST_EXEC_STEPS": "1"})

    run = wait_for(lambda: (r := get_run(engine, run_id)).status == RunStatus.ABANDONED and r,
                   what="the killed scheduler's run to be marked abandoned")
    assert run.finished_at is not None and run.error_category == "abandoned"
    with Session(engine) as session:
        journal = session.exec(select(WriteJournal).where(WriteJournal.run_id == run_id)).all()
    assert [j.state for j in journal] == [JournalState.UNCERTAIN]
    assert [h.split("#")[0] for h in executions(engine)[run_id]] == ["doomed"]  # never re-run blindly

    [next_id] = queue_runs(engine, connection, 1)
    wait_for(lambda: get_run(engine, next_id).status == RunStatus.SUCCEEDED, what="a new run to complete")
    assert [h.split("#")[0] for h in executions(engine)[next_id]] == ["survivor"]
    with Session(engine) as session:
        beats = {b.scheduler_id: b for b in session.exec(select(SchedulerHeartbeat)).all()}
    assert beats["doomed"].stopped_at is None  # SIGKILL leaves no goodbye, only a stale row
    assert _alive_ids(engine) == {"survivor"}


def test_sigterm_mid_run_interrupts_it_releases_the_lease_and_exits_0(db_url, engine, spawn_scheduler) -> None:
    connection = add_connection(engine)
    [run_id] = queue_runs(engine, connection, 1)
    proc = spawn_scheduler(db_url, "--id", "term", env=LONG_RUN)
    wait_for(lambda: get_run(engine, run_id).progress_done >= 2, what="the run to be under way")
    wait_for(lambda: "term" in _alive_ids(engine), what="a live heartbeat")

    def beat_shows_progress() -> bool:
        with Session(engine) as session:
            beat = session.get(SchedulerHeartbeat, "term")
            return beat is not None and beat.current_run_id == run_id and (beat.progress or "").startswith("record ")

    wait_for(beat_shows_progress, what="the heartbeat to carry the run's progress")

    proc.proc.send_signal(signal.SIGTERM)
    assert proc.wait() == 0, proc.output()

    run = get_run(engine, run_id)
    assert run.status == RunStatus.INTERRUPTED
    assert 2 <= run.progress_done < 400
    assert _leases(engine) == []
    with Session(engine) as session:
        beat = session.get(SchedulerHeartbeat, "term")
        assert beat is not None and beat.stopped_at is not None and beat.current_run_id is None
        status = scheduler_status(session=session, heartbeat_seconds=BEAT)
    assert not status.alive and "stopped" in status.message


def test_a_second_sigterm_exits_at_once_with_a_failure_status(db_url, engine, spawn_scheduler) -> None:
    connection = add_connection(engine)
    [run_id] = queue_runs(engine, connection, 1)
    proc = spawn_scheduler(db_url, "--id", "stubborn", env={**LONG_RUN, "TEST_EXEC_IGNORE_STOP": "1"})
    wait_for(lambda: get_run(engine, run_id).progress_done >= 1, what="the run to be under way")

    proc.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: "received" in proc.output(), what="the first signal to be acknowledged")
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == 128 + signal.SIGTERM
    assert get_run(engine, run_id).status == RunStatus.RUNNING  # left for lease expiry and recovery


def test_once_runs_the_queued_run_and_exits(db_url, engine, spawn_scheduler) -> None:
    connection = add_connection(engine)
    [run_id] = queue_runs(engine, connection, 1)
    proc = spawn_scheduler(db_url, "--once", "--id", "one-shot")
    assert proc.wait() == 0, proc.output()
    assert get_run(engine, run_id).status == RunStatus.SUCCEEDED
    with Session(engine) as session:
        beat = session.get(SchedulerHeartbeat, "one-shot")
    assert beat is not None and beat.stopped_at is not None


def test_an_executor_that_cannot_be_loaded_stops_the_start_with_status_2(tmp_path, spawn_scheduler) -> None:
    proc = spawn_scheduler(f"sqlite:///{tmp_path / 'unused.db'}", executor="sync_engine.no_such_module:execute")
    assert proc.wait() == 2
    assert "cannot load the run executor" in proc.output()
