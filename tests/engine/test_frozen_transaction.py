"""PostgreSQL ends the session of a process frozen inside a transaction, so whoever waits for its locks goes on.

A stand-in scheduler (tests/engine/frozen_holder.py) stalls, SIGSTOPped, in the transaction that journals a send,
holding its lease row's lock. With `DATABASE_IDLE_IN_TRANSACTION_SECONDS=1` the takeover (recovering the stale run,
which deletes that lease row) gets the lock once the server ends the frozen session; the frozen process, resumed,
meets a clean "ended by the idle timeout" error, nothing of its transaction lands, and the fence stops it.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import make_engine, write_session
from storage.models import RunStatus, SyncRun
from storage.types import utcnow
from sync_engine.sync import leases, runs
from sync_engine.sync.run_context import RunContext
from tests.engine.frozen_holder import WRITTEN_AFTER_WAKING
from tests.engine.helpers import connect, run_now
from tests.fixtures.db import fresh_database_url
from tests.fixtures.processes import stop_process
from tests.scheduler.helpers import add_connection, get_run, queue_runs, wait_for

ROOT = Path(__file__).resolve().parents[2]
OUTCOMES = {"wrote after waking", "ended by the idle timeout", "still holds the lease", "fenced"}
IDLE_LIMIT = "1"  # seconds; the waits below allow far more on a loaded machine


@pytest.fixture
def pg_engine(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    request.applymarker(pytest.mark.postgres)
    monkeypatch.setenv("DATABASE_IDLE_IN_TRANSACTION_SECONDS", IDLE_LIMIT)
    urls = fresh_database_url("postgresql", request, tmp_path)
    url = next(urls)
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    urls.close()


def test_every_postgresql_session_of_the_product_has_the_limit(pg_engine: Engine,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with pg_engine.connect() as connection:
        assert connection.execute(text("SHOW idle_in_transaction_session_timeout")).scalar_one() == "1s"
    monkeypatch.delenv("DATABASE_IDLE_IN_TRANSACTION_SECONDS")
    default = make_engine(str(pg_engine.url.render_as_string(hide_password=False)))
    with default.connect() as connection:
        assert connection.execute(text("SHOW idle_in_transaction_session_timeout")).scalar_one() == "2min"
    default.dispose()
    url = pg_engine.url.update_query_dict({"options": "-c statement_timeout=45s"})
    given = make_engine(url.render_as_string(hide_password=False))
    with given.connect() as connection:  # options in the URL are kept beside ours
        assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "45s"
        assert connection.execute(text("SHOW idle_in_transaction_session_timeout")).scalar_one() == "2min"
    given.dispose()


def test_a_frozen_transaction_is_ended_and_the_takeover_gets_its_lock(pg_engine: Engine, tmp_path: Path) -> None:
    connection_id = add_connection(pg_engine)
    [frozen_run] = queue_runs(pg_engine, connection_id, 1)
    log_path = tmp_path / "frozen.log"
    with open(log_path, "w") as log:
        holder = subprocess.Popen([sys.executable, "-m", "tests.engine.frozen_holder"], cwd=ROOT, env=os.environ,
                                  stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        said = log_path.read_text
        wait_for(lambda: "locked" in said(), timeout=60, what="the holder to lock its lease row")
        os.kill(holder.pid, signal.SIGSTOP)
        try:
            recovered: list[list[int]] = []
            # Its lease has expired for the taker (the claim's own clock says so); deleting the lease row needs the
            # frozen transaction's lock.
            later = utcnow() + leases.LEASE_TTL * 2
            taker = threading.Thread(
                target=lambda: recovered.append(leases.recover_stale_runs(engine=pg_engine, now=later)), daemon=True)
            taker.start()
            wait_for(lambda: recovered, timeout=30, what="the takeover to get the frozen holder's lock")
            assert recovered == [[frozen_run]]
            [next_run] = queue_runs(pg_engine, connection_id, 1)
            claimed = leases.claim_next_run(engine=pg_engine, holder="taker", now=later)
            assert claimed is not None and claimed.id == next_run
        finally:
            os.kill(holder.pid, signal.SIGCONT)
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0, said()
    finally:
        stop_process(holder)
    outcomes = [line for line in said().splitlines() if line in OUTCOMES]
    assert outcomes == ["ended by the idle timeout", "fenced"], said()
    run = get_run(pg_engine, frozen_run)
    assert run.status == RunStatus.ABANDONED and run.error_message != WRITTEN_AFTER_WAKING


def _backend_alive(engine: Engine, pid: int) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                       {"pid": pid}).scalar_one())


def test_a_run_whose_transaction_the_database_ended_stops_cleanly(pg_engine: Engine, sandbox,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def stalled_step(ctx: RunContext) -> None:
        with write_session(ctx.engine) as session:
            pid = session.connection().execute(text("SELECT pg_backend_pid()")).scalar_one()
            wait_for(lambda: not _backend_alive(pg_engine, pid), timeout=30,
                     what="the database to end the stalled session")
            session.exec(update(SyncRun).where(SyncRun.id == ctx.run_id)  # type: ignore[call-overload]
                         .values(error_message="written after stalling"))

    with Session(pg_engine) as session:
        connection_id = connect(session, sandbox)
    monkeypatch.setattr(runs, "_steps", lambda kind, mapping, options: [("stalled", stalled_step)])
    run = run_now(pg_engine, connection_id, "accounting_sync")
    assert (run.status, run.error_category, run.error_message) == (RunStatus.INTERRUPTED, "transient", runs.STALLED)
