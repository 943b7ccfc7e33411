"""Property-based fuzzing of the response parser and of the client over real HTTP.

Bodies are real-shaped gateway responses (pages, keys, errors at every level, sessions) mutated at the byte
and the structure level (truncation, repeats, hostile inserts: DTDs, entities, deep nesting, attribute floods,
odd timestamps and counters, bad encodings). Properties: every failure is one of the client's typed errors
(``MalformedResponse`` from the parser, ``IntacctError`` from the client), and no example hangs (a 5 s alarm).

``make test`` runs a short pass; ``INTACCT_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/intacct/test_fuzz.py``
is the long run (the client property uses a fifth of that number, each example being an HTTP exchange).
The peak-memory property (a 50 MB page) runs in a subprocess: ``tests/intacct/rss_probe.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_engine.intacct import IntacctClient, IntacctCredentials, IntacctError, RetryPolicy
from sync_engine.intacct import errors as e
from sync_engine.intacct import functions as fn
from sync_engine.intacct.records import flat_from_nested
from sync_engine.intacct.response import MalformedResponse, parse_response
from sync_engine.intacct.session import session_from_response

from . import samples as s
from .canned import CannedServer, FakeClock, Reply

EXAMPLES = int(os.environ.get("INTACCT_FUZZ_EXAMPLES", "300"))
HANG_SECONDS = 5

_RECORD = ("<CUSTOMER><RECORDNO>{n}</RECORDNO><CUSTOMERID>C-{n}</CUSTOMERID><NAME>Name &amp; {n}</NAME>"
           "<WHENMODIFIED>03/01/2024 10:00:00</WHENMODIFIED><DISPLAYCONTACT><EMAIL1>a@b.c</EMAIL1></DISPLAYCONTACT>"
           "</CUSTOMER>")
_PAGE = ('<data listtype="CUSTOMER" totalcount="3" offset="0" count="3" numremaining="0">'
         + "".join(_RECORD.format(n=n) for n in (1, 2, 3)) + "</data>")
_RBQ = ('<data listtype="customer" count="2" totalcount="5" numremaining="3" resultId="RID-1">'
        + "".join(_RECORD.format(n=n).replace("CUSTOMER>", "customer>") for n in (4, 5)) + "</data>")

TEMPLATES: list[bytes] = [
    s.response(s.result("query", "@CID@", _PAGE)),
    s.response(s.result("readByQuery", "@CID@", _RBQ)),
    s.response(s.result("create_invoice", "@CID@", "<key>4711</key>")),
    s.response(s.result("create", "@CID@", '<data listtype="objects" count="1"><customer><RECORDNO>9</RECORDNO>'
                                           "<CUSTOMERID>C-9</CUSTOMERID></customer></data>")),
    s.response(s.result("create", "@CID@", '<data listtype="objects" count="0"/>' + s.DUPLICATE_CUSTOMER,
                        status="failure")),
    s.auth_failure(),
    s.CONTROL_FAILURE,
    s.SCHEMA_FAILURE,
    s.session_response("http://127.0.0.1:1/ia/xml/xmlgw.phtml", controlid="@CID@",
                       timeout="2024-05-01T12:00:01-07:00"),
    (b'<?xml version="1.0" encoding="UTF-8"?><response><control><status>success</status></control><operation>'
     b"<authentication><status>success</status><userid>U</userid><companyid>C</companyid>"
     b"<sessiontimestamp>2024-05-01T10:00:01-07:00</sessiontimestamp></authentication><errormessage><error>"
     b"<errorno>XL03000009</errorno><description>d</description><description2>d2</description2>"
     b"<correction>c</correction></error></errormessage></operation></response>"),
    b"<html><body><h1>524</h1></body></html>",
]

HOSTILE: list[bytes] = [
    b'<!DOCTYPE response [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>', b"&b;", b"&#0;",
    b"<a>" * 300, b"</a>" * 300, b"<x " + b" ".join(b'a%d="1"' % i for i in range(5000)) + b"/>",
    b"<sessiontimeout>0001-01-01T00:00:00-07:00</sessiontimeout>",
    b"<sessiontimeout>9999-12-31T23:59:59+14:00</sessiontimeout>", b"<sessiontimeout>not a date</sessiontimeout>",
    b'numremaining="-1"', b'numremaining="1e309"', b'totalcount="99999999999999999999999"', b'resultId=""',
    b"<RECORDNO>abc</RECORDNO>", b"<RECORDNO>-5</RECORDNO>", b"\xff\xfe\x00", b"\xef\xbb\xbf", b"<![CDATA[x]]>",
    b'<?xml version="1.0" encoding="UTF-16"?>', b"<result><status>success</status></result>" * 50,
    b"<error><errorno>X</errorno></error>" * 300, b"<data>" + b"<r/>" * 20000 + b"</data>",
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>',
    b"<status>aborted</status>", b"<status>failure</status>", b"<key></key>", b"<endpoint>ftp://x/</endpoint>",
    b"<T>" + b"x" * 200_000 + b"</T>",
]


@st.composite
def mutated(draw) -> bytes:
    body = draw(st.sampled_from(TEMPLATES))
    for _ in range(draw(st.integers(0, 4))):
        if not body:
            break
        at = draw(st.integers(0, len(body)))
        op = draw(st.sampled_from(["truncate", "delete", "repeat", "insert", "flip", "hostile"]))
        if op == "truncate":
            body = body[:at]
        elif op == "delete":
            body = body[:at] + body[at + draw(st.integers(1, 64)):]
        elif op == "repeat":
            span = body[at:at + draw(st.integers(1, 200))]
            body = body[:at] + span * draw(st.integers(2, 60)) + body[at:]
        elif op == "insert":
            body = body[:at] + draw(st.binary(min_size=1, max_size=40)) + body[at:]
        elif op == "flip" and at < len(body):
            body = body[:at] + bytes([body[at] ^ draw(st.integers(1, 255))]) + body[at + 1:]
        else:
            body = body[:at] + draw(st.sampled_from(HOSTILE)) + body[at:]
    return body


_TAGS = ["response", "control", "status", "operation", "authentication", "result", "function", "controlid", "key",
         "data", "errormessage", "error", "errorno", "description2", "sessiontimeout", "api", "sessionid",
         "endpoint", "CUSTOMER", "RECORDNO", "x"]
_TEXTS = st.sampled_from(["success", "failure", "aborted", "", "12", "-1", "2024-05-01T10:00:00-07:00",
                          "0001-01-01T00:00:00+00:00", "http://127.0.0.1:1/ia/xml/xmlgw.phtml", "c-1", "é&<>"])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TREES = st.recursive(
    st.tuples(st.sampled_from(_TAGS), _TEXTS).map(lambda t: f"<{t[0]}>{_escape(t[1])}</{t[0]}>"),
    lambda kids: st.tuples(st.sampled_from(_TAGS), st.lists(kids, max_size=6),
                           st.lists(st.tuples(st.sampled_from(["count", "totalcount", "numremaining", "resultId"]),
                                              _TEXTS), max_size=3, unique_by=lambda a: a[0]))
    .map(lambda t: f"<{t[0]}" + "".join(f' {k}="{_escape(v)}"' for k, v in t[2]) + ">" + "".join(t[1])
         + f"</{t[0]}>"),
    max_leaves=40,
)


@st.composite
def generated(draw) -> bytes:
    """A random tree of response vocabulary under <response> (structure the templates never have)."""
    return ('<?xml version="1.0" encoding="UTF-8"?><response>' + "".join(draw(st.lists(_TREES, max_size=4)))
            + "</response>").encode()


class Hang(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001
    raise Hang(f"an example ran longer than {HANG_SECONDS} s")


@pytest.fixture
def hang_guard():
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        yield lambda: signal.alarm(HANG_SECONDS)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _exercise_parsed(body: bytes) -> None:
    """Parse, then use the result the way the client does; only MalformedResponse may escape."""
    resp = parse_response(body)
    e.classify(level="control", details=resp.control_errors)
    e.classify(level="operation", details=resp.operation_errors, is_write=True)
    for r in resp.results:
        for record in r.records:
            flat_from_nested(record, ["RECORDNO", "CUSTOMERID", "DISPLAYCONTACT.EMAIL1", "missing"])
        dict(r.data_attrs)
        e.classify(level="result", details=r.errors, function=r.function, controlid=r.controlid)
    now = datetime(2024, 5, 1, 17, 0, tzinfo=UTC)
    if resp.results:
        try:
            session = session_from_response(resp, login_url="http://127.0.0.1:1/ia/xml/xmlgw.phtml", now=now)
        except MalformedResponse:
            return
        session.needs_refresh(now)
        session.slide(resp.authentication.session_timeout if resp.authentication else None)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)
@given(body=st.one_of(mutated(), generated()))
def test_parser_fails_only_with_its_typed_error(body, hang_guard):
    hang_guard()
    try:
        _exercise_parsed(body.replace(b"@CID@", b"c-1"))
    except MalformedResponse:
        pass
    finally:
        signal.alarm(0)


@pytest.fixture(scope="module")
def server():
    with CannedServer() as srv:
        yield srv


def _controlid(request: bytes) -> bytes:
    try:
        return request.split(b'<function controlid="', 1)[1].split(b'"', 1)[0]
    except IndexError:
        return b"none"


@settings(max_examples=max(20, EXAMPLES // 5), deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.one_of(mutated(), generated()), status=st.sampled_from([200, 200, 200, 200, 400, 401, 429, 500, 524]),
       fuzz_login=st.booleans(), call=st.sampled_from(["iter", "write", "count", "read"]))
def test_client_fails_only_with_typed_errors(server, hang_guard, body, status, fuzz_login, call):
    server.auto_login = not fuzz_login
    server.actions.clear()
    server.default = lambda request: Reply(body.replace(b"@CID@", _controlid(request)), status=status)
    client = IntacctClient(
        IntacctCredentials(endpoint_url=server.url, sender_id="S", sender_password="sp", company_id="C",
                           user_id="U", user_password="up"),
        retry=RetryPolicy(max_attempts=2, initial_delay=0.001, max_delay=0.002), timeout=(2, 4), clock=FakeClock())
    hang_guard()
    try:
        if call == "iter":
            list(client.iter_records("CUSTOMER", ["RECORDNO", "CUSTOMERID", "DISPLAYCONTACT.EMAIL1"]))
        elif call == "write":
            client.execute([fn.create_invoice(customer_id="C-1", invoice_no="I-1", date_created=datetime(2024, 5, 1),
                                              date_due=datetime(2024, 6, 1), currency="EUR",
                                              lines=[fn.InvoiceLine(Decimal("10"), account_label="Services")],
                                              controlid="create_invoice-invoice-1-a1")])
        elif call == "count":
            client.count("CUSTOMER")
        else:
            client.read("CUSTOMER", ["1", "2"])
    except IntacctError:
        pass
    finally:
        signal.alarm(0)
        client.close()


@pytest.mark.parametrize("records", [190_000])
def test_a_50_mb_page_is_read_in_well_under_300_mb(records):
    probe = subprocess.run([sys.executable, "-m", "tests.intacct.rss_probe", str(records)], capture_output=True,
                           text=True, timeout=600, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert probe.returncode == 0, probe.stderr[-2000:]
    figures = json.loads(probe.stdout.strip().splitlines()[-1])
    print(f"\n50 MB page: {figures}")
    assert figures["records"] == records and figures["bytes"] > 49_000_000
    assert figures["peak_rss_mib"] < 300
