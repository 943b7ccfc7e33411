"""Parser for the ``readByQuery`` string language (``STATE = 'Posted' AND NOT (TOTALDUE > 10)``)."""

from __future__ import annotations

import re

from .filters import And, Cond, Expr, Not, Or

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<str>'(?:\\.|[^'\\])*')"
    r"|(?P<op><>|!=|<=|>=|=|<|>)"
    r"|(?P<punct>[(),])"
    r"|(?P<num>-?\d+(?:\.\d+)?(?![\w.]))"
    r"|(?P<word>[A-Za-z_][\w.]*)"
    r")"
)
_OPS = {"=": "equalto", "!=": "notequalto", "<>": "notequalto", "<": "lessthan", "<=": "lessthanorequalto",
        ">": "greaterthan", ">=": "greaterthanorequalto"}


class QuerySyntaxError(Exception):
    pass


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QuerySyntaxError(f"unexpected character at position {pos + 1}: {text[pos:pos + 10]!r}")
        pos = match.end()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str":
            tokens.append(("value", _unquote(value)))
        elif kind == "num":
            tokens.append(("value", value))
        elif kind == "word":
            tokens.append(("kw", value.upper()) if value.upper() in _KEYWORDS else ("word", value))
        else:
            tokens.append((kind, value))
    return tokens


_KEYWORDS = {"AND", "OR", "NOT", "LIKE", "IN", "IS", "NULL"}


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("unexpected end of query")
        self.pos += 1
        return token

    def accept(self, kind: str, value: str | None = None) -> bool:
        token = self.peek()
        if token and token[0] == kind and (value is None or token[1] == value):
            self.pos += 1
            return True
        return False

    def expect(self, kind: str, value: str) -> None:
        if not self.accept(kind, value):
            found = self.peek()
            raise QuerySyntaxError(f"expected {value!r} but found {found[1] if found else 'end of query'!r}")

    def parse(self) -> Expr:
        expr = self.or_expr()
        if self.peek() is not None:
            raise QuerySyntaxError(f"unexpected {self.peek()[1]!r}")
        return expr

    def or_expr(self) -> Expr:
        items = [self.and_expr()]
        while self.accept("kw", "OR"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(items)

    def and_expr(self) -> Expr:
        items = [self.unary()]
        while self.accept("kw", "AND"):
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(items)

    def unary(self) -> Expr:
        if self.accept("kw", "NOT"):
            return Not(self.unary())
        if self.accept("punct", "("):
            expr = self.or_expr()
            self.expect("punct", ")")
            return expr
        return self.predicate()

    def value(self) -> str:
        kind, value = self.take()
        if kind in ("value", "word"):
            return value
        raise QuerySyntaxError(f"expected a value but found {value!r}")

    def predicate(self) -> Expr:
        kind, name = self.take()
        if kind != "word":
            raise QuerySyntaxError(f"expected a field name but found {name!r}")
        negate = self.accept("kw", "NOT")
        if self.accept("kw", "LIKE"):
            return Cond(name, "notlike" if negate else "like", [self.value()])
        if self.accept("kw", "IN"):
            self.expect("punct", "(")
            values = [self.value()]
            while self.accept("punct", ","):
                values.append(self.value())
            self.expect("punct", ")")
            return Cond(name, "notin" if negate else "in", values)
        if negate:
            raise QuerySyntaxError("NOT after a field name must be followed by LIKE or IN")
        if self.accept("kw", "IS"):
            is_not = self.accept("kw", "NOT")
            self.expect("kw", "NULL")
            return Cond(name, "isnotnull" if is_not else "isnull")
        kind, op = self.take()
        if kind != "op":
            raise QuerySyntaxError(f"expected an operator after {name} but found {op!r}")
        return Cond(name, _OPS[op], [self.value()])


def parse_query(text: str | None) -> Expr | None:
    """Parse a readByQuery ``<query>``; empty text means no filter."""
    if text is None or not text.strip():
        return None
    return _Parser(tokenize(text)).parse()
