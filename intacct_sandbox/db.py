"""SQLite persistence: schema from the object catalogue, per-thread connections, one serialised writer.

Readers run concurrently (WAL); every request that writes holds one process-wide lock around a single
``BEGIN IMMEDIATE`` transaction, with a savepoint per function.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .schema import INDEXES, OBJECTS, TABLE_OWNERS, ObjectDef

_SQL_TYPES = {"int": "INTEGER", "money": "INTEGER", "bool": "INTEGER"}

_INTERNAL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, sender_id TEXT, company_id TEXT, user_id TEXT, entity TEXT,
    expires_at REAL, created_at REAL);
CREATE TABLE IF NOT EXISTS controlids (
    sender_id TEXT, company_id TEXT, controlid TEXT, function TEXT, expires_at REAL,
    PRIMARY KEY (sender_id, company_id, controlid));
CREATE TABLE IF NOT EXISTS sequences (company TEXT, name TEXT, value INTEGER, PRIMARY KEY (company, name));
"""


def _move_old_bank_accounts(conn: sqlite3.Connection) -> None:
    """Bank accounts of an older sandbox (an internal table) become CHECKINGACCOUNT records, readable by query."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bankaccount'").fetchone() is None:
        return
    conn.execute('INSERT INTO checkingaccount (company, "BANKACCOUNTID", "BANKNAME", "GLACCOUNTNO", "STATUS", '
                 '"CURRENCY") SELECT b.company, b.BANKACCOUNTID, b.NAME, b.GLACCOUNTNO, b.STATUS, \'USD\' '
                 'FROM bankaccount b WHERE NOT EXISTS (SELECT 1 FROM checkingaccount c WHERE c.company = b.company '
                 'AND c."BANKACCOUNTID" = b.BANKACCOUNTID)')
    conn.execute("DROP TABLE bankaccount")


def q(name: str) -> str:
    """Quote an identifier (field names keep their dots as column names)."""
    return '"' + name.replace('"', '""') + '"'


def _table_sql(obj: ObjectDef) -> str:
    cols = ["company TEXT NOT NULL", '"RECORDNO" INTEGER PRIMARY KEY AUTOINCREMENT']
    for column, ftype in obj.columns:
        if column != "RECORDNO":
            cols.append(f"{q(column)} {_SQL_TYPES.get(ftype, 'TEXT')}")
    if obj.table == "location":
        cols.append("is_entity INTEGER NOT NULL DEFAULT 0")
    return f"CREATE TABLE IF NOT EXISTS {obj.table} ({', '.join(cols)})"


def _add_missing_columns(conn: sqlite3.Connection, obj: ObjectDef) -> None:
    """A database made by an older sandbox gains the columns fields added since (as NULL)."""
    have = {row[1] for row in conn.execute(f"PRAGMA table_info({obj.table})")}
    for column, ftype in obj.columns:
        if column not in have:
            conn.execute(f"ALTER TABLE {obj.table} ADD COLUMN {q(column)} {_SQL_TYPES.get(ftype, 'TEXT')}")


class Store:
    """The sandbox database: schema creation, a pool of connections and the writer lock."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._pool: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self.write_lock = threading.RLock()
        self._admin = self._open()
        self._admin.executescript(_INTERNAL)
        for name in TABLE_OWNERS:
            obj = OBJECTS[name]
            self._admin.execute(_table_sql(obj))
            _add_missing_columns(self._admin, obj)
            for columns in INDEXES.get(obj.table, []):
                names = columns.split(",")
                self._admin.execute(
                    f"CREATE INDEX IF NOT EXISTS ix_{obj.table}_{'_'.join(n.lower() for n in names)} "
                    f"ON {obj.table} (company, {', '.join(q(n) for n in names)})"
                )
        _move_old_bank_accounts(self._admin)

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA cache_size=-65536")
        return conn

    def connection(self) -> sqlite3.Connection:
        """The start-up/admin connection (seeding, meta); request threads use the pool."""
        return self._admin

    @contextmanager
    def _pooled(self) -> Iterator[sqlite3.Connection]:
        with self._pool_lock:
            conn = self._pool.pop() if self._pool else None
        if conn is None:
            conn = self._open()
        try:
            yield conn
        finally:
            with self._pool_lock:
                self._pool.append(conn)

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One serialised write transaction; rolled back if the block raises."""
        with self.write_lock, self._pooled() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot for one request."""
        with self._pooled() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def get_meta(self, key: str) -> str | None:
        row = self._admin.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._admin.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def optimize(self) -> None:
        """After bulk loading: fold the WAL into the main file and refresh planner statistics."""
        self._admin.execute("ANALYZE")
        self._admin.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def is_empty(self) -> bool:
        return all(
            self._admin.execute(f"SELECT 1 FROM {OBJECTS[n].table} LIMIT 1").fetchone() is None
            for n in TABLE_OWNERS
        )


@contextmanager
def savepoint(conn: sqlite3.Connection, name: str = "fn") -> Iterator[None]:
    """A nested unit that is undone alone when the function inside it fails."""
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")


def insert(conn: sqlite3.Connection, obj: ObjectDef, company: str, values: Mapping[str, Any],
           extra: Mapping[str, Any] | None = None) -> int:
    """Insert one record (values keyed by column) and return its RECORDNO."""
    data = {"company": company, **{k: v for k, v in values.items() if k != "RECORDNO"}, **(extra or {})}
    cols = ", ".join(q(c) if c != "company" and c != "is_entity" else c for c in data)
    marks = ", ".join("?" for _ in data)
    cur = conn.execute(f"INSERT INTO {obj.table} ({cols}) VALUES ({marks})", list(data.values()))
    return int(cur.lastrowid)


def update(conn: sqlite3.Connection, obj: ObjectDef, recordno: int, values: Mapping[str, Any]) -> None:
    if not values:
        return
    sets = ", ".join(f"{q(c)} = ?" for c in values)
    conn.execute(f'UPDATE {obj.table} SET {sets} WHERE "RECORDNO" = ?', [*values.values(), recordno])


def fetch_one(conn: sqlite3.Connection, obj: ObjectDef, company: str, where: str, params: list[Any]) -> dict | None:
    cur = conn.execute(f"SELECT * FROM {obj.table} WHERE company = ? AND {where} LIMIT 1", [company, *params])
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=False))


def fetch_all(conn: sqlite3.Connection, obj: ObjectDef, company: str, where: str, params: list[Any],
              order: str = '"RECORDNO"') -> list[dict]:
    cur = conn.execute(f"SELECT * FROM {obj.table} WHERE company = ? AND {where} ORDER BY {order}",
                       [company, *params])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=False)) for row in cur.fetchall()]


def by_key(conn: sqlite3.Connection, obj: ObjectDef, company: str, recordno: int) -> dict | None:
    return fetch_one(conn, obj, company, '"RECORDNO" = ?', [recordno])


def by_id(conn: sqlite3.Connection, obj: ObjectDef, company: str, ident: str) -> dict | None:
    return fetch_one(conn, obj, company, f"{q(obj.id_field)} = ?", [ident])


def next_sequence(conn: sqlite3.Connection, company: str, name: str, start: int = 1) -> int:
    row = conn.execute("SELECT value FROM sequences WHERE company = ? AND name = ?", (company, name)).fetchone()
    value = (row[0] + 1) if row else start
    conn.execute("INSERT OR REPLACE INTO sequences (company, name, value) VALUES (?, ?, ?)", (company, name, value))
    return value
