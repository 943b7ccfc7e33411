"""Bulk rows for bulk work: many new ledger rows, their run items and first versions in a few statements.

An import creates tens of thousands of records; building one ORM object per row (and one INSERT each at
flush) costs more than reading them from Intacct. These helpers insert plain dicts through SQLAlchemy Core
(one executemany on SQLite, one COPY on PostgreSQL, with the new ids drawn first so they are known in row
order), with every column's Python-side default filled in, so the rows are exactly what the ORM would
have written. Column types still apply (Money refuses floats, timestamps stay UTC).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from storage.models import RecordVersion


def column_defaults(model: type[SQLModel]) -> dict[str, Any]:
    """Every column of `model` with the default the model gives it (factories called now); the id left out."""
    defaults: dict[str, Any] = {}
    for column in model.__table__.columns:  # type: ignore[attr-defined]
        if column.primary_key:
            continue
        info = model.model_fields.get(column.name)
        if info is None:
            defaults[column.name] = None
        elif info.default_factory is not None:
            defaults[column.name] = info.default_factory()  # type: ignore[call-arg]
        elif info.default is not PydanticUndefined:
            defaults[column.name] = info.default
        else:
            defaults[column.name] = None
    return defaults


def _new_ids(session: Session, table: Any, count: int) -> list[int]:
    """`count` fresh primary keys for `table`, taken inside the caller's transaction.

    SQLite: the transaction holds the database's write lock from BEGIN IMMEDIATE (storage.db), so max(id)+1
    onwards is what SQLite itself would hand out. PostgreSQL: drawn from the table's sequence."""
    if session.get_bind().dialect.name == "sqlite":
        start = session.execute(text(f'SELECT coalesce(max(id), 0) FROM "{table.name}"')).scalar_one()
        return list(range(start + 1, start + 1 + count))
    return list(session.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                                {"t": table.name, "n": count}).scalars())


_MISSING = object()


def insert_rows(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]], *,
                returning_ids: bool = True) -> list[int]:
    """Insert `rows` (each completed with the model's defaults) with one driver executemany; their new ids in
    order when asked for.

    Values pass through each column type's own bind processing (the same functions SQLAlchemy applies), but
    column by column instead of per-statement rendering, which is what makes 100,000 rows cheap."""
    if not rows:
        return []
    table = model.__table__  # type: ignore[attr-defined]
    defaults = column_defaults(model)
    ids = _new_ids(session, table, len(rows)) if returning_ids else []
    names = ([table.c.id.name] if returning_ids else []) + list(defaults)
    connection = session.connection()
    dialect = connection.dialect
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
           f"VALUES ({', '.join([marker] * len(names))})")
    value_names = names[1:] if returning_ids else names
    value_processors = processors[1:] if returning_ids else processors
    # Column by column, not row by row: each column's values go through its type's processor in one
    # comprehension, and a column no row sets is its (processed) default repeated.
    count = len(rows)
    columns: list[list[Any]] = [ids] if returning_ids else []
    for name, process in zip(value_names, value_processors, strict=False):
        default = defaults[name]
        if default is not None and process is not None:
            default = process(default)
        if not any(name in row for row in rows):
            columns.append([default] * count)
            continue
        values = [row.get(name, _MISSING) for row in rows]
        if process is None:
            columns.append([default if v is _MISSING else v for v in values])
        else:
            columns.append([default if v is _MISSING else (None if v is None else process(v)) for v in values])
    params = zip(*columns, strict=True)
    if dialect.name == "postgresql":
        _copy_rows(connection, table.name, names, params, quote)
    else:
        connection.exec_driver_sql(sql, list(params))
    return ids


def _copy_rows(connection: Any, table: str, names: list[str], rows: Iterable[tuple], quote: Any) -> None:
    """PostgreSQL: the rows through COPY on the session's own connection (so inside its transaction).

    An executemany of INSERTs costs the server one statement per row; COPY streams them as one."""
    raw = connection.connection.driver_connection  # the psycopg connection under SQLAlchemy's
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {quote(table)} ({', '.join(quote(n) for n in names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def first_versions(session: Session, *, record_type: str, record_ids: Sequence[int], run_id: int | None,
                   source: str = "import") -> None:
    """Version 1 of records a run just created, summarised: the run and time are kept (every record's history
    still says which run created it), the snapshot is not copied, because at creation it is the record itself
    and every later version keeps the old value of each field it changes."""
    # changed_at (now), changes and snapshot ({}) are the model's defaults: the same for every row.
    insert_rows(session, RecordVersion, [
        {"record_type": record_type, "record_id": rid, "version": 1, "run_id": run_id, "source": source}
        for rid in record_ids], returning_ids=False)
