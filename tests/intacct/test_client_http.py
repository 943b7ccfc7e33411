"""The client over real HTTP against a canned server: hostile and broken responses, retries, sessions."""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from sync_engine.intacct import (
    AmbiguousWriteError,
    AuthenticationError,
    IntacctClient,
    IntacctCredentials,
    RecordError,
    ResponseFormatError,
    RetryPolicy,
    TransientError,
)
from sync_engine.intacct import functions as fn

from . import samples as s
from .canned import CannedServer, Drop, FakeClock, Reply, ok_results

SENDER_PW = "sender-Pa$$w0rd&<x>"
USER_PW = "user-S3cret'pw"


def creds(url: str, **kw) -> IntacctCredentials:
    return IntacctCredentials(endpoint_url=url, sender_id="SENDER", sender_password=SENDER_PW, company_id="CO",
                              user_id="USER", user_password=USER_PW, **kw)


FAST = RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.05)


@pytest.fixture
def srv():
    with CannedServer() as server:
        yield server


@pytest.fixture
def clock():
    return FakeClock()


def client_for(server: CannedServer, clock: FakeClock, **kw) -> IntacctClient:
    kw.setdefault("retry", FAST)
    kw.setdefault("timeout", (2, 5))
    return IntacctClient(creds(server.url), clock=clock, **kw)


def invoice(controlid: str = "inv-1") -> fn.Function:
    return fn.create_invoice(customer_id="C1", invoice_no="INV-1", date_created=date(2024, 5, 1),
                             term_name="Net 30", lines=[fn.InvoiceLine(Decimal("10"), gl_account_no="4000")],
                             controlid=controlid)


def query_rows(*rows: str, remaining: int = 0) -> str:
    recs = "".join(f"<CUSTOMER><RECORDNO>{r}</RECORDNO></CUSTOMER>" for r in rows)
    return (f'<data listtype="CUSTOMER" totalcount="{len(rows)}" offset="0" count="{len(rows)}" '
            f'numremaining="{remaining}">{recs}</data>')


# ------------------------------------------------------------------ hostile / malformed bodies


def test_billion_laughs_is_refused_and_read_retried_a_bounded_number_of_times(srv, clock):
    srv.default = Reply(s.BILLION_LAUGHS)
    c = client_for(srv, clock)
    with pytest.raises(ResponseFormatError, match="DOCTYPE"):
        c.count("CUSTOMER")
    assert srv.count("query") == 1 + FAST.format_retries


def test_external_entity_never_reads_local_file(srv, clock, tmp_path, caplog):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("TOP-SECRET-FILE-CONTENT")
    srv.default = Reply(s.external_entity(str(secret_file)))
    c = client_for(srv, clock)
    with caplog.at_level(logging.DEBUG, logger="sync_engine.intacct"):
        with pytest.raises(ResponseFormatError) as info:
            list(c.iter_records("CUSTOMER", ["RECORDNO"]))
    assert "TOP-SECRET-FILE-CONTENT" not in str(info.value) + info.value.user_message
    assert "TOP-SECRET-FILE-CONTENT" not in caplog.text


def test_hostile_response_to_a_write_is_ambiguous_and_not_resent(srv, clock):
    srv.default = Reply(s.BILLION_LAUGHS)
    c = client_for(srv, clock)
    with pytest.raises(AmbiguousWriteError):
        c.call(invoice())
    assert srv.count("create_invoice") == 1


def test_html_instead_of_xml(srv, clock):
    srv.default = Reply(s.HTML_503, headers={"Content-Type": "text/html"})
    c = client_for(srv, clock)
    with pytest.raises(ResponseFormatError, match="HTML") as info:
        c.count("CUSTOMER")
    assert "could not be read" in info.value.user_message


def test_html_503_page_read_is_transient_and_retried(srv, clock):
    srv.push(Reply(s.HTML_503, status=503, headers={"Content-Type": "text/html"}))
    srv.default = lambda body: Reply(ok_results(body, lambda *_: query_rows("1")))
    c = client_for(srv, clock)
    assert c.count("CUSTOMER") == 1
    assert srv.count("query") == 2


