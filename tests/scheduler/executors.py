"""Stand-ins for `sync_engine.sync.runs.execute_run` used by the scheduler tests, in-process and in subprocesses.

`stepping_executor` is configured through environment variables so a scheduler subprocess can load it with
`--executor tests.scheduler.executors:stepping_executor`. Every execution writes one SyncRunItem labelled
with the holder, which is how the tests prove a run was executed exactly once and by whom.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy.engine import Engine

from storage.db import write_session
from storage.models import ItemAction, JournalState, RunStatus, SyncRun, SyncRunItem, WriteJournal
from storage.types import utcnow

EXECUTION_RECORD_TYPE = "test_execution"


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _finish(engine: Engine, run_id: int, status: str, **fields: object) -> str:
    with write_session(engine) as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        run.status = status
        run.finished_at = utcnow()
        for key, value in fields.items():
            setattr(run, key, value)
        session.add(run)
    return status


def stepping_executor(*, engine: Engine, run_id: int, holder: str, stop: threading.Event,
                      on_progress: Callable[[str], None] | None = None) -> str:
    """Process TEST_EXEC_STEPS "records" of TEST_EXEC_STEP_SECONDS each, checking `stop` between them.

    TEST_EXEC_JOURNAL=1 first commits a write-journal row in state `sent` (a write in flight);
    TEST_EXEC_IGNORE_STOP=1 never looks at `stop` (to test the escalation on a second signal);
    TEST_EXEC_OUTCOME=auth_failure ends the run failed with error category "authentication".
    """
    steps = int(_env("TEST_EXEC_STEPS", "3"))
    step_seconds = float(_env("TEST_EXEC_STEP_SECONDS", "0.05"))
    ignore_stop = _env("TEST_EXEC_IGNORE_STOP", "0") == "1"
    with write_session(engine) as session:
        run = session.get(SyncRun, run_id)
        assert run is not None and run.status == RunStatus.RUNNING, f"run {run_id} not running"
        session.add(SyncRunItem(run_id=run_id, step="test", record_type=EXECUTION_RECORD_TYPE,
                                label=f"executed by {holder}", action=ItemAction.CREATED))
        run.progress_total = steps
        if _env("TEST_EXEC_JOURNAL", "0") == "1":
            session.add(WriteJournal(connection_id=run.connection_id, operation="create_invoice",
                                     record_type="invoice", record_id=run_id,
                                     controlid=f"test-{run_id}-{uuid.uuid4().hex}",
                                     payload_hash="0" * 8, state=JournalState.SENT, run_id=run_id))
        session.add(run)
    for done in range(steps):
        if stop.is_set() and not ignore_stop:
            return _finish(engine, run_id, RunStatus.INTERRUPTED, progress_done=done)
        time.sleep(step_seconds)  # the record in hand is always finished
        with write_session(engine) as session:
            run = session.get(SyncRun, run_id)
            run.progress_done = done + 1  # type: ignore[union-attr]
            session.add(run)
        if on_progress:
            on_progress(f"record {done + 1} of {steps}")
    if _env("TEST_EXEC_OUTCOME", "succeeded") == "auth_failure":
        return _finish(engine, run_id, RunStatus.FAILED, error_category="authentication",
                       error_message="Sign-in information is incorrect", progress_done=steps)
    return _finish(engine, run_id, RunStatus.SUCCEEDED, progress_done=steps, created_count=steps)


def scripted_executor(status: str = RunStatus.SUCCEEDED, *, items: list[dict] | None = None,
                      error_category: str | None = None, error_message: str | None = None,
                      counts: dict[str, int] | None = None, raises: Exception | None = None):  # type: ignore[no-untyped-def]
    """An in-process executor that writes the given SyncRunItems and ends the run with `status` (or raises)."""

    calls: list[int] = []

    def execute(*, engine: Engine, run_id: int, holder: str, stop: threading.Event,
                on_progress: Callable[[str], None] | None = None) -> str:
        calls.append(run_id)
        if raises is not None:
            raise raises
        with write_session(engine) as session:
            for item in items or []:
                session.add(SyncRunItem(run_id=run_id, **{"step": "test", "record_type": "invoice", **item}))
        return _finish(engine, run_id, status, error_category=error_category, error_message=error_message,
                       **(counts or {}))

    execute.calls = calls  # type: ignore[attr-defined]
    return execute
