"""Paging strategies: small objects that turn one logical read into a stream of pages.

Each strategy gets a ``send`` callable that executes one read function (with retries) and returns
its successful :class:`~.response.Result`, or raises. The default is :class:`KeysetQueryPager`;
see README.md for why and for the measured request counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from . import functions as fn
from .errors import ResponseFormatError
from .filters import Filter, and_, gt
from .records import Value, flat_from_nested
from .response import Result

Send = Callable[[fn.Function], Result]
Page = list[dict[str, Value]]


class Pager(Protocol):
    """A paging strategy."""

    def pages(self, send: Send, object: str, fields: Sequence[str], filter: Filter | str | None,
              page_size: int) -> Iterator[Page]:
        """Yield pages of flat records keyed by exactly ``fields``."""
        ...


def _attr_int(result: Result, name: str) -> int | None:
    for key, value in result.data_attrs.items():
        if key.lower() == name.lower():
            try:
                return int(value)
            except ValueError:
                raise ResponseFormatError(f"{result.function}: attribute {name}={value!r} is not a number") from None
    return None


def _with_key(fields: Sequence[str], key: str) -> list[str]:
    return list(fields) if any(f.upper() == key for f in fields) else [*fields, key]


class KeysetQueryPager:
    """``query`` ordered by RECORDNO ascending, each page asking for ``RECORDNO > last seen``, offset 0.

    Rows changing between pages are neither skipped nor repeated (unlike offset paging), and every
    page is an independent, index-friendly query.
    """

    key = "RECORDNO"

    def pages(self, send: Send, object: str, fields: Sequence[str], filter: Filter | str | None,
              page_size: int) -> Iterator[Page]:
        if isinstance(filter, str):
            raise TypeError("query paging takes a structured Filter, not a readByQuery string")
        select = _with_key(fields, self.key)
        last: int | None = None
        while True:
            page_filter = and_(filter, gt(self.key, last)) if last is not None else filter
            result = send(fn.query(object, select, filter=page_filter, order_by=((self.key, "asc"),),
                                   page_size=page_size))
            rows, result.records = result.records, []  # the page replaces the parsed rows, not joins them
            page: Page = []
            for i, row in enumerate(rows):
                rows[i] = None  # type: ignore[call-overload]  # free each parsed row as its page row is made
                rec = flat_from_nested(row, select)
                raw = rec.get(self.key) if self.key in rec else next(
                    (v for k, v in rec.items() if k.upper() == self.key), None)
                try:
                    keyval = int(raw or "")
                except ValueError:
                    raise ResponseFormatError(f"{object}: record without a numeric {self.key} ({raw!r})") from None
                if last is not None and keyval <= last:
                    raise ResponseFormatError(
                        f"{object}: {self.key} {keyval} not after {last}; the gateway ignored the ordering/filter")
                last = keyval
                page.append(rec if len(select) == len(fields) else {f: rec[f] for f in fields})
            if page:
                yield page
            remaining = _attr_int(result, "numremaining")
            if not rows or remaining == 0 or (remaining is None and len(rows) < page_size):
                return


class OffsetQueryPager:
    """``query`` ordered by RECORDNO with a growing ``offset`` (the documented way; can skip/repeat rows)."""

    key = "RECORDNO"

    def pages(self, send: Send, object: str, fields: Sequence[str], filter: Filter | str | None,
              page_size: int) -> Iterator[Page]:
        if isinstance(filter, str):
            raise TypeError("query paging takes a structured Filter, not a readByQuery string")
        offset = 0
        while True:
            result = send(fn.query(object, list(fields), filter=filter, order_by=((self.key, "asc"),),
                                   page_size=page_size, offset=offset))
            rows, result.records = result.records, []
            if rows:
                yield [flat_from_nested(row, fields) for row in rows]
            offset += len(rows)
            remaining = _attr_int(result, "numremaining")
            if not rows or remaining == 0 or (remaining is None and len(rows) < page_size):
                return


class ReadByQueryPager:
    """``readByQuery`` at up to 1000 rows, then ``readMore`` with the resultId until nothing remains.

    Takes a readByQuery query *string* as the filter (stored codes, quoting per section 6.1).
    """

    def pages(self, send: Send, object: str, fields: Sequence[str], filter: Filter | str | None,
              page_size: int) -> Iterator[Page]:
        if isinstance(filter, Filter):
            raise TypeError("readByQuery paging takes a query string, not a structured Filter")
        size = min(page_size, fn.MAX_READ_BY_QUERY_PAGE)
        func = fn.read_by_query(object, list(fields), filter or "", page_size=size)
        while True:
            result = send(func)
            rows, result.records = result.records, []
            if rows:
                yield [flat_from_nested(row, fields) for row in rows]
            remaining = _attr_int(result, "numremaining")
            result_id = next((v for k, v in result.data_attrs.items() if k.lower() == "resultid"), "")
            if not rows or not remaining or not result_id:
                return
            func = fn.read_more(result_id)


DEFAULT_PAGER = KeysetQueryPager()
