"""The streaming parser against a plain tree oracle: same records, same fields, however the body is cut.

The parser takes the common flat record in one fast loop and everything else (nested blocks, repeated fields,
records without fields) another way, and reads the body in chunks as they arrive. The oracle parses the whole
body into a tree, converts every record with `nested_record` and reads its fields the general way: the slow,
simple way. Any difference in what a caller gets back is a parser fault. `INTACCT_FUZZ_EXAMPLES` sets the number
of bodies, as for tests/intacct/test_fuzz.py.
"""

from __future__ import annotations

import os
from xml.sax.saxutils import escape

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from sync_engine.intacct.records import flat_from_nested, nested_record
from sync_engine.intacct.response import parse_chunks

NAMES = ["RECORDNO", "CUSTOMERID", "NAME", "recordno", "TOTALDUE", "DISPLAYCONTACT.EMAIL1"]
FIELDS = ["RECORDNO", "CUSTOMERID", "NAME", "TOTALDUE", "DISPLAYCONTACT.EMAIL1", "DISPLAYCONTACT.PHONE1"]

texts = st.one_of(st.just(""), st.just("  \n "), st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                                                       max_size=12))
leaf = st.tuples(st.sampled_from(NAMES), texts).map(lambda nt: f"<{nt[0]}>{escape(nt[1])}</{nt[0]}>")
block = st.lists(leaf, max_size=3).map(lambda kids: "<DISPLAYCONTACT>" + "".join(kids) + "</DISPLAYCONTACT>")
items = st.lists(st.tuples(st.sampled_from(NAMES), texts), min_size=1, max_size=3).map(
    lambda kids: "<ITEMS>" + "".join(f"<item><{n}>{escape(t)}</{n}></item>" for n, t in kids) + "</ITEMS>")
field = st.one_of(leaf, leaf, leaf, block, items)
record = st.one_of(
    st.lists(field, max_size=7).map(lambda fs: "<CUSTOMER>" + "".join(fs) + "</CUSTOMER>"),
    st.just("<CUSTOMER/>"),
    st.just("<customer>  </customer>"),
)
result = st.tuples(st.lists(record, max_size=6), st.booleans()).map(
    lambda rb: "<result><status>success</status><function>query</function><controlid>c</controlid>"
               + ('<data listtype="CUSTOMER" count="1">' + "".join(rb[0]) + "</data>" if rb[1] or rb[0] else
                  '<data listtype="CUSTOMER" count="0"/>') + "</result>")
bodies = st.lists(result, min_size=1, max_size=3).map(
    lambda rs: ('<?xml version="1.0" encoding="UTF-8"?><response><control><status>success</status></control>'
                "<operation><authentication><status>success</status><userid>U</userid><companyid>C</companyid>"
                "</authentication>" + "".join(rs) + "</operation></response>").encode())


def _oracle(body: bytes) -> list[list[etree._Element]]:
    root = etree.fromstring(body)
    return [list(data) for data in root.xpath("/response/operation/result/data")]


def _cut(body: bytes, sizes: list[int]) -> list[bytes]:
    chunks, at = [], 0
    for size in sizes:
        chunks.append(body[at:at + size])
        at += size
    return [*chunks, body[at:]]


@settings(max_examples=int(os.environ.get("INTACCT_FUZZ_EXAMPLES", "300")), deadline=None)  # as test_fuzz
@given(body=bodies, sizes=st.lists(st.integers(1, 400), max_size=12))
def test_records_match_a_tree_oracle_however_the_body_arrives(body, sizes):
    parsed = parse_chunks(_cut(body, sizes))
    expected = _oracle(body)
    assert len(parsed.results) == len(expected)
    for result, elements in zip(parsed.results, expected, strict=True):
        assert result.records == [nested_record(el) for el in elements]
        # the fast path for flat records against the general one (a plain dict is always read field by field)
        assert [flat_from_nested(r, FIELDS) for r in result.records] == [
            flat_from_nested(dict(nested_record(el)), FIELDS) for el in elements]


def test_a_flat_page_and_a_nested_page_read_the_same_fields():
    flat = ("<CUSTOMER><RECORDNO>1</RECORDNO><NAME>A &amp; B</NAME><DISPLAYCONTACT.EMAIL1>a@b.c"
            "</DISPLAYCONTACT.EMAIL1><TOTALDUE> </TOTALDUE></CUSTOMER>")
    nested = ("<CUSTOMER><RECORDNO>1</RECORDNO><NAME>A &amp; B</NAME><DISPLAYCONTACT><EMAIL1>a@b.c</EMAIL1>"
              "</DISPLAYCONTACT><TOTALDUE> </TOTALDUE></CUSTOMER>")
    pages = []
    for rec in (flat, nested):
        body = (f'<response><control><status>success</status></control><operation><result><status>success'
                f'</status><function>query</function><data>{rec}</data></result></operation></response>').encode()
        [result] = parse_chunks([body]).results
        pages.append([flat_from_nested(r, FIELDS) for r in result.records])
    assert pages[0] == pages[1] == [{"RECORDNO": "1", "CUSTOMERID": None, "NAME": "A & B",
                                     "DISPLAYCONTACT.EMAIL1": "a@b.c", "TOTALDUE": None,
                                     "DISPLAYCONTACT.PHONE1": None}]
