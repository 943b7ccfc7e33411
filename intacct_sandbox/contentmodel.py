"""A small content-model checker: element order, occurrences, required attributes, enumerations, text types.

The request rules themselves live in ``requestrules.py``; this module only knows how to match an element's
children against a model (``El``, ``Seq``, ``Choice``, ``All``, ``AnyContent``) and reports the first
violation as a control-level schema error, worded like the gateway's (libxml2) messages.

Matching walks sets of positions (an NFA), so optional and repeated parts never backtrack exponentially.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from lxml import etree

from .envelope import schema_error

UNBOUNDED = None


@dataclass(frozen=True)
class Attr:
    """An attribute: ``required``, an enumeration (``values``) and/or a maximum length."""

    name: str
    required: bool = False
    values: tuple[str, ...] = ()
    max_length: int | None = None


@dataclass(frozen=True)
class El:
    """An element; ``body`` None = text only. ``kind`` "bool" = xs:boolean text; "any" = any content."""

    name: str
    min: int = 1
    max: int | None = 1
    body: "Model | None" = None
    kind: str = "text"
    attrs: tuple[Attr, ...] = ()
    max_length: int | None = None


@dataclass(frozen=True)
class Seq:
    items: tuple["Model", ...]
    min: int = 1
    max: int | None = 1


@dataclass(frozen=True)
class Choice:
    items: tuple["Model", ...]
    min: int = 1
    max: int | None = 1


@dataclass(frozen=True)
class All:
    """Each element at most once, in any order (``El.min`` 1 = required)."""

    items: tuple[El, ...]


@dataclass(frozen=True)
class AnyContent:
    """Any element children (``min`` of them at least), not checked further (generic create/update)."""

    min: int = 0


Model = Union[El, Seq, Choice, All, AnyContent]


def seq(*items: Model, min: int = 1, max: int | None = 1) -> Seq:  # noqa: A002 - schema vocabulary
    return Seq(tuple(items), min, max)


def choice(*items: Model, min: int = 1, max: int | None = 1) -> Choice:  # noqa: A002
    return Choice(tuple(items), min, max)


def opt(name: str, **kw) -> El:
    return El(name, 0, 1, **kw)


def req(name: str, **kw) -> El:
    return El(name, 1, 1, **kw)


@dataclass
class _Walk:
    kids: list[etree._Element]
    furthest: int = 0
    decls: dict[str, El] = field(default_factory=dict)
    tried: dict[int, list[str]] = field(default_factory=dict)  # names tried at each position (for messages)


def _repeat(step, positions: frozenset[int], lo: int, hi: int | None) -> frozenset[int]:
    out: set[int] = set(positions) if lo == 0 else set()
    current, seen = positions, set(positions)
    count = 0
    while current and (hi is None or count < hi):
        current = step(current)
        count += 1
        if count >= lo:
            out |= current
        fresh = current - seen
        if hi is None and not fresh:
            break
        seen |= current
    return frozenset(out)


def _match(model: Model, walk: _Walk, positions: frozenset[int]) -> frozenset[int]:
    kids = walk.kids
    if isinstance(model, El):
        walk.decls.setdefault(model.name, model)

        def one(ps: frozenset[int]) -> frozenset[int]:
            for p in ps:
                names = walk.tried.setdefault(p, [])
                if model.name not in names:
                    names.append(model.name)
            nxt = frozenset(p + 1 for p in ps if p < len(kids) and kids[p].tag == model.name)
            if nxt:
                walk.furthest = max(walk.furthest, max(nxt))
            return nxt
        return _repeat(one, positions, model.min, model.max)
    if isinstance(model, Seq):
        def once(ps: frozenset[int]) -> frozenset[int]:
            for item in model.items:
                ps = _match(item, walk, ps)
                if not ps:
                    break
            return ps
        return _repeat(once, positions, model.min, model.max)
    if isinstance(model, Choice):
        def either(ps: frozenset[int]) -> frozenset[int]:
            out: set[int] = set()
            for item in model.items:
                out |= _match(item, walk, ps)
            return frozenset(out)
        return _repeat(either, positions, model.min, model.max)
    raise TypeError(f"unsupported model {model!r}")


def _expected(model: Model) -> list[str]:
    if isinstance(model, El):
        return [model.name]
    if isinstance(model, (Seq, Choice)):
        return [n for item in model.items for n in _expected(item)]
    if isinstance(model, All):
        return [e.name for e in model.items]
    return []


def _fail(message: str, el: etree._Element) -> None:
    raise schema_error(f"Error 1871: {message}", el.sourceline)


def _check_attrs(el: etree._Element, attrs: tuple[Attr, ...]) -> None:
    declared = {a.name: a for a in attrs}
    for name in el.attrib:
        if name not in declared:
            _fail(f"Element '{el.tag}', attribute '{name}': The attribute '{name}' is not allowed", el)
    for a in attrs:
        value = el.get(a.name)
        if value is None:
            if a.required:
                _fail(f"Element '{el.tag}': The attribute '{a.name}' is required but missing", el)
            continue
        if a.values and value.strip() not in a.values:
            _fail(f"Element '{el.tag}', attribute '{a.name}': [facet 'enumeration'] The value '{value}' is not an "
                  f"element of the set {{{', '.join(repr(v) for v in a.values)}}}", el)
        if a.max_length is not None and len(value) > a.max_length:
            _fail(f"Element '{el.tag}', attribute '{a.name}': [facet 'maxLength'] The value has a length of "
                  f"'{len(value)}'; this exceeds the allowed maximum length of '{a.max_length}'", el)


_BOOLEAN = {"true", "false", "1", "0"}


def check(el: etree._Element, decl: El) -> None:
    """Raise a control-level schema error if ``el`` does not follow ``decl``."""
    _check_attrs(el, decl.attrs)
    kids = [c for c in el if isinstance(c.tag, str)]
    if decl.kind == "any":
        return
    if decl.body is None:
        if kids:
            _fail(f"Element '{el.tag}': Element content is not allowed, because the content type is a simple type"
                  if decl.kind == "bool" else f"Element '{kids[0].tag}': This element is not expected", kids[0])
        value = el.text or ""
        if decl.kind == "bool" and value.strip() not in _BOOLEAN:
            _fail(f"Element '{el.tag}': '{value}' is not a valid value of the atomic type 'xs:boolean'", el)
        if decl.max_length is not None and len(value) > decl.max_length:
            _fail(f"Element '{el.tag}': [facet 'maxLength'] The value has a length of '{len(value)}'; this exceeds "
                  f"the allowed maximum length of '{decl.max_length}'", el)
        return
    body = decl.body
    if isinstance(body, AnyContent):
        if len(kids) < body.min:
            _fail(f"Element '{el.tag}': Missing child element(s)", el)
        return
    if isinstance(body, All):
        by_name = {e.name: e for e in body.items}
        seen: set[str] = set()
        for kid in kids:
            if kid.tag not in by_name or kid.tag in seen:
                _fail(f"Element '{kid.tag}': This element is not expected", kid)
            seen.add(kid.tag)
        missing = [e.name for e in body.items if e.min and e.name not in seen]
        if missing:
            _fail(f"Element '{el.tag}': Missing child element(s). Expected is ( {missing[0]} )", el)
        for kid in kids:
            check(kid, by_name[kid.tag])
        return
    walk = _Walk(kids)
    ends = _match(body, walk, frozenset({0}))
    if len(kids) not in ends:
        expected = ", ".join(walk.tried.get(walk.furthest) or _expected(body))
        if walk.furthest < len(kids):
            bad = kids[walk.furthest]
            _fail(f"Element '{bad.tag}': This element is not expected. Expected is one of ( {expected} )", bad)
        _fail(f"Element '{el.tag}': Missing child element(s). Expected is one of ( {expected} )", el)
    for kid in kids:
        check(kid, walk.decls[kid.tag])