@pytest.mark.parametrize("status", [502, 503, 524, 500])
def test_5xx_on_write_is_ambiguous_and_never_resent(srv, clock, status):
    srv.default = Reply(b"", status=status)
    c = client_for(srv, clock)
    with pytest.raises(AmbiguousWriteError) as info:
        c.execute([invoice()])
    assert info.value.http_status == status
    assert srv.count("create_invoice") == 1
    assert "looked up" in info.value.user_message


def test_truncated_xml(srv, clock):
    srv.default = Reply(b'<?xml version="1.0"?><response><control><status>success</status></control><operation>')
    c = client_for(srv, clock)
    with pytest.raises(ResponseFormatError, match="well-formed"):
        c.count("CUSTOMER")
    with pytest.raises(AmbiguousWriteError):
        c.call(invoice())
    assert srv.count("create_invoice") == 1


@pytest.mark.parametrize("declared", [True, False])
def test_oversized_body_is_cut_off(srv, clock, declared):
    big = b"<response>" + b"<x/>" * 300_000 + b"</response>"
    srv.default = Reply(big, content_length=declared, chunk_size=64 * 1024)
    c = client_for(srv, clock, max_response_bytes=1_000_000, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(ResponseFormatError, match="limit"):
        c.count("CUSTOMER")


def test_429_retry_after_is_honoured_then_succeeds(srv, clock):
    srv.push(Reply(s.RATE_LIMITED, status=429, headers={"Retry-After": "7"}))
    srv.default = lambda body: Reply(ok_results(body, lambda *_: query_rows("1", "2")))
    c = client_for(srv, clock)
    assert c.count("CUSTOMER") == 2
    assert srv.count("query") == 2
    assert clock.sleeps and clock.sleeps[0] >= 7


def test_429_on_write_is_safe_to_resend(srv, clock):
    srv.push(Reply(s.RATE_LIMITED, status=429, headers={"Retry-After": "1"}))
    srv.default = lambda body: Reply(ok_results(body, lambda *_: "<key>4211</key>"))
    c = client_for(srv, clock)
    res = c.call(invoice())
    assert res.ok and res.key == "4211"
    assert srv.count("create_invoice") == 2


def test_429_retries_are_bounded(srv, clock):
    srv.default = Reply(s.RATE_LIMITED, status=429)
    c = client_for(srv, clock)
    with pytest.raises(TransientError) as info:
        c.count("CUSTOMER")
    assert info.value.http_status == 429
    assert srv.count("query") == FAST.max_attempts
    assert len(clock.sleeps) == FAST.max_attempts - 1


def test_retry_after_beyond_cap_stops_retrying(srv, clock):
    srv.default = Reply(s.RATE_LIMITED, status=429, headers={"Retry-After": "3600"})
    c = client_for(srv, clock)
    with pytest.raises(TransientError):
        c.count("CUSTOMER")
    assert srv.count("query") == 1


def test_dropped_connection_mid_response(srv, clock):
    srv.push(Drop())
    srv.default = lambda body: Reply(ok_results(body, lambda *_: query_rows("5")))
    c = client_for(srv, clock)
    assert c.count("CUSTOMER") == 1  # a read is retried
    srv.push(Drop())
    with pytest.raises(AmbiguousWriteError):
        c.call(invoice())
    assert srv.count("create_invoice") == 1


def test_slow_response_beyond_read_timeout(srv, clock):
    srv.default = Reply(s.response(), delay=1.5)
    c = client_for(srv, clock, timeout=(2, 0.5), retry=RetryPolicy(max_attempts=2, initial_delay=0))
    srv.session_timeout = datetime(2099, 1, 1, tzinfo=UTC)
    started = time.monotonic()
    with pytest.raises(AmbiguousWriteError, match="timed out"):
        c.call(invoice())
    assert srv.count("create_invoice") == 1
    with pytest.raises(TransientError) as info:
        c.count("CUSTOMER")
    assert "did not answer in time" in info.value.user_message
    assert srv.count("query") == 2
    assert time.monotonic() - started < 6


def test_connection_refused_is_transient_even_for_writes(clock):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    c = IntacctClient(creds(f"http://127.0.0.1:{port}/ia/xml/xmlgw.phtml"), clock=clock, retry=FAST)
    with pytest.raises(TransientError) as info:
        c.call(invoice())
    assert not isinstance(info.value, AmbiguousWriteError)
    assert "could not reach the intacct gateway" in info.value.user_message.lower()
    assert c.requests_sent == FAST.max_attempts  # sign-in attempts; nothing reached a server


def test_unreachable_host_fails_within_the_timeout():
    direct = requests.Session()
    direct.trust_env = False  # no proxy from the environment: really try to reach the host
    # 100::/64 is the IPv6 discard prefix: nothing answers (IPv4 may be intercepted on sandboxed networks).
    c = IntacctClient(creds("http://[100::1]:81/ia/xml/xmlgw.phtml"), timeout=(0.5, 1), http=direct)
    started = time.monotonic()
    with pytest.raises(TransientError) as info:
        c.test_connection()
    assert time.monotonic() - started < 3
    assert "could not reach the intacct gateway" in info.value.user_message.lower()


# ------------------------------------------------------------------ sessions


def test_one_sign_in_for_many_calls_then_refresh_near_expiry(srv, clock):
    srv.session_timeout = clock.now() + timedelta(hours=1)
    auth = s.auth_ok(timeout=srv.session_timeout.isoformat())  # responses do not slide it any further
    srv.default = lambda body: Reply(ok_results(body, lambda *_: query_rows("1"), auth=auth))
    c = client_for(srv, clock)
    for _ in range(5):
        c.count("CUSTOMER")
    assert srv.logins == 1
    assert all(r.session == srv.session_id for r in srv.seen if not r.is_login)
    assert c.session_info is not None and c.session_info.endpoint == srv.url
    clock.advance(minutes=56)  # within the 5-minute refresh margin
    c.count("CUSTOMER")
    assert srv.logins == 2


def test_login_request_shape_with_entity(srv, clock):
    c = IntacctClient(creds(srv.url, entity_id="EAST"), clock=clock, retry=FAST)
    info = c.open_session()
    assert info.company_id == "C" and info.user_id == "U"
    body = srv.seen[0].body
    assert b"<locationid>EAST</locationid>" in body and b"<getAPISession/>" in body
    assert b"<uniqueid>false</uniqueid>" in body


def test_writes_send_uniqueid_true_and_reads_false(srv, clock):
    srv.default = lambda body: Reply(ok_results(body, lambda tag, *_: "<key>1</key>" if tag != "query" else
                                                query_rows("1")))
    c = client_for(srv, clock)
    c.call(invoice())
    c.count("CUSTOMER")
    write, read = [r.body for r in srv.seen if not r.is_login]
    assert b"<uniqueid>true</uniqueid>" in write and b'transaction="false"' in write
    assert b"<uniqueid>false</uniqueid>" in read


def test_session_expiry_mid_run_signs_in_once_again(srv, clock):
    srv.push(Reply(s.SESSION_INVALID))
    srv.default = lambda body: Reply(ok_results(body, lambda *_: query_rows("1")))
    c = client_for(srv, clock)
    c.open_session()
    assert c.count("CUSTOMER") == 1
    assert srv.logins == 2


def test_session_refused_twice_gives_up(srv, clock):
    srv.default = Reply(s.SESSION_INVALID)
    c = client_for(srv, clock)
    with pytest.raises(AuthenticationError):
        c.count("CUSTOMER")
    assert srv.logins == 2 and srv.count("query") == 2


def test_bad_sign_in_stops_and_is_not_retried_automatically(clock):
    with CannedServer(auto_login=False) as server:
        server.default = Reply(s.auth_failure())
        c = client_for(server, clock)
        with pytest.raises(AuthenticationError) as info:
            c.count("CUSTOMER")
        assert "Check the company ID" in info.value.user_message
        assert len(server.seen) == 1
        with pytest.raises(AuthenticationError):
            c.count("CUSTOMER")
        assert len(server.seen) == 1  # circuit breaker: no second sign-in attempt
        with pytest.raises(AuthenticationError) as info2:
            c.test_connection()
        assert len(server.seen) == 2
        server.default = Reply(s.CONTROL_FAILURE)
        with pytest.raises(AuthenticationError) as info3:
            c.test_connection()
        assert "sender" in info3.value.user_message.lower()
        assert info2.value.user_message


def test_http_401_is_authentication(clock):
    with CannedServer(auto_login=False) as server:
        server.default = Reply(s.GW_401, status=401)
        with pytest.raises(AuthenticationError):
            client_for(server, clock).test_connection()


# ------------------------------------------------------------------ execute


def test_execute_mixed_good_and_bad_functions(srv, clock):
    def handler(body: bytes) -> Reply:
        from .canned import parse_request
        names, ids, _ = parse_request(body)
        parts = []
        for name, cid in zip(names, ids):
            if cid.endswith("bad"):
                parts.append(s.result(name, cid, '<data listtype="objects" count="0"/>' + s.DUPLICATE_CUSTOMER,
                                      "failure"))
            else:
                parts.append(s.result(name, cid, f'<data listtype="objects" count="1"><customer>'
                                                 f'<RECORDNO>{len(parts) + 10}</RECORDNO><CUSTOMERID>{cid}'
                                                 f'</CUSTOMERID></customer></data>'))
        return Reply(s.response(*reversed(parts)))  # out of order on purpose: matched by controlid

    srv.default = handler
    c = client_for(srv, clock)
    funcs = [fn.create("CUSTOMER", {"NAME": f"n{i}"}, controlid=cid) for i, cid in enumerate(["a", "b-bad", "c"])]
    results = c.execute(funcs)
    assert [r.controlid for r in results] == ["a", "b-bad", "c"]
    assert [r.ok for r in results] == [True, False, True]
    assert results[0].key == "10" and results[0].records[0]["CUSTOMERID"] == "a"
    assert isinstance(results[1].error, RecordError) and results[1].error.errorno == "BL34000061"
    assert srv.count("create") == 1
    with pytest.raises(RecordError):
        c.call(funcs[1])


def test_transient_function_result_is_resent_alone(srv, clock):
    calls = {"n": 0}

    def handler(body: bytes) -> Reply:
        from .canned import parse_request
        names, ids, _ = parse_request(body)
        calls["n"] += 1
        parts = []
        for name, cid in zip(names, ids):
            if cid == "b" and calls["n"] == 1:
                parts.append(s.result(name, cid, s.error_block(("XYZ", "", "The Service is Temporarily Off-line",
                                                                 "")), "failure"))
            else:
                parts.append(s.result(name, cid, "<key>7</key>"))
        return Reply(s.response(*parts))

    srv.default = handler
    c = client_for(srv, clock)
    results = c.execute([invoice("a"), invoice("b")])
    assert all(r.ok for r in results)
    second = [r for r in srv.seen if not r.is_login][1]
    assert second.controlids == ["b"]


def test_execute_splits_requests_at_100_functions(srv, clock):
    srv.default = lambda body: Reply(ok_results(body, lambda *_: "<key>1</key>"))
    c = client_for(srv, clock)
    c.execute([invoice(f"inv-{i}") for i in range(250)])
    sizes = [len(r.functions) for r in srv.seen if not r.is_login]
    assert sizes == [100, 100, 50]


def test_duplicate_controlids_in_one_request_are_refused(srv, clock):
    c = client_for(srv, clock)
    with pytest.raises(ValueError):
        c.execute([invoice("same"), invoice("same")])


# ------------------------------------------------------------------ concurrency and logging


def test_at_most_two_requests_in_flight_across_clients(srv):
    srv.default = lambda body: Reply(ok_results(body, lambda *_: query_rows("1")), delay=0.2)
    clients = [IntacctClient(creds(srv.url), retry=FAST) for _ in range(3)]
    for c in clients:
        c.open_session()
    errors: list[BaseException] = []

    def work(c: IntacctClient) -> None:
        try:
            c.count("CUSTOMER")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(clients[i % 3],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert srv.max_in_flight == 2


def test_logs_and_reprs_never_show_secrets(srv, clock, caplog):
    srv.default = lambda body: Reply(ok_results(body, lambda *_: query_rows("1")))
    c = client_for(srv, clock)
    with caplog.at_level(logging.DEBUG, logger="sync_engine.intacct"):
        c.count("CUSTOMER")
        c.call(invoice())
    assert "POST" in caplog.text and "REDACTED" in caplog.text
    secrets = [SENDER_PW, USER_PW, srv.session_id, "sender-Pa$$w0rd&amp;&lt;x&gt;"]
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in repr(c) and secret not in str(c._creds)
        assert secret not in repr(c._session) and secret not in repr(c.session_info)
