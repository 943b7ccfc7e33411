"""The scheduler process's loop: running queued runs, queuing due auto-syncs, heartbeat and clean shutdown.

`python -m sync_engine.scheduler` starts it (`sync_engine.worker.cli`). It is built on `schedule` with three jobs:

* poll (every ~2 s): mark runs whose lease expired as abandoned, then claim the oldest queued run
  (Sync Now, imports, retries, auto-syncs) and execute it in a worker thread;
* due check (every ~10 s): enqueue an auto accounting sync for each connection whose `next_due_at` has
  passed (`sync_engine.schedule.due`);
* heartbeat (every ~5 s): renew the running run's lease and write this process's heartbeat row.

The executor (normally `sync_engine.sync.runs.execute_run`) is injected, and so is the clock used for due times
and heartbeats.
"""
from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

import schedule
from sqlalchemy.engine import Engine

from storage.db import read_session, write_session
from storage.models import RunStatus, SyncRun
from storage.types import utcnow
from sync_engine.schedule.due import enqueue_due_syncs
from sync_engine.schedule.pause import apply_auth_circuit_breaker
from sync_engine.services.heartbeat import (
    HEARTBEAT_SECONDS,
    app_version,
    mark_stopped,
    prune_heartbeats,
    write_heartbeat,
)
from sync_engine.services.notify import notify_run_finished
from sync_engine.sync.leases import LEASE_TTL, claim_next_run, recover_stale_runs, release_lease, renew_lease

log = logging.getLogger("sync_engine.scheduler")

POLL_SECONDS = 2.0
DUE_CHECK_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 60.0
DEFAULT_EXECUTOR = "sync_engine.sync.runs:execute_run"
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
    from sync_engine.sync.runs import execute_run

    return execute_run(**kwargs)


def load_executor(spec: str) -> Executor:
    """Resolve "package.module:function" to the executor callable."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"executor must look like package.module:function, not {spec!r}")
    return cast(Executor, getattr(importlib.import_module(module_name), attr))


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
