"""Unit tests for the retry policy, Retry-After parsing, redaction, envelope and session info."""

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from sync_engine.intacct import functions as fn
from sync_engine.intacct.credentials import IntacctCredentials
from sync_engine.intacct.envelope import LoginAuth, SessionAuth, build_request
from sync_engine.intacct.errors import AmbiguousWriteError, ResponseFormatError, TransientError
from sync_engine.intacct.redact import REDACTED, redact_body, redact_text
from sync_engine.intacct.retry import RetryPolicy, run_with_retry
from sync_engine.intacct.session import Session, SessionInfo
from sync_engine.intacct.transport import limiter_for, parse_retry_after

CREDS = IntacctCredentials("https://gw.test/ia/xml/xmlgw.phtml", "SENDER", "s&<pw>'\"", "CO", "USER", "u-pässword",
                           entity_id="EAST")


def test_backoff_is_exponential_capped_and_jittered():
    p = RetryPolicy(initial_delay=1, max_delay=10, jitter=False)
    assert [p.backoff(n) for n in range(1, 6)] == [1, 2, 4, 8, 10]
    pj = RetryPolicy(initial_delay=1, max_delay=10, jitter=True)
    assert pj.backoff(3, rng=lambda: 0.0) == 2 and pj.backoff(3, rng=lambda: 1.0) == 4
    assert p.wait_for(TransientError("x", retry_after=7.5), 1) == 7.5
    assert p.wait_for(TransientError("x", retry_after=0.1), 3) == 4


def test_should_retry_rules():
    p = RetryPolicy(max_attempts=3, format_retries=1, max_retry_after=60)
    assert p.should_retry(TransientError("x"), 1) and p.should_retry(TransientError("x"), 2)
    assert not p.should_retry(TransientError("x"), 3)
    assert not p.should_retry(TransientError("x", retry_after=61), 1)
    assert not p.should_retry(AmbiguousWriteError("x"), 1)
    assert p.should_retry(ResponseFormatError("x"), 1) and not p.should_retry(ResponseFormatError("x"), 2)
    assert not p.should_retry(ValueError("x"), 1)
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_run_with_retry_uses_tenacity_and_reraises_last_error():
    sleeps: list[float] = []
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        if calls["n"] < 3:
            raise TransientError("busy", retry_after=2)
        return "ok"

    assert run_with_retry(RetryPolicy(max_attempts=5), flaky, sleep=sleeps.append) == "ok"
    assert len(sleeps) == 2 and all(s >= 2 for s in sleeps)

    def always():
        raise TransientError("down")

    with pytest.raises(TransientError, match="down"):
        run_with_retry(RetryPolicy(max_attempts=2, initial_delay=0), always, sleep=sleeps.append)


def test_parse_retry_after():
    now = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert parse_retry_after("5") == 5
    assert parse_retry_after("Wed, 01 May 2024 10:00:30 GMT", now=now) == 30
    assert parse_retry_after("garbage") is None and parse_retry_after(None) is None


def test_redaction():
    text = ("<password>s&amp;&lt;pw&gt;'\"</password><sessionid>SID-123..</sessionid>"
            "<description2>echo SID-123.. and u-pässword</description2><PASSWORD/>")
    out = redact_text(text, ["SID-123..", "u-pässword"])
    assert "SID-123" not in out and "pässword" not in out and "s&amp;" not in out
    assert out.count(REDACTED) == 4
    long = b"<x>" + b"a" * 200_000 + b"</x>"
    assert len(redact_body(long, limit=1000)) < 1100


def test_envelope_login_and_session_shapes():
    body = build_request(CREDS, LoginAuth(CREDS), [fn.get_api_session()], uniqueid=False)
    root = etree.fromstring(body)
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert [c.tag for c in root.find("control")] == ["senderid", "password", "controlid", "uniqueid", "dtdversion",
                                                      "includewhitespace"]
    assert root.findtext("control/password") == "s&<pw>'\""  # escaped by lxml, round-trips exactly
    assert [c.tag for c in root.find("operation/authentication/login")] == ["userid", "companyid", "password",
                                                                             "locationid"]
    assert root.find("operation").get("transaction") == "false"
    body2 = build_request(CREDS, SessionAuth("SID.."), [fn.read_more("r1"), fn.read_more("r2")], uniqueid=True)
    root2 = etree.fromstring(body2)
    assert root2.findtext("operation/authentication/sessionid") == "SID.."
    assert root2.findtext("control/uniqueid") == "true"
    assert len(root2.findall("operation/content/function")) == 2
    assert "SID" not in repr(SessionAuth("SID.."))


def test_envelope_does_not_steal_the_callers_element():
    func = fn.read_more("r1")
    build_request(CREDS, SessionAuth("S"), [func], uniqueid=False)
    build_request(CREDS, SessionAuth("S"), [func], uniqueid=False)
    assert func.element.getparent() is None


def test_reprs_hide_secrets():
    info = SessionInfo("https://gw", None, datetime.now(UTC) + timedelta(hours=1), "U", "C")
    session = Session(info, "VERY-SECRET-SESSION..")
    for text in (repr(CREDS), str(CREDS), repr(session), str(session), repr(info)):
        assert "s&<pw>" not in text and "pässword" not in text and "VERY-SECRET" not in text


def test_limiter_registry_shares_per_connection():
    a = limiter_for(("u", "c", "x"), 2)
    assert limiter_for(("u", "c", "x"), 5) is a
    assert limiter_for(("u", "c", "y"), 2) is not a
