"""SQL constructs written once for both databases: `one_of`, a membership test bound as a single parameter.

`column.in_(values)` renders one bound parameter per value, on every execution. With pages of 900 keys,
an import renders hundreds of thousands of them, and PostgreSQL also casts and plans each one. `one_of` binds
the whole list as one value: a JSON array read by `json_each` on SQLite, an array compared with `= ANY` on
PostgreSQL. The statement text is then the same for every page and is compiled once.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Integer, String, TypeDecorator, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class _KeyList(TypeDecorator):
    """A list of keys as one bound value: text[] / integer[] on PostgreSQL, a JSON array elsewhere."""

    impl = String
    cache_ok = True

    def __init__(self, integers: bool) -> None:
        super().__init__()
        self.integers = integers

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Integer if self.integers else String))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return value
        return json.dumps(value)


class OneOf(ColumnElement[bool]):
    """`column` is one of a list of values (see the module docstring)."""

    # No Boolean type: SQLite would then compare the whole test with 1 (`... IN (...) = 1`), hiding it from the
    # planner.
    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("values", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: Any, values: list[Any], integers: bool) -> None:
        self.column = column
        self.values = bindparam(None, values, type_=_KeyList(integers), unique=True)


@compiles(OneOf)
def _one_of_sqlite(element: OneOf, compiler: Any, **kw: Any) -> str:
    return (f"{compiler.process(element.column, **kw)} IN "
            f"(SELECT value FROM json_each({compiler.process(element.values, **kw)}))")


@compiles(OneOf, "postgresql")
def _one_of_postgresql(element: OneOf, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.values, **kw)})"


def one_of(column: Any, values: Iterable[Any]) -> OneOf:
    """`column IN values` with the values bound as one parameter (None values are left out, as IN ignores them)."""
    keys = [v for v in values if v is not None]
    integers = isinstance(getattr(column, "type", None), Integer)
    return OneOf(column, [int(v) for v in keys] if integers else [str(v) for v in keys], integers)
