"""Paging strategies over HTTP against a small in-test gateway that serves query/readByQuery/readMore."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from lxml import etree

from sync_engine.intacct import (
    IntacctClient,
    IntacctCredentials,
    KeysetQueryPager,
    OffsetQueryPager,
    ReadByQueryPager,
    ResponseFormatError,
    RetryPolicy,
)
from sync_engine.intacct import filters as f

from . import samples as s
from .canned import CannedServer, FakeClock, Reply


class MiniGateway:
    """Serves CUSTOMER rows {RECORDNO, NAME, STATUS}; understands RECORDNO/STATUS comparisons only."""

    def __init__(self, n: int) -> None:
        self.rows = [{"RECORDNO": i, "NAME": f"Customer {i}", "STATUS": "active" if i % 3 else "inactive"}
                     for i in range(1, n + 1)]
        self.after_page: Callable[[MiniGateway], None] | None = None
        self._results: dict[str, list[dict]] = {}
        self._ids = itertools.count(1)

    def _match(self, cond: etree._Element | None, row: dict) -> bool:
        if cond is None:
            return True
        if cond.tag == "and":
            return all(self._match(c, row) for c in cond)
        if cond.tag == "or":
            return any(self._match(c, row) for c in cond)
        field, value = cond.findtext("field"), cond.findtext("value")
        actual = row[field]
        target = int(value) if isinstance(actual, int) else value
        return {"equalto": actual == target, "greaterthan": actual > target,
                "notequalto": actual != target}[cond.tag]

    def _render(self, rows: list[dict], fields: list[str], tag: str) -> str:
        return "".join(
            f"<{tag}>" + "".join(f"<{fl}>{r.get(fl, '')}</{fl}>" for fl in fields) + f"</{tag}>" for r in rows
        )

    def __call__(self, body: bytes) -> Reply:
        root = etree.fromstring(body)
        parts = []
        for func in root.findall("operation/content/function"):
            el, cid = func[0], func.get("controlid")
            if el.tag == "query":
                fields = [x.text for x in el.find("select")]
                flt = el.find("filter")
                matching = sorted((r for r in self.rows if self._match(flt[0] if flt is not None else None, r)),
                                  key=lambda r: r["RECORDNO"])
                offset, size = int(el.findtext("offset")), int(el.findtext("pagesize"))
                page = matching[offset:offset + size]
                remaining = max(0, len(matching) - offset - len(page))
                data = (f'<data listtype="CUSTOMER" totalcount="{len(matching)}" offset="{offset}" '
                        f'count="{len(page)}" numremaining="{remaining}">'
                        + self._render(page, fields, "CUSTOMER") + "</data>")
            else:
                if el.tag == "readByQuery":
                    fields = el.findtext("fields").split(",")
                    size = int(el.findtext("pagesize"))
                    rid = f"r{next(self._ids)}"
                    self._results[rid] = [dict(r, _f=fields, _size=size) for r in sorted(
                        self.rows, key=lambda r: r["RECORDNO"])]  # snapshot
                else:
                    rid = el.findtext("resultId")
                pending = self._results[rid]
                size, fields = pending[0]["_size"], pending[0]["_f"] if pending else ([], 0)
                page, self._results[rid] = pending[:size], pending[size:]
                remaining = len(self._results[rid])
                data = (f'<data listtype="customer" count="{len(page)}" totalcount="?" numremaining="{remaining}" '
                        f'resultId="{rid if remaining else ""}">' + self._render(page, fields, "customer") + "</data>")
            parts.append(s.result(el.tag, cid, data))
        if self.after_page:
            self.after_page(self)
        return Reply(s.response(*parts))


def make_client(server: CannedServer) -> IntacctClient:
    creds = IntacctCredentials(server.url, "S", "spw", "CO", "U", "upw")
    return IntacctClient(creds, clock=FakeClock(), retry=RetryPolicy(max_attempts=2, initial_delay=0))


@pytest.fixture
def gateway():
    gw = MiniGateway(1050)
    with CannedServer() as server:
        server.default = gw
        yield gw, server


def test_keyset_paging_reaches_the_last_record_with_no_gap_or_repeat(gateway):
    gw, server = gateway
    c = make_client(server)
    rows = list(c.iter_records("CUSTOMER", ["NAME", "STATUS"], page_size=100))
    assert len(rows) == 1050
    assert rows[0] == {"NAME": "Customer 1", "STATUS": "active"} and rows[-1]["NAME"] == "Customer 1050"
    assert len({r["NAME"] for r in rows}) == 1050
    assert server.count("query") == 11
    bodies = [r.body for r in server.seen if "query" in r.functions]
    assert b"greaterthan" not in bodies[0] and b"<value>100</value>" in bodies[1]
    assert all(b"<offset>0</offset>" in b for b in bodies)


def test_keyset_with_filter_and_exact_page_boundary():
    gw = MiniGateway(300)
    with CannedServer() as server:
        server.default = gw
        c = make_client(server)
        rows = list(c.iter_records("CUSTOMER", ["RECORDNO", "STATUS"], filter=f.eq("STATUS", "inactive"),
                                   page_size=50))
        assert [int(r["RECORDNO"]) for r in rows] == list(range(3, 301, 3))
        assert server.count("query") == 2  # 100 rows: the second page reports numremaining=0
        assert c.count("CUSTOMER", f.eq("STATUS", "inactive")) == 100


def test_rows_changing_between_pages_keyset_vs_offset():
    def churn(gw: MiniGateway) -> None:
        # After the first page: row 5 (already read) is deleted and row 10000 is added at the end.
        if not getattr(gw, "churned", False):
            gw.churned = True
            gw.rows = [r for r in gw.rows if r["RECORDNO"] != 5]
            gw.rows.append({"RECORDNO": 10_000, "NAME": "Late", "STATUS": "active"})

    def read_all(pager) -> list[int]:
        gw = MiniGateway(250)
        gw.after_page = churn
        with CannedServer() as server:
            server.default = gw
            c = make_client(server)
            return [int(r["RECORDNO"]) for r in c.iter_records("CUSTOMER", ["RECORDNO"], page_size=100, pager=pager)]

    keyset = read_all(KeysetQueryPager())
    assert keyset == [*range(1, 251), 10_000]  # nothing skipped, nothing repeated
    offset = read_all(OffsetQueryPager())
    assert 101 not in offset  # offset paging silently skipped the row that slid back into page 1
    assert len(offset) == len(set(offset))


def test_read_by_query_pager(gateway):
    gw, server = gateway
    c = make_client(server)
    rows = list(c.iter_records("CUSTOMER", ["RECORDNO", "NAME"], page_size=1000, pager=ReadByQueryPager()))
    assert len(rows) == 1050 and rows[-1]["RECORDNO"] == "1050"
    assert server.count("readByQuery") == 1 and server.count("readMore") == 1


def test_iterator_streams_page_by_page(gateway):
    gw, server = gateway
    c = make_client(server)
    it = c.iter_records("CUSTOMER", ["RECORDNO"], page_size=100)
    first = next(it)
    assert first == {"RECORDNO": "1"}
    assert server.count("query") == 1  # nothing fetched beyond the first page yet


def test_keyset_detects_a_gateway_ignoring_the_filter():
    def stuck(body: bytes) -> Reply:
        root = etree.fromstring(body)
        cid = root.find("operation/content/function").get("controlid")
        data = ('<data listtype="CUSTOMER" totalcount="9" offset="0" count="1" numremaining="8">'
                "<CUSTOMER><RECORDNO>1</RECORDNO></CUSTOMER></data>")
        return Reply(s.response(s.result("query", cid, data)))

    with CannedServer() as server:
        server.default = stuck
        c = make_client(server)
        with pytest.raises(ResponseFormatError, match="not after"):
            list(c.iter_records("CUSTOMER", ["RECORDNO"], page_size=1))


def test_requests_per_10k_records():
    """The figure behind the paging choice in README.md (sign-in excluded)."""
    counts = {}
    for name, pager, size in (("keyset query", KeysetQueryPager(), 2000),
                              ("offset query", OffsetQueryPager(), 2000),
                              ("readByQuery+readMore", ReadByQueryPager(), 1000)):
        with CannedServer() as server:
            server.default = MiniGateway(10_000)
            c = make_client(server)
            assert sum(1 for _ in c.iter_records("CUSTOMER", ["RECORDNO", "NAME"], page_size=size,
                                                 pager=pager)) == 10_000
            counts[name] = len([r for r in server.seen if not r.is_login])
    assert counts == {"keyset query": 5, "offset query": 5, "readByQuery+readMore": 10}
