"""Turning ``<data>`` record elements into Python dicts (case-insensitive, nulls as None).

Two shapes: *flat* records keyed by exactly the field names a caller asked for (used by paging),
and *nested* records mirroring the element tree (used by ``read``/``readByName``), where owned
line collections such as ``ARINVOICEITEMS`` become lists of dicts.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

Value = str | None
Nested = dict[str, object]


class FlatRecord(dict):
    """A record the response parser found flat: distinct fields, each text or None (no blocks, no repeats).

    The type alone tells :func:`flat_from_nested` that no value needs unpacking."""


def _tag(el: etree._Element) -> str:
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def record_elements(data: etree._Element | None) -> list[etree._Element]:
    """The record children of a ``<data>`` element (one or many alike)."""
    if data is None:
        return []
    return [c for c in data if isinstance(c.tag, str)]


def _leaf_text(el: etree._Element) -> Value:
    if el.text is None or el.text.strip() == "":
        return None
    return el.text


def _lookup(record: etree._Element, index: dict[str, etree._Element], name: str) -> Value:
    el = index.get(name.lower())
    if el is not None:
        return _leaf_text(el)
    if "." in name:
        # Some responses nest dotted paths (<DISPLAYCONTACT><EMAIL1>) instead of flat <DISPLAYCONTACT.EMAIL1>.
        current: etree._Element | None = record
        for part in name.split("."):
            nxt = None
            for c in current if current is not None else ():
                if isinstance(c.tag, str) and _tag(c).lower() == part.lower():
                    nxt = c
                    break
            current = nxt
            if current is None:
                return None
        return _leaf_text(current) if current is not None and len(current) == 0 else None
    return None


def flat_record(record: etree._Element, fields: Sequence[str]) -> dict[str, Value]:
    """``{requested field name: text or None}`` for one record element; missing/empty -> None."""
    index: dict[str, etree._Element] = {}
    for c in record:
        if isinstance(c.tag, str):
            index.setdefault(_tag(c).lower(), c)
    return {name: _lookup(record, index, name) for name in fields}


def _is_collection(el: etree._Element, kids: list[etree._Element], names: list[str] | None = None) -> bool:
    names = names if names is not None else [_tag(k) for k in kids]
    if len(names) > 1 and names[0] != names[1] and names[0].lower() != names[1].lower():
        return False  # two different names: a structure (the common case, decided without building a set)
    lowered = {n.lower() for n in names}
    if len(lowered) != 1:
        return False
    only = lowered.pop()
    # ARINVOICEITEMS/arinvoiceitem, ARPYMTDETAILS/arpymtdetail: a plural container, even with one item.
    return len(kids) > 1 or _tag(el).lower() in (only + "s", only + "es")


def nested_value(el: etree._Element) -> object:
    """An element as text/None (leaf), list (collection container) or dict (structure)."""
    kids = [k for k in el if isinstance(k.tag, str)]
    if not kids:
        return _leaf_text(el)
    names = [_tag(k) for k in kids]  # each child's local name, worked out once (records have many fields)
    if _is_collection(el, kids, names):
        return [nested_value(k) if len(k) else {name.upper(): _leaf_text(k)}
                for k, name in zip(kids, names, strict=False)]
    out: Nested = {}
    repeated: set[str] = set()
    for k, name in zip(kids, names, strict=False):
        key = name.upper()
        value = nested_value(k) if len(k) else _leaf_text(k)  # a leaf without the recursive call
        if key in repeated:
            values = out[key]
            assert isinstance(values, list)  # made a list when the key repeated
            values.append(value)
        elif key in out:
            out[key] = [out[key], value]
            repeated.add(key)
        else:
            out[key] = value
    return out


def nested_record(record: etree._Element) -> Nested:
    """A record element as a dict with UPPERCASE keys; nested blocks as dicts, line collections as lists."""
    value = nested_value(record)
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {_tag(record).upper(): value}
    return {}


def flat_from_nested(record: Nested, fields: Sequence[str]) -> dict[str, Value]:
    """:func:`flat_record` for a record already turned into a dict by :func:`nested_record` while parsing."""
    if type(record) is FlatRecord:
        try:
            return {name: record[name] for name in fields}  # a flat record: text or None
        except KeyError:
            pass
    upper: dict[str, object] | None = None
    out: dict[str, Value] = {}
    for name in fields:
        key = name.upper()
        if key in record:
            value = record[key]
        else:
            if upper is None:
                upper = {k.upper(): v for k, v in record.items()}
            value = upper.get(key)
            if value is None and "." in key:
                # Some responses nest dotted paths (<DISPLAYCONTACT><EMAIL1>) instead of flat <DISPLAYCONTACT.EMAIL1>.
                current: object = record
                for part in key.split("."):
                    current = current.get(part) if isinstance(current, dict) else None
                value = current
        if isinstance(value, list):
            value = value[0] if value else None  # a repeated element: the first, as the element reader did
        out[name] = value if isinstance(value, str) else None
    return out
