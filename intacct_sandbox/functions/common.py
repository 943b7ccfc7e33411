"""Helpers shared by function handlers: argument reading, field lists, record rendering."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lxml import etree

from ..config import LIMIT_READ_KEYS
from ..db import q
from ..errors import ErrorEntry, FunctionError, bl
from ..schema import FORMATTERS, FieldDef, ObjectDef, lookup_object
from ..xmlio import Node, child_text, children, leaf


def arg(element: etree._Element, name: str, default: str | None = None) -> str | None:
    """A direct child's text, matching the element name case-insensitively."""
    lowered = name.lower()
    for child in children(element):
        if child.tag.lower() == lowered:
            return (child.text or "").strip()
    return default


def find(element: etree._Element, name: str) -> etree._Element | None:
    lowered = name.lower()
    for child in children(element):
        if child.tag.lower() == lowered:
            return child
    return None


def require_object(name: str | None, *, errorno: str = "Query Failed") -> ObjectDef:
    obj = lookup_object(name or "")
    if obj is None:
        raise FunctionError(ErrorEntry(errorno, f"Object definition {name or '(empty)'} not found",
                                       "", "Use a valid object name."))
    return obj


def parse_pagesize(text: str | None, default: int, limit: int, function: str) -> int:
    if text is None or text == "":
        return default
    try:
        size = int(text)
    except ValueError:
        raise FunctionError(bl(f"Invalid pagesize '{text}': it must be an integer.")) from None
    if size < 1 or size > limit:
        raise FunctionError(bl(f"Invalid pagesize {size}: {function} allows 1 to {limit} records per page.",
                               f"Use a pagesize between 1 and {limit}."))
    return size


def field_list(obj: ObjectDef, text: str | None) -> list[FieldDef]:
    """``*`` or a comma list; unknown names fail the function (the message itself is the error number)."""
    if text is None or text.strip() in ("", "*"):
        return [obj.fields[name] for name in obj.star_fields]
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if obj.field(name) is None]
    if unknown:
        message = f"Invalid fields list {', '.join(unknown)}"
        raise FunctionError(ErrorEntry(message, f"{message} for object {obj.name}.", "",
                                       "Use field names of the object (see lookup)."))
    seen: dict[str, FieldDef] = {}
    for name in names:
        fdef = obj.field(name)
        seen.setdefault(fdef.name, fdef)
    return list(seen.values())


def parse_keys(text: str | None, limit: int = LIMIT_READ_KEYS) -> list[str]:
    keys = [k.strip() for k in (text or "").split(",") if k.strip()]
    unique = list(dict.fromkeys(keys))
    if len(unique) > limit:
        raise FunctionError(bl(f"Too many keys: {len(unique)} given, at most {limit} are allowed per call.",
                               f"Split the keys into calls of at most {limit}."))
    return unique


class RowPlan:
    """Which columns to select for a field list and how to format each output value."""

    def __init__(self, fdefs: Sequence[FieldDef]) -> None:
        self.fdefs = list(fdefs)
        self.columns: list[str] = []
        positions: dict[str, int] = {}
        self.slots: list[tuple[int, object] | None] = []
        for fdef in self.fdefs:
            if fdef.column is None:
                self.slots.append(None)
                continue
            if fdef.column not in positions:
                positions[fdef.column] = len(self.columns)
                self.columns.append(fdef.column)
            self.slots.append((positions[fdef.column], FORMATTERS[fdef.type]))

    def select_sql(self) -> str:
        return ", ".join(q(c) for c in self.columns) if self.columns else "NULL"

    def format(self, rows: Iterable[Sequence]) -> list[list[str]]:
        slots = self.slots
        out = []
        for row in rows:
            values = []
            for slot in slots:
                if slot is None:
                    values.append("")
                else:
                    value = row[slot[0]]
                    values.append("" if value is None else slot[1](value))
            out.append(values)
        return out


def nested_record(tag: str, names: Sequence[str], values: Sequence[str]) -> Node:
    """A record whose dotted fields are grouped into nested elements (read/readByName output)."""
    record = Node(tag)
    groups: dict[str, Node] = {}
    for name, value in zip(names, values, strict=False):
        parts = name.split(".")
        parent = record
        path = ""
        for part in parts[:-1]:
            path = f"{path}.{part}" if path else part
            if path not in groups:
                groups[path] = Node(part)
                parent.add(groups[path])
            parent = groups[path]
        parent.add(leaf(parts[-1], value))
    return record


def text_of(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


__all__ = ["arg", "find", "child_text", "children", "require_object", "parse_pagesize", "field_list",
           "parse_keys", "RowPlan", "nested_record", "text_of"]
