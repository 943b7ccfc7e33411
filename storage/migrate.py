"""Applies Alembic migrations at process start, one process at a time.

Every process (console, scheduler, tests) calls `upgrade_database(engine)` before touching tables. Two
processes starting together are serialised: a file lock beside a SQLite database, an advisory lock on
PostgreSQL.
"""
from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from storage.db import PROJECT_DIR, sqlite_path

MIGRATIONS_DIR = PROJECT_DIR / "storage" / "migrations"
_PG_LOCK_KEY = 7_463_221_001  # any constant shared by our processes


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade_database(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is current)."""
    db_file = sqlite_path(str(engine.url))
    if engine.dialect.name == "sqlite":
        lock = _file_lock(db_file.with_name(db_file.name + ".migrate.lock")) if db_file else _noop()
        with lock, engine.connect() as connection:
            command.upgrade(alembic_config(connection), "head")
            connection.commit()
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
        try:
            command.upgrade(alembic_config(connection), "head")
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
            connection.commit()


@contextmanager
def _noop() -> Iterator[None]:
    yield
