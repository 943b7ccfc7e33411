"""A fresh, migrated ledger database per world, on SQLite or PostgreSQL, without pytest fixtures.

The stateful test passes the session's migrated templates (a file copy or `CREATE DATABASE … TEMPLATE` is
fast); the soak, outside pytest, migrates a new database itself.
"""
from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from storage.db import make_engine
from storage.migrate import upgrade_database
from tests.fixtures.db import PG_ADMIN_URL, _pg_url


@contextmanager
def fresh_database(backend: str, workdir: Path, *, sqlite_template: Path | None = None,
                   postgres_template: str | None = None) -> Iterator[str]:
    """Yield the URL of a new migrated database of `backend`; it is removed afterwards."""
    if backend == "sqlite":
        path = workdir / f"ledger-{uuid.uuid4().hex[:8]}.db"
        if sqlite_template is not None:
            shutil.copyfile(sqlite_template, path)
        else:
            engine = make_engine(f"sqlite:///{path}")
            upgrade_database(engine)
            engine.dispose()
        yield f"sqlite:///{path}"
        return
    name = f"ar_model_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{postgres_template}"' if postgres_template else "")))
    try:
        if postgres_template is None:
            engine = make_engine(_pg_url(name))
            upgrade_database(engine)
            engine.dispose()
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
