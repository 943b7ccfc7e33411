"""The database engine and sessions, shared by the console, the scheduler and the tests.

`DATABASE_URL` chooses the database; the default is a SQLite file under `data/` in the project folder.
On SQLite every connection gets WAL, a busy timeout and foreign keys; every transaction opens with
`BEGIN IMMEDIATE` so a read-then-write never fails with "database is locked" (it waits its turn instead),
and `read_session()` runs without a transaction so pages never hold the lock while they render.
On PostgreSQL every session gets `idle_in_transaction_session_timeout`: a process frozen inside a transaction
(SIGSTOP, a paused VM) would otherwise keep its row locks, and everyone waiting for them, until it wakes.
No transaction waits on Intacct or sleeps (tests/engine/test_no_transaction_across_http.py), so only a stalled
process ever reaches the limit; on waking, its next statement fails (`lost_by_idle_timeout`) and nothing of
that transaction was written.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from storage.config import settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_DIR / "data"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# The longest gap between two statements of one transaction is Python work on one batch (well under a second,
# a few on a loaded machine); two minutes is far beyond that, and bounds how long a frozen scheduler can block a
# takeover (which first waits out its lease, 60 s by default) or the console.
IDLE_IN_TRANSACTION_SECONDS = 120.0
IDLE_IN_TRANSACTION_SQLSTATE = "25P03"  # idle_in_transaction_session_timeout


def database_url() -> str:
    """The configured database URL (`DATABASE_URL`), or the default SQLite file."""
    url = settings().database_url
    if url:
        return url
    DEFAULT_DATA_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DATA_DIR / 'console.db'}"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return None if path in ("", ":memory:") else Path(path)


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for `url` (default: `database_url()`), configured for several processes."""
    url = url or database_url()
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # Through libpq's startup options, so the setting holds from the first statement and needs no transaction;
    # options given in the URL are kept (connect_args would replace them).
    given = make_url(url).query.get("options")
    given = " ".join(given) if isinstance(given, tuple) else given
    options = f"-c idle_in_transaction_session_timeout={idle_in_transaction_timeout_ms()}"
    return create_engine(url, pool_pre_ping=True, connect_args={"options": f"{given} {options}" if given else options})


def idle_in_transaction_timeout_ms() -> int:
    """`DATABASE_IDLE_IN_TRANSACTION_SECONDS` (default `IDLE_IN_TRANSACTION_SECONDS`) in milliseconds; 0 = off."""
    seconds = settings().database_idle_in_transaction_seconds
    seconds = IDLE_IN_TRANSACTION_SECONDS if seconds is None else seconds
    return int(seconds * 1000) if seconds == 0 else max(1, int(seconds * 1000))


def lost_by_idle_timeout(error: BaseException) -> bool:
    """True when `error` (or its cause) says PostgreSQL ended the session for idling in a transaction.

    The transaction was rolled back by the server: nothing of it was written, and the connection is gone (the
    pool replaces it). The process was stalled longer than the limit, so it may also have lost its lease.
    """
    seen: BaseException | None = error
    while seen is not None:
        original = getattr(seen, "orig", None) or seen
        if getattr(original, "sqlstate", None) == IDLE_IN_TRANSACTION_SQLSTATE:
            return True
        if "idle-in-transaction timeout" in str(original):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself, so we can choose IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # Any session may read and then write; a deferred BEGIN then fails at once with "database is locked"
        # when another process wrote in between. So transactions take the write lock up front, and
        # read_session() opts out of transactions entirely (each read is its own snapshot, no lock held).
        if connection.get_execution_options().get("sqlite_autocommit", False):
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session for read-then-write work: commits on success, rolls back on error.

    On SQLite its transaction takes the write lock up front (BEGIN IMMEDIATE), waiting up to the busy
    timeout for another writer; on PostgreSQL use row locks (FOR UPDATE) inside it as needed. Keep it short:
    never hold one across a call to Intacct.
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reads that never holds a lock or a transaction: each statement runs in autocommit.

    So it may wait on Intacct between its reads (PostgreSQL would end a session idling inside a transaction);
    on PostgreSQL each statement of a transaction under READ COMMITTED saw its own snapshot anyway. Writes made
    through it are committed statement by statement; use write_session() for changes that must land together.
    """
    with Session(engine, expire_on_commit=False) as session:
        options = {"sqlite_autocommit": True} if is_sqlite(engine) else {"isolation_level": "AUTOCOMMIT"}
        session.connection(execution_options=options)
        yield session
