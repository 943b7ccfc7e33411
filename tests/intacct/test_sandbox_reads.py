"""Integration against the real sandbox process: sign-in, session reuse, paging, faults on reads."""

from __future__ import annotations

import time

import pytest

from sync_engine.intacct import (
    AuthenticationError,
    KeysetQueryPager,
    OffsetQueryPager,
    ReadByQueryPager,
    RetryPolicy,
    TransientError,
)
from sync_engine.intacct import filters as f
from sync_engine.intacct.values import parse_decimal

from .conftest import client_for


def test_sign_in_and_one_session_for_many_calls(sandbox):
    c = client_for(sandbox)
    info = c.test_connection()
    assert info.endpoint == sandbox.url and info.company_id == sandbox.company_id
    assert info.expires_at.tzinfo is not None
    sandbox.reset_stats()
    for _ in range(4):
        c.count("CUSTOMER")
    list(c.iter_records("CUSTOMER", ["RECORDNO", "CUSTOMERID"]))
    stats = sandbox.stats()
    assert stats["functions"].get("getAPISession", 0) == 0
    assert stats["functions"]["query"] == 5


@pytest.mark.parametrize("field, value, wording", [
    ("user_password", "wrong", "company ID"),
    ("sender_password", "wrong", "sender"),
    ("company_id", "NOPE", "company ID"),
])
def test_bad_credentials_give_clear_messages(sandbox, field, value, wording):
    c = client_for(sandbox, credentials={field: value})
    with pytest.raises(AuthenticationError) as info:
        c.test_connection()
    assert wording in info.value.user_message


def test_paging_to_the_last_record_with_no_gap_or_repeat(big_sandbox):
    c = client_for(big_sandbox)
    total = c.count("CUSTOMER")
    assert total >= 2345
    rows = list(c.iter_records("CUSTOMER", ["RECORDNO", "CUSTOMERID", "DISPLAYCONTACT.EMAIL1"], page_size=97))
    keys = [int(r["RECORDNO"]) for r in rows]
    assert len(keys) == total and len(set(keys)) == total and keys == sorted(keys)
    assert set(rows[0]) == {"RECORDNO", "CUSTOMERID", "DISPLAYCONTACT.EMAIL1"}


def test_filtered_paging_matches_count(big_sandbox):
    c = client_for(big_sandbox)
    flt = f.and_(f.eq("STATE", "Posted"), f.gt("TOTALDUE", 100))
    n = c.count("ARINVOICE", flt)
    rows = list(c.iter_records("ARINVOICE", ["RECORDID", "TOTALDUE", "STATE"], filter=flt, page_size=500))
    assert len(rows) == n
    assert all(r["STATE"] == "Posted" and parse_decimal(r["TOTALDUE"]) > 100 for r in rows)


