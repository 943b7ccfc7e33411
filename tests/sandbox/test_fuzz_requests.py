"""Property-based fuzzing of the sandbox with mutated real requests and hostile documents, over real HTTP.

Properties: the sandbox always answers (never HTTP 500, never a dropped connection), with an Intacct-shaped XML
document whose every error has a non-empty description2; an example never takes longer than 5 s; the server is
alive afterwards. ``INTACCT_FUZZ_EXAMPLES`` sets the number of examples (default 120 here).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from sync_engine.intacct import filters as f
from sync_engine.intacct import functions as fn
from sync_engine.intacct.credentials import IntacctCredentials
from sync_engine.intacct.envelope import LoginAuth, build_request
from tests.fixtures.sandbox import SandboxHandle, start_sandbox

EXAMPLES = max(30, int(os.environ.get("INTACCT_FUZZ_EXAMPLES", "600")) // 5)
HANG_SECONDS = 5

HOSTILE = [
    b'<!DOCTYPE request [<!ENTITY x SYSTEM "file:///etc/passwd">]>', b"&x;",
    b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;">]>',
    b"&c;", b"<a>" * 400, b"</a>" * 400, b"<x " + b" ".join(b'a%d="1"' % i for i in range(20000)) + b"/>",
    b"<function controlid=\"f\"><frobnicate/></function>", b"<lineitem/>" * 2000, b"\x00\xff\xfe",
    b'<?xml version="1.0" encoding="UTF-16"?>', b"<![CDATA[<]]>", b'transaction="TRUE"', b"<year>0</year>",
    b"<amount>1e999999</amount>", b"<pagesize>-1</pagesize>", b"<keys>" + b"1," * 5000 + b"</keys>",
    b"<query>(((((((((((((((((((((((((((((((((((((((</query>", b"<uniqueid>true</uniqueid>",
]


def _templates(handle: SandboxHandle) -> list[bytes]:
    creds = IntacctCredentials(endpoint_url=handle.url, sender_id=handle.sender_id,
                               sender_password=handle.sender_password, company_id=handle.company_id,
                               user_id=handle.user_id, user_password=handle.user_password)
    lines = [fn.InvoiceLine(Decimal("10"), account_label="Services Revenue", location_id="HQ")]
    functions = [
        fn.query("CUSTOMER", ["RECORDNO", "CUSTOMERID"], filter=f.gt("RECORDNO", 1), page_size=5),
        fn.read_by_query("ARINVOICE", ["RECORDNO", "STATE"], "STATE = 'Posted'", page_size=5),
        fn.read("CUSTOMER", ["1", "2"]),
        fn.create("CUSTOMER", {"CUSTOMERID": "FZ-1", "NAME": "Fuzz"}, controlid="fz-c"),
        fn.create_invoice(customer_id="C-00001", invoice_no="FZ-INV", date_created=date(2024, 5, 1),
                          date_due=date(2024, 6, 1), lines=lines, currency="EUR", controlid="fz-i"),
        fn.create_arpayment(customer_id="C-00001", amount=Decimal("1"), undeposited_account="1210", ref_id="FZ",
                            date_received=date(2024, 5, 2), payment_method="Cash", applications=[],
                            controlid="fz-p"),
        fn.reverse_invoice("1", date_reversed=date(2024, 5, 3), controlid="fz-r"),
    ]
    return [build_request(creds, LoginAuth(creds), [func], uniqueid=func.is_write) for func in functions]


@pytest.fixture(scope="module")
def fuzz_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    handle = start_sandbox(tmp_path_factory.mktemp("fuzz_sandbox"), seed="minimal")
    try:
        yield handle
    finally:
        handle.stop()


@st.composite
def mutated(draw, templates: list[bytes]) -> bytes:
    body = draw(st.sampled_from(templates))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(body)))
        op = draw(st.sampled_from(["truncate", "delete", "repeat", "insert", "flip", "hostile", "hostile"]))
        if op == "truncate":
            body = body[:at]
        elif op == "delete":
            body = body[:at] + body[at + draw(st.integers(1, 64)):]
        elif op == "repeat":
            body = body[:at] + body[at:at + draw(st.integers(1, 120))] * draw(st.integers(2, 40)) + body[at:]
        elif op == "insert":
            body = body[:at] + draw(st.binary(min_size=1, max_size=30)) + body[at:]
        elif op == "flip" and at < len(body):
            body = body[:at] + bytes([body[at] ^ draw(st.integers(1, 255))]) + body[at + 1:]
        else:
            body = body[:at] + draw(st.sampled_from(HOSTILE)) + body[at:]
    return body


def _alarm(signum, frame):  # noqa: ARG001
    raise TimeoutError(f"the sandbox took longer than {HANG_SECONDS} s")


def test_sandbox_answers_every_mutated_or_hostile_request(fuzz_sandbox):
    templates = _templates(fuzz_sandbox)
    statuses: dict[int, int] = {}

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=mutated(templates))
    def check(body: bytes) -> None:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(HANG_SECONDS)
        try:
            status, raw = fuzz_sandbox.post(body, timeout=HANG_SECONDS)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        statuses[status] = statuses.get(status, 0) + 1
        assert status in (200, 400, 413, 429), (status, raw[:300])
        root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
        assert root.tag == "response"
        assert root.findtext("control/status") in ("success", "failure")
        if status == 200:
            for err in root.iter("error"):
                assert (err.findtext("description2") or "").strip(), etree.tostring(err)
        assert b"root:" not in raw  # no external entity was ever resolved

    check()
    print(f"\nsandbox fuzz: {sum(statuses.values())} requests, HTTP statuses {statuses}")
    assert fuzz_sandbox._admin("GET", "/health")["status"] == "ok"


def test_oversized_and_unsized_bodies_are_refused_without_reading_them(fuzz_sandbox):
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(fuzz_sandbox.url)
    for length in ("999999999999", "-5", "abc"):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.putrequest("POST", parts.path)
        conn.putheader("Content-Type", "application/xml")
        conn.putheader("Content-Length", length)
        conn.endheaders()
        reply = conn.getresponse()
        assert reply.status in (400, 413)
        assert b"GW-0011" in reply.read()
        conn.close()
