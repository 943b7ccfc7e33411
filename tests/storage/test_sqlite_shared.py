"""Two processes share one SQLite file: what one commits, the other sees; concurrent writers wait, not fail."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sqlmodel import Session, select

from storage.db import PROJECT_DIR, make_engine, write_session
from storage.models import AuditEvent

_WRITER = textwrap.dedent(
    """
    import sys
    from storage.db import make_engine, write_session
    from storage.models import AuditEvent
    engine = make_engine(sys.argv[1])
    with write_session(engine) as session:
        session.add(AuditEvent(actor="other-process", entity="test", field="f", new_value=sys.argv[2]))
    """
)


def _write_many(url: str, tag: str, count: int) -> int:
    engine = make_engine(url)
    for i in range(count):
        with write_session(engine) as session:
            # read-then-write: the pattern that fails on SQLite without BEGIN IMMEDIATE
            seen = len(session.exec(select(AuditEvent)).all())
            session.add(AuditEvent(actor=tag, entity="test", field=str(i), new_value=str(seen)))
    engine.dispose()
    return count


def test_other_process_sees_committed_rows(sqlite_engine) -> None:
    url = str(sqlite_engine.url)
    subprocess.run([sys.executable, "-c", _WRITER, url, "hello"], check=True, cwd=PROJECT_DIR)
    with Session(sqlite_engine) as session:
        rows = session.exec(select(AuditEvent)).all()
    assert [(r.actor, r.new_value) for r in rows] == [("other-process", "hello")]


def test_concurrent_writers_in_two_processes_all_land(sqlite_engine) -> None:
    url = str(sqlite_engine.url)
    with ProcessPoolExecutor(max_workers=2) as pool:
        done = sum(pool.map(_write_many, [url, url], ["a", "b"], [40, 40]))
    with Session(make_engine(url)) as session:
        assert len(session.exec(select(AuditEvent)).all()) == done == 80


def test_wal_mode_is_on(sqlite_engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert Path(str(sqlite_engine.url).split("///")[1]).exists()
