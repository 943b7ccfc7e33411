"""Bulk inserts for large uploads: many rows per statement, each row completed with the model's defaults.

The ORM builds and flushes one object at a time, which is what made a 50,000-row upload take minutes; these
inserts take a second or two. Ids come back by a unique key (a plain executemany is much quicker on PostgreSQL
than INSERT … RETURNING over many rows).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import insert
from sqlmodel import Session, SQLModel, select

CHUNK = 1000  # rows per statement and per IN (...) look-up (SQLite limits bound parameters)


def defaults(model: type[SQLModel]) -> dict[str, Any]:
    """Every column's default value (factories called once), as the ORM would fill them in."""
    values: dict[str, Any] = {}
    columns = set(model.__table__.columns.keys())  # type: ignore[attr-defined]
    for name, info in model.model_fields.items():
        if name not in columns or name == "id":
            continue
        if info.default_factory is not None:
            values[name] = info.default_factory()  # type: ignore[call-arg]
        elif info.default is not PydanticUndefined:
            values[name] = info.default
    return values


def insert_rows(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """INSERT the rows (completed with the model's defaults) in chunks, in the session's transaction."""
    if not rows:
        return
    base = defaults(model)
    table = model.__table__  # type: ignore[attr-defined]
    for start in range(0, len(rows), CHUNK):
        session.connection().execute(insert(table), [{**base, **row} for row in rows[start:start + CHUNK]])


def ids_by(session: Session, column: Any, keys: Iterable[Any], id_column: Any) -> dict[Any, int]:
    """{key: id} for the rows whose unique `column` is among `keys`, a chunk at a time."""
    wanted = [k for k in set(keys) if k]
    found: dict[Any, int] = {}
    for start in range(0, len(wanted), CHUNK):
        found.update(session.exec(select(column, id_column).where(column.in_(wanted[start:start + CHUNK]))).all())
    return found
