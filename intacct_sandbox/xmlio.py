"""XML in and out: a hardened lxml parser for requests and a fast text writer for responses.

Responses are written as text rather than through lxml because record pages (1000 rows x many fields)
dominate the cost of a request; the writer emits compact or indented output (``includewhitespace``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lxml import etree

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)
_RECOVER_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, recover=True, remove_comments=True
)

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_NEEDS_ESCAPE = re.compile(r"[&<>'\"]")


def parse(body: bytes) -> etree._Element:
    """Parse a request body; raises ``etree.XMLSyntaxError`` on malformed XML."""
    return etree.fromstring(body, _PARSER)


def parse_leniently(body: bytes) -> etree._Element | None:
    """Best-effort parse of a broken document, only to echo control values in the error response."""
    try:
        return etree.fromstring(body, _RECOVER_PARSER)
    except Exception:  # noqa: BLE001 - any failure just means nothing to echo
        return None


def escape(text: str) -> str:
    """Escape text content the way the gateway does (apostrophes as ``&#039;``)."""
    if not _NEEDS_ESCAPE.search(text):
        return text
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#039;")
        .replace('"', "&quot;")
    )


def child_text(element: etree._Element, tag: str, default: str | None = None) -> str | None:
    """Stripped text of the first direct child named ``tag`` (None/default when absent)."""
    for child in element:
        if child.tag == tag:
            return (child.text or "").strip()
    return default


def children(element: etree._Element) -> list[etree._Element]:
    """Element children only (comments and processing instructions were already removed)."""
    return [c for c in element if isinstance(c.tag, str)]


@dataclass
class Node:
    """An element to write: either text or children (never both)."""

    tag: str
    text: str | None = None
    attrs: Sequence[tuple[str, str]] = ()
    kids: list[Child] = field(default_factory=list)

    def add(self, *nodes: Child) -> Node:
        self.kids.extend(nodes)
        return self


@dataclass
class Records:
    """A run of flat records of one element name: the hot path of every read response."""

    tag: str
    fields: Sequence[str]
    rows: Iterable[Sequence[str]]


Child = Node | Records


def leaf(tag: str, text: str | None) -> Node:
    return Node(tag, "" if text is None else text)


def _attrs(attrs: Sequence[tuple[str, str]]) -> str:
    return "".join(f' {name}="{escape(value)}"' for name, value in attrs)


def render(root: Node, pretty: bool) -> bytes:
    """Serialise ``root`` with the XML declaration; indented when ``pretty``."""
    out: list[str] = [DECLARATION]
    _write(root, out, 0, pretty)
    if pretty:
        out.append("\n")
    return "".join(out).encode("utf-8")


def _write(node: Node, out: list[str], depth: int, pretty: bool) -> None:
    pad = ("\n" + "  " * depth) if (pretty and depth) else ""
    head = f"<{node.tag}{_attrs(node.attrs)}"
    if node.kids:
        out.append(f"{pad}{head}>")
        for kid in node.kids:
            if isinstance(kid, Records):
                _write_records(kid, out, depth + 1, pretty)
            else:
                _write(kid, out, depth + 1, pretty)
        out.append(f"\n{'  ' * depth}</{node.tag}>" if pretty else f"</{node.tag}>")
    elif node.text:
        out.append(f"{pad}{head}>{escape(node.text)}</{node.tag}>")
    else:
        out.append(f"{pad}{head}/>")


def _write_records(records: Records, out: list[str], depth: int, pretty: bool) -> None:
    pad = ("\n" + "  " * depth) if pretty else ""
    inner = ("\n" + "  " * (depth + 1)) if pretty else ""
    opens = [f"{inner}<{name}>" for name in records.fields]
    closes = [f"</{name}>" for name in records.fields]
    empties = [f"{inner}<{name}/>" for name in records.fields]
    start = f"{pad}<{records.tag}>"
    end = f"{pad}</{records.tag}>"
    append = out.append
    needs = _NEEDS_ESCAPE.search
    span = range(len(records.fields))
    for row in records.rows:
        append(start)
        for i in span:
            value = row[i]
            if value:
                if needs(value):
                    value = escape(value)
                append(opens[i] + value + closes[i])
            else:
                append(empties[i])
        append(end)
