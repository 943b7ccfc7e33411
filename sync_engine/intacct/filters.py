"""Structured filters for the ``query`` function (reference section 6.3), built as lxml elements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from .values import format_value

MAX_IN_VALUES = 1000


class Filter:
    """A node of a ``query`` filter; ``to_element()`` renders it."""

    def to_element(self) -> etree._Element:  # pragma: no cover - abstract
        raise NotImplementedError


def _check(field: str, *values: object) -> None:
    """Fail at construction rather than when the request is sent."""
    if not isinstance(field, str) or not field.strip():
        raise ValueError("filter field name must be a non-empty string")
    for value in values:
        if value is None:
            raise ValueError("None is not a filter value; use is_null()/is_not_null()")
        format_value(value)


def _field(parent: etree._Element, name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ValueError("filter field name must be a non-empty string")
    etree.SubElement(parent, "field").text = name


def _value(parent: etree._Element, value: object) -> None:
    if value is None:
        raise ValueError("None is not a filter value; use is_null()/is_not_null()")
    etree.SubElement(parent, "value").text = format_value(value)


@dataclass(frozen=True)
class Comparison(Filter):
    """``field <op> value`` (equalto, lessthan, like, ...)."""

    op: str
    field: str
    value: object

    def __post_init__(self) -> None:
        _check(self.field, self.value)

    def to_element(self) -> etree._Element:
        el = etree.Element(self.op)
        _field(el, self.field)
        _value(el, self.value)
        return el


@dataclass(frozen=True)
class Between(Filter):
    """``lo <= field <= hi``."""

    field: str
    lo: object
    hi: object

    def __post_init__(self) -> None:
        _check(self.field, self.lo, self.hi)

    def to_element(self) -> etree._Element:
        el = etree.Element("between")
        _field(el, self.field)
        _value(el, self.lo)
        _value(el, self.hi)
        return el


@dataclass(frozen=True)
class Membership(Filter):
    """``field in (...)`` / ``field notin (...)``."""

    op: str
    field: str
    values: tuple[object, ...]

    def __post_init__(self) -> None:
        _check(self.field, *self.values)

    def to_element(self) -> etree._Element:
        el = etree.Element(self.op)
        _field(el, self.field)
        for v in self.values:
            _value(el, v)
        return el


@dataclass(frozen=True)
class NullCheck(Filter):
    """``field is null`` / ``field is not null``."""

    op: str
    field: str

    def __post_init__(self) -> None:
        _check(self.field)

    def to_element(self) -> etree._Element:
        el = etree.Element(self.op)
        _field(el, self.field)
        return el


@dataclass(frozen=True)
class Logical(Filter):
    """``and`` / ``or`` of at least two children."""

    op: str
    children: tuple[Filter, ...]

    def to_element(self) -> etree._Element:
        el = etree.Element(self.op)
        for child in self.children:
            el.append(child.to_element())
        return el


def eq(field: str, value: object) -> Filter:
    """``field = value``."""
    return Comparison("equalto", field, value)


def ne(field: str, value: object) -> Filter:
    """``field != value``."""
    return Comparison("notequalto", field, value)


def lt(field: str, value: object) -> Filter:
    """``field < value``."""
    return Comparison("lessthan", field, value)


def le(field: str, value: object) -> Filter:
    """``field <= value``."""
    return Comparison("lessthanorequalto", field, value)


def gt(field: str, value: object) -> Filter:
    """``field > value``."""
    return Comparison("greaterthan", field, value)


def ge(field: str, value: object) -> Filter:
    """``field >= value``."""
    return Comparison("greaterthanorequalto", field, value)


def like(field: str, pattern: str) -> Filter:
    """``field like pattern`` (``%`` any run, ``_`` one character)."""
    return Comparison("like", field, pattern)


def not_like(field: str, pattern: str) -> Filter:
    """``field not like pattern``."""
    return Comparison("notlike", field, pattern)


def between(field: str, lo: object, hi: object) -> Filter:
    """``lo <= field <= hi`` (lower bound first)."""
    return Between(field, lo, hi)


def _values(values: Iterable[object]) -> tuple[object, ...]:
    if isinstance(values, (str, bytes)):
        raise TypeError("in_/not_in take a collection of values, not a string")
    vals = tuple(values)
    if not 1 <= len(vals) <= MAX_IN_VALUES:
        raise ValueError(f"in/notin take 1..{MAX_IN_VALUES} values, got {len(vals)}")
    return vals


def in_(field: str, values: Iterable[object]) -> Filter:
    """``field in (values)``, 1..1000 values."""
    return Membership("in", field, _values(values))


def not_in(field: str, values: Iterable[object]) -> Filter:
    """``field not in (values)``, 1..1000 values."""
    return Membership("notin", field, _values(values))


def is_null(field: str) -> Filter:
    """``field is null``."""
    return NullCheck("isnull", field)


def is_not_null(field: str) -> Filter:
    """``field is not null``."""
    return NullCheck("isnotnull", field)


def _logical(op: str, filters: tuple[Filter | None, ...]) -> Filter:
    children: list[Filter] = []
    for f in filters:
        if f is None:
            continue  # lets callers compose optional parts: and_(user_filter, gt(...))
        if not isinstance(f, Filter):
            raise TypeError(f"not a filter: {f!r}")
        if isinstance(f, Logical) and f.op == op:
            children.extend(f.children)
        else:
            children.append(f)
    if not children:
        raise ValueError(f"{op} needs at least one filter")
    if len(children) == 1:
        return children[0]
    return Logical(op, tuple(children))


def and_(*filters: Filter | None) -> Filter:
    """All of ``filters`` (None entries are skipped; a single child is returned as is)."""
    return _logical("and", filters)


def or_(*filters: Filter | None) -> Filter:
    """Any of ``filters`` (None entries are skipped; a single child is returned as is)."""
    return _logical("or", filters)
