"""Helpers for scheduler tests: seed rows, poll for a condition with a deadline, run scheduler subprocesses."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.db import PROJECT_DIR, write_session
from storage.models import IntacctConnection, RunKind, RunTrigger, SyncRun, SyncRunItem, SyncSchedule
from tests.scheduler.executors import EXECUTION_RECORD_TYPE

T = TypeVar("T")
STEPPING = "tests.scheduler.executors:stepping_executor"


def add_connection(engine: Engine, name: str = "Intacct", *, schedule: bool = True) -> int:
    with write_session(engine) as session:
        connection = IntacctConnection(name=name, endpoint_url="http://127.0.0.1:9/ia/xml/xmlgw.phtml",
                                       company_id="DEMO", user_id="sync", user_password_enc="-",
                                       sender_id="sender", sender_password_enc="-")
        session.add(connection)
        session.flush()
        if schedule:
            session.add(SyncSchedule(connection_id=connection.id))
        return connection.id  # type: ignore[return-value]


def queue_runs(engine: Engine, connection_id: int, count: int, kind: str = RunKind.ACCOUNTING_SYNC,
               trigger: str = RunTrigger.MANUAL) -> list[int]:
    """Insert queued runs directly: `kind` first, then other kinds (the database allows one active run per kind)."""
    kinds = [kind, *(k for k in RunKind if k != kind)]
    assert count <= len(kinds), "one queued or running run per connection and kind"
    with write_session(engine) as session:
        runs = [SyncRun(connection_id=connection_id, kind=k, trigger=trigger, requested_by="test")
                for k in kinds[:count]]
        session.add_all(runs)
        session.flush()
        return [r.id for r in runs]  # type: ignore[misc]


def get_run(engine: Engine, run_id: int) -> SyncRun:
    with Session(engine) as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        return run


def executions(engine: Engine) -> dict[int, list[str]]:
    """run id -> the holders that executed it (from the stepping executor's marker items)."""
    with Session(engine) as session:
        items = session.exec(select(SyncRunItem).where(SyncRunItem.record_type == EXECUTION_RECORD_TYPE)).all()
    out: dict[int, list[str]] = {}
    for item in items:
        out.setdefault(item.run_id, []).append(item.label.removeprefix("executed by "))
    return out


def wait_for(predicate: Callable[[], T], *, timeout: float = 20.0, interval: float = 0.05, what: str = "condition") -> T:
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class SchedulerProcess:
    """`python -m sync_engine.scheduler` as a child process, its output in a log file (never an unread pipe)."""

    def __init__(self, db_url: str, log_path: Path, *args: str, env: dict[str, str] | None = None,
                 executor: str = STEPPING) -> None:
        self.log_path = log_path
        cmd = [sys.executable, "-m", "sync_engine.scheduler", "--database-url", db_url, "--executor", executor,
               "--poll-seconds", "0.1", "--heartbeat-seconds", "0.3", "--due-check-seconds", "0.5",
               "--log-level", "DEBUG", *args]
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=PROJECT_DIR, stdout=self._log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})})

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait(self, timeout: float = 20.0) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"scheduler {self.pid} did not exit in {timeout} s; log:\n{self.output()}") from None

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()