def test_requests_and_time_per_10k_records(big_sandbox, capsys):
    """The measurement behind the README paging choice (printed with -s)."""
    c = client_for(big_sandbox)
    c.open_session()
    total = c.count("ARINVOICE")
    fields = ["RECORDNO", "RECORDID", "CUSTOMERID", "TOTALDUE", "STATE", "WHENMODIFIED"]
    figures = {}
    for name, pager, size in (("keyset query @2000", KeysetQueryPager(), 2000),
                              ("offset query @2000", OffsetQueryPager(), 2000),
                              ("readByQuery+readMore @1000", ReadByQueryPager(), 1000)):
        before = c.requests_sent
        started = time.perf_counter()
        n = sum(1 for _ in c.iter_records("ARINVOICE", fields, page_size=size, pager=pager))
        figures[name] = (c.requests_sent - before, time.perf_counter() - started)
        assert n == total
    with capsys.disabled():
        for name, (reqs, secs) in figures.items():
            print(f"\n{name}: {reqs} requests, {secs:.2f}s for {total} records")
    assert figures["keyset query @2000"][0] == -(-total // 2000)
    assert figures["readByQuery+readMore @1000"][0] == -(-total // 1000)


def test_read_by_name_nested_records(sandbox):
    c = client_for(sandbox)
    ids = [r["CUSTOMERID"] for r in c.iter_records("CUSTOMER", ["CUSTOMERID"])]
    recs = c.read_by_name("CUSTOMER", ids + ["NO-SUCH-CUSTOMER"])
    assert sorted(r["CUSTOMERID"] for r in recs) == sorted(ids)
    assert isinstance(recs[0].get("DISPLAYCONTACT"), dict)


def test_read_invoices_with_lines(sandbox):
    c = client_for(sandbox)
    keys = [r["RECORDNO"] for r in c.iter_records("ARINVOICE", ["RECORDNO"])][:5]
    recs = c.read("ARINVOICE", keys)
    assert len(recs) == len(keys)
    lines = recs[0]["ARINVOICEITEMS"]
    assert isinstance(lines, list) and lines and "AMOUNT" in lines[0]


def test_session_expiry_mid_run_relogs_once(sandbox):
    c = client_for(sandbox)
    c.open_session()
    sandbox.reset_stats()
    sandbox.expire_sessions()
    assert c.count("CUSTOMER") >= 1
    assert sandbox.stats()["functions"].get("getAPISession") == 1


def test_sandbox_clock_past_session_timeout_relogs_once(sandbox):
    c = client_for(sandbox)
    c.open_session()
    sandbox.reset_stats()
    sandbox.advance_clock(3 * 3600)  # beyond the sandbox's 2-hour sliding timeout
    assert c.count("CUSTOMER") >= 1
    assert sandbox.stats()["functions"].get("getAPISession") == 1


def test_session_refused_twice_gives_up(sandbox):
    c = client_for(sandbox)
    c.open_session()
    sandbox.reset_stats()
    sandbox.set_faults({"faults": [{"kind": "expire_sessions", "next": 2, "function": "query"}]})
    with pytest.raises(AuthenticationError):
        c.count("CUSTOMER")  # refused, re-signed in, refused again: give up
    assert sandbox.stats()["functions"].get("getAPISession") == 1


def test_rate_limit_retries(sandbox):
    c = client_for(sandbox)
    c.open_session()
    sandbox.reset_stats()
    sandbox.set_faults({"faults": [{"kind": "rate_limit", "next": 2}]})
    assert c.count("CUSTOMER") >= 1
    stats = sandbox.stats()
    assert stats["http_status"].get("429") == 2 and stats["functions"]["query"] == 3


def test_rate_limit_forever_is_transient(sandbox):
    c = client_for(sandbox, retry=RetryPolicy(max_attempts=3, initial_delay=0.01))
    c.open_session()
    sandbox.set_faults({"faults": [{"kind": "rate_limit"}]})
    with pytest.raises(TransientError) as info:
        c.count("CUSTOMER")
    assert info.value.http_status == 429


def test_offline_and_503_reads_are_retried(sandbox):
    c = client_for(sandbox)
    c.open_session()
    sandbox.set_faults({"faults": [{"kind": "offline", "next": 1}, {"kind": "http_503", "next": 1}]})
    assert c.count("CUSTOMER") >= 1
    sandbox.set_faults({"faults": [{"kind": "drop_connection", "next": 1}, {"kind": "http_524", "next": 1}]})
    assert c.count("CUSTOMER") >= 1


def test_two_in_flight_limit_never_trips_sandbox_concurrency_limit(sandbox):
    import threading

    sandbox.set_faults({"faults": [{"kind": "latency", "ms": 100}], "concurrency_limit": 2})
    clients = [client_for(sandbox, retry=RetryPolicy(max_attempts=1)) for _ in range(3)]
    for c in clients:
        c.open_session()
    sandbox.reset_stats()
    errors = []

    def work(c):
        try:
            c.count("CUSTOMER")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(clients[i % 3],)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert "429" not in sandbox.stats()["http_status"]


def test_entity_login_scopes_the_session(sandbox):
    top = client_for(sandbox, credentials={"company_id": "DEMO-ME"})
    east = client_for(sandbox, credentials={"company_id": "DEMO-ME", "entity_id": "US-EAST"})
    assert top.open_session().location_id is None
    assert east.open_session().location_id == "US-EAST"
    bad = client_for(sandbox, credentials={"company_id": "DEMO-ME", "entity_id": "NOWHERE"})
    with pytest.raises(AuthenticationError):
        bad.test_connection()
