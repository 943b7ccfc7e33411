"""The scheduler process: hourly auto-sync, running queued runs, heartbeat and clean shutdown.

Run it with `python -m sync_engine.scheduler`. It is built on `schedule` with three jobs:

* poll (every ~2 s): mark runs whose lease expired as abandoned, then claim the oldest queued run
  (Sync Now, imports, retries, auto-syncs) and execute it in a worker thread;
* due check (every ~10 s): enqueue an auto accounting sync for each connection whose `next_due_at` has
  passed, moving `next_due_at` on in the same transaction;
* heartbeat (every ~5 s): renew the running run's lease and write this process's heartbeat row.

All state lives in the database, so any number of schedulers may share one PostgreSQL database and a
restart neither skips nor doubles an hourly run. The executor (normally `sync_engine.runs.execute_run`)
is injected, and so is the clock used for due times and heartbeats.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

import schedule
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from storage.config import settings
from storage.db import make_engine, read_session, write_session
from storage.migrate import upgrade_database
from storage.models import RunKind, RunStatus, RunTrigger, SyncRun, SyncSchedule
from storage.types import utcnow
from sync_engine.audit import record_changes
from sync_engine.heartbeat import (HEARTBEAT_SECONDS, SchedulerInfo, SchedulerStatus, app_version, mark_stopped,
                                   prune_heartbeats, scheduler_status, write_heartbeat)
from sync_engine.leases import LEASE_TTL, claim_next_run, recover_stale_runs, release_lease, renew_lease
from sync_engine.notify import notify_run_finished
from sync_engine.queue import enqueue_run
from sync_engine.signals import StopSignals

__all__ = [
    "Scheduler", "SchedulerInfo", "SchedulerStatus", "scheduler_status", "enqueue_due_syncs", "next_due_after",
    "apply_auth_circuit_breaker", "clear_pause", "load_executor", "main",
]

log = logging.getLogger("sync_engine.scheduler")

POLL_SECONDS = 2.0
DUE_CHECK_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 60.0
DEFAULT_EXECUTOR = "sync_engine.runs:execute_run"
AUTO_SYNC_REQUESTER = "auto-sync"
AUTH_ERROR_CATEGORY = "authentication"
EXIT_OK = 0
EXIT_CONFIG_ERROR = 2
EXIT_RUN_DID_NOT_STOP = 3
FINISHED_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.PARTLY_FAILED, RunStatus.FAILED, RunStatus.CANCELLED,
                               RunStatus.INTERRUPTED, RunStatus.ABANDONED})


class Executor(Protocol):
    """Runs one claimed run to its end (or until `stop` is set) and returns its final RunStatus."""

    def __call__(self, *, engine: Engine, run_id: int, holder: str, stop: threading.Event,
                 on_progress: Callable[[str], None] | None = None) -> str: ...


Clock = Callable[[], datetime]
Notifier = Callable[..., Any]


def _default_executor(**kwargs: Any) -> str:
    # Imported on first use so the scheduler (and its tests) load without the run module's dependencies.
    from sync_engine.runs import execute_run

    return cast(str, execute_run(**kwargs))


def load_executor(spec: str) -> Executor:
    """Resolve "package.module:function" to the executor callable."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"executor must look like package.module:function, not {spec!r}")
    return cast(Executor, getattr(importlib.import_module(module_name), attr))


# --- hourly auto-sync -----------------------------------------------------------------------------------


def next_due_after(due: datetime | None, interval: timedelta, now: datetime) -> datetime:
    """The first slot after `now` on the grid `due + k * interval`, so the schedule keeps its phase."""
    if due is None or due > now:
        return now + interval if due is None else due
    missed = (now - due) // interval
    return due + (missed + 1) * interval


