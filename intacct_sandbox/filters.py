"""Filter trees shared by ``readByQuery`` (string language) and ``query`` (XML filter), compiled to SQL."""

from __future__ import annotations

from dataclasses import dataclass, field

from .db import q
from .schema import TEXT, ObjectDef
from .values import to_stored


@dataclass
class Cond:
    """A single predicate; ``op`` is one of the query operator names below."""

    field: str
    op: str
    values: list[str] = field(default_factory=list)


@dataclass
class And:
    items: list[Expr]


@dataclass
class Or:
    items: list[Expr]


@dataclass
class Not:
    item: Expr


Expr = Cond | And | Or | Not

COMPARISONS = {
    "equalto": "=", "notequalto": "!=", "lessthan": "<", "lessthanorequalto": "<=",
    "greaterthan": ">", "greaterthanorequalto": ">=",
}
OPERATORS = set(COMPARISONS) | {"between", "in", "notin", "like", "notlike", "isnull", "isnotnull"}


class UnknownField(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class BadValue(Exception):
    pass


def split_rownum(expr: Expr | None) -> tuple[Expr | None, int | None]:
    """Take ``rownum`` predicates out of the top-level conjunction and turn them into a row limit."""
    if expr is None:
        return None, None
    parts = expr.items if isinstance(expr, And) else [expr]
    limit: int | None = None
    rest: list[Expr] = []
    for part in parts:
        if isinstance(part, Cond) and part.field.upper() == "ROWNUM":
            try:
                n = int(float(part.values[0]))
            except (ValueError, IndexError):
                raise BadValue("rownum needs a number") from None
            bound = {"equalto": n if n == 1 else 0, "lessthan": n - 1, "lessthanorequalto": n}.get(part.op)
            if bound is None:
                raise BadValue("rownum supports only =, < and <=")
            limit = max(0, bound) if limit is None else min(limit, max(0, bound))
        else:
            rest.append(part)
    if not rest:
        return None, limit
    return (rest[0] if len(rest) == 1 else And(rest)), limit


def _glob(pattern: str) -> str:
    out = []
    for ch in pattern:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


def compile_filter(expr: Expr | None, obj: ObjectDef, *, case_insensitive: bool = False) -> tuple[str, list]:
    """SQL boolean expression and parameters for ``expr`` (``1`` when there is no filter)."""
    if expr is None:
        return "1", []
    params: list = []
    sql = _compile(expr, obj, params, case_insensitive)
    return sql, params


def _compile(expr: Expr, obj: ObjectDef, params: list, ci: bool) -> str:
    if isinstance(expr, And):
        return "(" + " AND ".join(_compile(e, obj, params, ci) for e in expr.items) + ")"
    if isinstance(expr, Or):
        return "(" + " OR ".join(_compile(e, obj, params, ci) for e in expr.items) + ")"
    if isinstance(expr, Not):
        return f"(NOT {_compile(expr.item, obj, params, ci)})"
    return _cond(expr, obj, params, ci)


def _cond(cond: Cond, obj: ObjectDef, params: list, ci: bool) -> str:
    fdef = obj.field(cond.field)
    if fdef is None:
        raise UnknownField(cond.field)
    col = q(fdef.column) if fdef.column else "NULL"
    op = cond.op
    if op == "isnull":
        return f"({col} IS NULL OR {col} = '')" if fdef.type == TEXT else f"{col} IS NULL"
    if op == "isnotnull":
        return f"({col} IS NOT NULL AND {col} != '')" if fdef.type == TEXT else f"{col} IS NOT NULL"
    text_ci = ci and fdef.type == TEXT
    if op in ("like", "notlike"):
        if not cond.values:
            raise BadValue(f"{op} needs a value")
        neg = "NOT " if op == "notlike" else ""
        if text_ci:
            params.append(cond.values[0])
            return f"({col} IS NOT NULL AND {neg}{col} LIKE ?)"
        params.append(_glob(cond.values[0]))
        return f"({col} IS NOT NULL AND {neg}CAST({col} AS TEXT) GLOB ?)"
    try:
        stored = [to_stored(fdef, v, for_filter=True) for v in cond.values]
    except ValueError as exc:
        raise BadValue(str(exc)) from None
    collate = " COLLATE NOCASE" if text_ci else ""
    if op in ("in", "notin"):
        if not stored:
            raise BadValue(f"{op} needs at least one value")
        params.extend(stored)
        marks = ", ".join("?" for _ in stored)
        neg = "NOT " if op == "notin" else ""
        return f"({col}{collate} {neg}IN ({marks}))"
    if op == "between":
        if len(stored) != 2:
            raise BadValue("between needs exactly two values")
        params.extend(stored)
        return f"({col}{collate} BETWEEN ? AND ?)"
    sql_op = COMPARISONS.get(op)
    if sql_op is None or len(stored) != 1:
        raise BadValue(f"operator {op} needs exactly one value")
    params.append(stored[0])
    return f"({col}{collate} {sql_op} ?)"
