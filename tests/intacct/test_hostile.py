"""Specific hostile or unusual responses the issue reported, each turned into a typed, explained outcome."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from sync_engine.intacct import (AmbiguousWriteError, IntacctClient, IntacctCredentials, RequestError,
                                 ResponseFormatError, RetryPolicy, TransientError)
from sync_engine.intacct import functions as fn
from sync_engine.intacct.response import Limits, MalformedResponse, parse_response
from sync_engine.intacct.session import Session, SessionInfo, session_from_response

from . import samples as s
from .canned import CannedServer, FakeClock, Reply

NOW = datetime(2024, 5, 1, 17, 0, tzinfo=UTC)
ONE_TRY = RetryPolicy(max_attempts=1)


def _client(url: str, **kw) -> IntacctClient:
    return IntacctClient(IntacctCredentials(endpoint_url=url, sender_id="S", sender_password="sp", company_id="C",
                                            user_id="U", user_password="up"),
                         retry=ONE_TRY, clock=FakeClock(NOW), timeout=(2, 5), **kw)


@pytest.mark.parametrize("timeout", ["0001-01-01T00:00:00-07:00", "9999-12-31T23:59:59+14:00", "garbage", ""])
def test_absurd_session_timeouts_fall_back_instead_of_overflowing(timeout):
    resp = parse_response(s.session_response("https://api.intacct.com/ia/xml/xmlgw.phtml", timeout=timeout))
    session = session_from_response(resp, login_url="https://api.intacct.com/ia/xml/xmlgw.phtml", now=NOW)
    assert session.info.expires_at == NOW + timedelta(minutes=30)
    assert session.needs_refresh(NOW) is False
    assert session.needs_refresh(NOW + timedelta(minutes=26)) is True


def test_a_session_built_with_an_extreme_expiry_never_raises():
    info = SessionInfo(endpoint="x", location_id=None, expires_at=datetime(1, 1, 1, tzinfo=UTC), user_id="",
                       company_id="")
    assert Session(info, "id").needs_refresh(NOW) is True


@pytest.mark.parametrize("count", [65, 40_000, 200_000])
def test_an_attribute_flood_is_refused_at_once(count):
    attrs = " ".join(f'a{i}="{i}"' for i in range(count))
    body = s.response(s.result("query", "q", f"<data {attrs}></data>"))
    with pytest.raises(MalformedResponse, match="more than 64 attributes"):
        parse_response(body)


def test_data_attributes_are_read_once():
    attrs = " ".join(f'a{i}="{i}"' for i in range(60))
    [result] = parse_response(s.response(s.result("query", "q", f"<data {attrs}></data>"))).results
    assert result.data_attrs is result.data_attrs and result.data_attrs["a59"] == "59"


@pytest.mark.parametrize("body, reason", [
    (s.response(s.result("query", "q", "<data>" + "<R><A>1</A></R>" * 11 + "</data>")), "more than 10 records"),
    (s.response(s.result("query", "q", "<data><R>" + "<A/>" * 30 + "</R></data>")), "more than 20 elements"),
    (s.response(s.result("query", "q", "<data><R><A>" + "x" * 101 + "</A></R></data>")), "longer than 100"),
])
def test_records_elements_and_texts_are_bounded(body, reason):
    limits = Limits(max_records=10, max_record_elements=20, max_text=100)
    with pytest.raises(MalformedResponse, match=reason):
        parse_response(body, limits=limits)


def test_operation_level_errors_keep_every_detail():
    body = (b'<?xml version="1.0" encoding="UTF-8"?><response><control><status>success</status></control>'
            b"<operation><authentication><status>success</status><userid>U</userid><companyid>C</companyid>"
            b"</authentication><errormessage><error><errorno>BL01001973</errorno><description>Operation refused"
            b"</description><description2>The company is locked for maintenance</description2><correction>Try "
            b"tonight</correction></error></errormessage></operation></response>")
    with CannedServer() as srv:
        srv.default = Reply(body)
        with pytest.raises(RequestError) as read:
            _client(srv.url).count("CUSTOMER")
        invoice = fn.create_invoice(customer_id="C", invoice_no="I", date_created=date(2024, 5, 1),
                                    date_due=date(2024, 6, 1), lines=[fn.InvoiceLine(Decimal(1), gl_account_no="4000")],
                                    controlid="w-1")
        with pytest.raises(AmbiguousWriteError) as write:
            _client(srv.url).execute([invoice])
    for err in (read.value, write.value):
        [detail] = err.details
        assert (detail.errorno, detail.description, detail.description2, detail.correction) == (
            "BL01001973", "Operation refused", "The company is locked for maintenance", "Try tonight")
    assert "locked for maintenance" in read.value.user_message


def _dripping_server(stop: threading.Event) -> tuple[socket.socket, str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(2)

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n<response>")
            while not stop.wait(0.05):
                try:
                    conn.sendall(b" ")
                except OSError:
                    return

    threading.Thread(target=serve, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}/ia/xml/xmlgw.phtml"


def test_a_server_dripping_bytes_cannot_hold_a_request_past_the_deadline():
    stop = threading.Event()
    listener, url = _dripping_server(stop)
    try:
        with pytest.raises(TransientError, match="not complete within"):
            _client(url, response_deadline=0.5).test_connection()
    finally:
        stop.set()
        listener.close()


def test_html_and_truncated_pages_are_format_errors():
    with CannedServer() as srv:
        srv.default = Reply(b"<html><body>Cloudflare</body></html>", headers={"Content-Type": "text/html"})
        with pytest.raises(ResponseFormatError, match="HTML"):
            _client(srv.url).count("CUSTOMER")
        srv.default = Reply(s.response(s.result("query", "q", "<data totalcount='3'>"))[:-40])
        with pytest.raises(ResponseFormatError):
            _client(srv.url).count("CUSTOMER")