def enqueue_due_syncs(*, engine: Engine, now: datetime) -> list[int]:
    """Queue one auto accounting sync per connection whose auto-sync is on, not paused and due.

    The schedule row is locked (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) and its
    `next_due_at` moved past `now` in the same transaction as the run insert: two schedulers, or one that
    restarts, never double a slot, and a scheduler that was down for hours queues one catch-up run.
    Returns the ids of the runs queued (or of an auto-sync already queued or running, which the slot joins).
    """
    due_filter = (col(SyncSchedule.enabled).is_(True), col(SyncSchedule.paused_reason).is_(None),
                  or_(col(SyncSchedule.next_due_at).is_(None), col(SyncSchedule.next_due_at) <= now))
    with read_session(engine) as session:
        # A plain read first: the common "nothing due" case takes no write lock.
        due_connections = list(session.exec(select(SyncSchedule.connection_id).where(*due_filter)).all())
    run_ids: list[int] = []
    for connection_id in due_connections:
        with write_session(engine) as session:
            plan = session.exec(
                select(SyncSchedule).where(SyncSchedule.connection_id == connection_id, *due_filter).with_for_update()
            ).first()
            if plan is None:
                continue  # another scheduler took this slot a moment ago
            interval = timedelta(minutes=max(plan.interval_minutes, 1))
            slot = plan.next_due_at
            plan.next_due_at = next_due_after(slot, interval, now)
            plan.updated_at = now
            session.add(plan)
            missed = 0 if slot is None else int((now - slot) // interval)
            # enqueue_run commits: the run and the moved due time land together.
            run = enqueue_run(session=session, connection_id=connection_id, kind=RunKind.ACCOUNTING_SYNC,
                              requested_by=AUTO_SYNC_REQUESTER, trigger=RunTrigger.AUTO,
                              options={"due_at": slot.isoformat() if slot else None, "missed_slots": missed})
        # A transaction of its own: after enqueue_run's commit and refresh the session holds a SQLite read
        # lock, and upgrading that to a write fails at once ("database is locked") when another writer waits.
        with write_session(engine) as session:
            plan = session.get(SyncSchedule, plan.id, with_for_update=True)
            if plan is not None:
                plan.last_enqueued_run_id = run.id
                session.add(plan)
        if missed:
            log.info("auto-sync for connection %s was %s slot(s) behind: queued one catch-up run #%s",
                     connection_id, missed, run.id)
        else:
            log.info("auto-sync for connection %s due: run #%s", connection_id, run.id)
        run_ids.append(run.id)  # type: ignore[arg-type]
    return run_ids


# --- auth circuit breaker -------------------------------------------------------------------------------


def apply_auth_circuit_breaker(*, session: Session, run: SyncRun, now: datetime | None = None) -> bool:
    """Pause auto-sync when `run` failed on Intacct authentication; True if it paused. The caller commits.

    Hourly retries with a bad password would lock the Intacct user out; the pause stays until someone
    saves or successfully tests the connection (`clear_pause`) or turns auto-sync on again.
    """
    if run.status != RunStatus.FAILED or run.error_category != AUTH_ERROR_CATEGORY:
        return False
    plan = session.exec(select(SyncSchedule).where(SyncSchedule.connection_id == run.connection_id)).first()
    if plan is None:
        plan = SyncSchedule(connection_id=run.connection_id)
    elif plan.paused_reason:
        return False  # already paused: keep the first reason and its time
    now = now or utcnow()
    detail = (run.error_message or "sign-in refused").strip()
    plan.paused_reason = (
        f"Auto-sync paused: Intacct refused the sign-in during run #{run.id} "
        f"({now:%Y-%m-%d %H:%M} UTC): {detail}. Fix the credentials on the Connection page and save or test "
        "the connection to resume."
    )
    plan.updated_at = now
    session.add(plan)
    record_changes(session=session, actor="scheduler", entity="sync_schedule", entity_id=run.connection_id,
                   old={"paused_reason": None}, new={"paused_reason": plan.paused_reason},
                   note="authentication circuit breaker")
    return True


def clear_pause(*, session: Session, connection_id: int, actor: str = "system") -> bool:
    """Resume auto-sync after the connection was saved or tested successfully; True if it was paused.

    The due time is left as it was, so a sync that fell due during the pause runs once, soon.
    """
    plan = session.exec(select(SyncSchedule).where(SyncSchedule.connection_id == connection_id)).first()
    if plan is None or plan.paused_reason is None:
        return False
    record_changes(session=session, actor=actor, entity="sync_schedule", entity_id=connection_id,
                   old={"paused_reason": plan.paused_reason}, new={"paused_reason": None},
                   note="connection saved or tested successfully")
    plan.paused_reason = None
    plan.updated_at = utcnow()
    session.add(plan)
    session.commit()
    return True


# --- the scheduler ---------------------------------------------------------------------------------------


@dataclass
class _CurrentRun:
    run_id: int
    stop: threading.Event
    lease_valid_until: float  # time.monotonic() by which the lease must have been renewed
    thread: threading.Thread | None = None
    progress: str | None = None
    finished: bool = False
    status: str | None = None


class Scheduler:
    """One scheduler process's loop. Use `run_forever()` (the service) or `run_once()` (one tick)."""

    def __init__(
        self, engine: Engine, *, executor: Executor | None = None, clock: Clock = utcnow,
        scheduler_id: str | None = None, poll_seconds: float = POLL_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS, due_check_seconds: float = DUE_CHECK_SECONDS,
        lease_ttl: timedelta = LEASE_TTL, stop_timeout: float = STOP_TIMEOUT_SECONDS,
        notifier: Notifier | None = notify_run_finished, stop: threading.Event | None = None,
    ) -> None:
        self.engine = engine
        self.executor: Executor = executor or _default_executor
        self.clock = clock
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.scheduler_id = scheduler_id or f"{self.host}:{self.pid}"
        # Unique per process even if an operator gives two processes the same --id.
        self.holder = f"{self.scheduler_id}#{self.pid}-{uuid.uuid4().hex[:6]}"
        self.version = app_version()
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.due_check_seconds = due_check_seconds
        self.lease_ttl = lease_ttl
        self.stop_timeout = stop_timeout
        self.notifier = notifier
        self.stop = stop or threading.Event()
        self.wake = threading.Event()
        self.runs_finished = 0
        self._current: _CurrentRun | None = None
        self._lock = threading.Lock()
        self._claim_now = False
        self._started = False
        self._jobs = schedule.Scheduler()

    # lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Write the first heartbeat and register the jobs."""
        if self._started:
            return
        self._started = True
        now = self.clock()
        with write_session(self.engine) as session:
            prune_heartbeats(session=session, now=now)
            write_heartbeat(session=session, scheduler_id=self.scheduler_id, pid=self.pid, host=self.host,
                            version=self.version, now=now, progress="idle", starting=True)
        # schedule types the interval as int, but fractions work (it builds a timedelta): tests use 0.1 s.
        self._jobs.every(self.poll_seconds).seconds.do(self._guarded, self.poll)  # type: ignore[arg-type]
        self._jobs.every(self.due_check_seconds).seconds.do(self._guarded, self.check_due)  # type: ignore[arg-type]
        self._jobs.every(self.heartbeat_seconds).seconds.do(self._guarded, self.beat)  # type: ignore[arg-type]
        log.info("scheduler %s started (pid %s, holder %s, version %s)", self.scheduler_id, self.pid,
                 self.holder, self.version)

    def run_forever(self) -> int:
        """Loop until `stop` is set (SIGTERM/SIGINT), then shut down cleanly; returns the exit status."""
        self.start()
        try:
            self.tick()
            while not self.stop.is_set():
                self._jobs.run_pending()
                if self._claim_now and not self.stop.is_set():
                    # A run just finished: take the next queued one now rather than at the next poll.
                    self._claim_now = False
                    self._guarded(self.poll)
                idle = self._jobs.idle_seconds
                timeout = self.poll_seconds if idle is None else min(max(idle, 0.01), self.poll_seconds)
                self.wake.wait(timeout)
                self.wake.clear()
        finally:
            code = self.shutdown()
        return code

    def run_once(self) -> int:
        """One tick (recover, due check, claim one run and run it to its end), then shut down."""
        self.start()
        try:
            self.tick()
            while self.busy and not self.stop.is_set():
                self.wake.wait(self.heartbeat_seconds)
                self.wake.clear()
                self._guarded(self.beat)
        finally:
            code = self.shutdown()
        return code

    def tick(self) -> None:
        """Every job once, in order: due check, recovery and claim, heartbeat."""
        self._guarded(self.check_due)
        self._guarded(self.poll)
        self._guarded(self.beat)

    def shutdown(self) -> int:
        """Stop the run in hand after its current record, wait for it, mark the heartbeat stopped."""
        self.stop.set()
        code = EXIT_OK
        current = self._current
        if current is not None and current.thread is not None:
            log.info("stopping: waiting for run #%s to finish its current record", current.run_id)
            current.stop.set()
            deadline = time.monotonic() + self.stop_timeout
            while current.thread.is_alive() and time.monotonic() < deadline:
                current.thread.join(timeout=min(self.heartbeat_seconds, max(deadline - time.monotonic(), 0.01)))
                if current.thread.is_alive():
                    # Keep the lease and the heartbeat while the record in hand is finished.
                    self._guarded(self.beat)
            if current.thread.is_alive():
                log.error("run #%s did not stop within %.0f s; leaving its lease to expire so the next scheduler "
                          "marks it abandoned", current.run_id, self.stop_timeout)
                code = EXIT_RUN_DID_NOT_STOP
        self._jobs.clear()
        try:
            with write_session(self.engine) as session:
                mark_stopped(session=session, scheduler_id=self.scheduler_id, now=self.clock())
        except Exception:
            log.exception("could not mark the heartbeat stopped")
        log.info("scheduler %s stopped", self.scheduler_id)
        return code

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._current is not None

    # jobs -------------------------------------------------------------------------------------------------

    def _guarded(self, job: Callable[[], Any]) -> None:
        # `schedule` re-runs a job that raises on every tick; a failed job must wait for its next turn.
        try:
            job()
        except Exception:
            log.exception("scheduler job %s failed; it will run again at its next turn", job.__name__)

    def check_due(self) -> list[int]:
        """Queue the auto-syncs that are due now (see enqueue_due_syncs)."""
        if self.stop.is_set():
            return []
        return enqueue_due_syncs(engine=self.engine, now=self.clock())

    def poll(self) -> int | None:
        """Recover abandoned runs, pass on a cancel request, or claim and start the next queued run."""
        recovered = recover_stale_runs(engine=self.engine, now=self.clock())
        if recovered:
            log.warning("marked run(s) %s abandoned: their scheduler stopped renewing the lease", recovered)
        with self._lock:
            current = self._current
        if current is not None:
            self._pass_on_cancel(current)
            return None
        if self.stop.is_set():
            return None
        run = claim_next_run(engine=self.engine, holder=self.holder, now=self.clock(), lease_ttl=self.lease_ttl)
        if run is None:
            return None
        self._start_worker(run)
        return run.id

    def _pass_on_cancel(self, current: _CurrentRun) -> None:
        # queue.cancel_run only flags a running run; the executor stops on its stop event like on SIGTERM.
        if current.stop.is_set() or current.finished:
            return
        with read_session(self.engine) as session:
            run = session.get(SyncRun, current.run_id)
            if run is not None and run.cancel_requested:
                log.info("cancel requested for run #%s: stopping it after the current record", current.run_id)
                current.stop.set()

    def beat(self) -> None:
        """Renew the running run's lease (stopping the run if it was lost), then write the heartbeat."""
        with self._lock:
            current = self._current
        if current is not None and not current.finished:
            self._renew(current)
        progress = "idle"
        if current is not None:
            progress = current.progress or f"run #{current.run_id} started"
            if self.stop.is_set():
                progress = f"stopping after the current record: {progress}"
        with write_session(self.engine) as session:
            write_heartbeat(session=session, scheduler_id=self.scheduler_id, pid=self.pid, host=self.host,
                            version=self.version, now=self.clock(),
                            current_run_id=current.run_id if current else None, progress=progress)

    def _renew(self, current: _CurrentRun) -> None:
        try:
            kept = renew_lease(engine=self.engine, holder=self.holder, run_id=current.run_id, lease_ttl=self.lease_ttl)
        except Exception:
            log.exception("could not renew the lease of run #%s", current.run_id)
            kept = time.monotonic() < current.lease_valid_until
        else:
            if kept:
                current.lease_valid_until = time.monotonic() + self.lease_ttl.total_seconds()
        if not kept and not current.finished and not current.stop.is_set():
            # Another scheduler may already have marked the run abandoned: stop before writing anything more.
            log.error("lost the lease of run #%s: asking it to stop", current.run_id)
            current.stop.set()

    # the run ----------------------------------------------------------------------------------------------

    def _start_worker(self, run: SyncRun) -> None:
        current = _CurrentRun(run_id=run.id, stop=threading.Event(),  # type: ignore[arg-type]
                              lease_valid_until=time.monotonic() + self.lease_ttl.total_seconds())
        if self.stop.is_set():
            current.stop.set()
        current.thread = threading.Thread(target=self._work, args=(current,), name=f"run-{run.id}", daemon=True)
        with self._lock:
            self._current = current
        log.info("claimed run #%s (%s, %s)", run.id, run.kind, run.trigger)
        current.thread.start()

    def _work(self, current: _CurrentRun) -> None:
        run_id = current.run_id
        error: BaseException | None = None

        def on_progress(text: str) -> None:
            current.progress = text

        try:
            try:
                current.status = self.executor(engine=self.engine, run_id=run_id, holder=self.holder,
                                               stop=current.stop, on_progress=on_progress)
            except Exception as exc:
                log.exception("run #%s raised", run_id)
                error = exc
            current.status = self._finalize(run_id, error)
            current.finished = True
            release_lease(engine=self.engine, holder=self.holder, run_id=run_id)
            log.info("run #%s finished: %s", run_id, current.status)
            if self.notifier is not None:
                try:
                    self.notifier(engine=self.engine, run_id=run_id)
                except Exception:
                    log.exception("notification for run #%s failed", run_id)
        except Exception:
            log.exception("could not finish run #%s cleanly; its lease will expire", run_id)
        finally:
            current.finished = True
            with self._lock:
                self._current = None
                self.runs_finished += 1
            self._claim_now = True
            self.wake.set()

    def _finalize(self, run_id: int, error: BaseException | None) -> str:
        """Make sure the run ended in a final state and apply the auth circuit breaker."""
        with write_session(self.engine) as session:
            run = session.get(SyncRun, run_id, with_for_update=True)
            if run is None:
                return RunStatus.FAILED
            if run.status == RunStatus.INTERRUPTED and run.cancel_requested:
                run.status = RunStatus.CANCELLED  # stopped because a person asked, not because we shut down
                session.add(run)
            if run.status not in FINISHED_STATUSES:
                now = self.clock()
                run.status = RunStatus.FAILED
                run.finished_at = now
                run.error_category = run.error_category or "internal"
                run.error_message = run.error_message or (
                    f"The run stopped with an internal error ({type(error).__name__}: {error})." if error
                    else "The run ended without recording a result."
                )
                session.add(run)
            if apply_auth_circuit_breaker(session=session, run=run, now=self.clock()):
                log.warning("auto-sync paused for connection %s: authentication failed in run #%s",
                            run.connection_id, run.id)
            return run.status


# --- command line ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    config = settings()
    parser = argparse.ArgumentParser(prog="python -m sync_engine.scheduler", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="do one tick (and the run it claims), then exit")
    parser.add_argument("--poll-seconds", type=float, default=POLL_SECONDS, help="how often to look for queued runs")
    parser.add_argument("--heartbeat-seconds", type=float, default=HEARTBEAT_SECONDS,
                        help="how often to write the heartbeat and renew the lease")
    parser.add_argument("--due-check-seconds", type=float, default=DUE_CHECK_SECONDS,
                        help="how often to check whether the hourly auto-sync is due")
    parser.add_argument("--id", dest="scheduler_id", default=config.ar_sync_scheduler_id,
                        help="name shown in the console (default host:pid)")
    parser.add_argument("--lease-ttl", type=float,
                        default=config.ar_sync_lease_ttl_seconds or LEASE_TTL.total_seconds(),
                        help="seconds before a dead scheduler's run is taken as abandoned")
    parser.add_argument("--stop-timeout", type=float, default=STOP_TIMEOUT_SECONDS,
                        help="seconds to wait for the record in hand on SIGTERM")
    parser.add_argument("--executor", default=config.ar_sync_executor or DEFAULT_EXECUTOR,
                        help="the run executor, as package.module:function")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL or the SQLite file under data/")
    parser.add_argument("--log-level", default=config.ar_sync_log_level)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.heartbeat_seconds * 2 >= args.lease_ttl:
        log.warning("--lease-ttl %.1f s is short for --heartbeat-seconds %.1f s: a slow beat may lose the lease",
                    args.lease_ttl, args.heartbeat_seconds)
    try:
        executor = load_executor(args.executor)
    except (ImportError, AttributeError, ValueError) as exc:
        log.error("cannot load the run executor %r: %s", args.executor, exc)
        return EXIT_CONFIG_ERROR
    engine = make_engine(args.database_url)
    upgrade_database(engine)
    scheduler = Scheduler(
        engine, executor=executor, scheduler_id=args.scheduler_id, poll_seconds=args.poll_seconds,
        heartbeat_seconds=args.heartbeat_seconds, due_check_seconds=args.due_check_seconds,
        lease_ttl=timedelta(seconds=args.lease_ttl), stop_timeout=args.stop_timeout,
    )
    signals = StopSignals(scheduler.stop, scheduler.wake)
    signals.install()
    try:
        code = scheduler.run_once() if args.once else scheduler.run_forever()
    finally:
        signals.restore()
        engine.dispose()
    return code


if __name__ == "__main__":
    sys.exit(main())
