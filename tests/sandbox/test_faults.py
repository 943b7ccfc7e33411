"""Fault injection and the admin endpoint: every fault kind, targeting, triggers, stats and the clock."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from lxml import etree

from tests.fixtures.sandbox import SandboxHandle, start_sandbox

from .xmlhelp import errors, ok, text

READ = ('<function controlid="r"><readByQuery><object>CUSTOMER</object><fields>CUSTOMERID</fields><query/>'
        '<pagesize>1</pagesize></readByQuery></function>')


def create_customer(cid: str) -> str:
    return (f'<function controlid="{cid}"><create><CUSTOMER><CUSTOMERID>{cid}</CUSTOMERID><NAME>Fault test</NAME>'
            f'</CUSTOMER></create></function>')


def exists(sb: SandboxHandle, customer_id: str) -> bool:
    res = ok(sb.call(f'<function controlid="x"><readByName><object>CUSTOMER</object><keys>{customer_id}</keys>'
                     f'</readByName></function>'))
    return res.find("data").get("count") == "1"


@pytest.fixture(scope="module")
def fsb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    handle = start_sandbox(tmp_path_factory.mktemp("faults"), seed="minimal")
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(autouse=True)
def _clean(fsb: SandboxHandle) -> Iterator[None]:
    fsb.clear_faults()
    yield
    fsb.clear_faults()


def test_rate_limit_next_n_then_recovers(fsb):
    fsb.set_faults({"faults": [{"kind": "rate_limit", "next": 2}]})
    for _ in range(2):
        status, body = fsb.post(fsb.envelope(READ))
        assert status == 429
        doc = etree.fromstring(body)
        assert text(doc, "control/status") == "failure"
        err = doc.find("errormessage/error")
        assert err.findtext("errorno") == "GW-0010" and err.find("description2") is None
        assert b"API rate limit exceeded" in body
    status, _ = fsb.post(fsb.envelope(READ))
    assert status == 200


def test_502_and_503_run_nothing(fsb):
    for kind, code in (("http_502", 502), ("http_503", 503)):
        fsb.set_faults({"faults": [{"kind": kind, "next": 1}]})
        status, _ = fsb.post(fsb.envelope(create_customer(f"F-{code}")))
        assert status == code
        assert not exists(fsb, f"F-{code}")


def test_524_after_commit_keeps_the_record(fsb):
    fsb.set_faults({"faults": [{"kind": "http_524", "next": 1, "function": "create"}]})
    status, body = fsb.post(fsb.envelope(READ))
    assert status == 200
    status, body = fsb.post(fsb.envelope(create_customer("F-524")))
    assert status == 524
    assert exists(fsb, "F-524")


def test_dropped_connection_after_commit(fsb):
    fsb.set_faults({"faults": [{"kind": "drop_connection", "next": 1}]})
    conn = http.client.HTTPConnection("127.0.0.1", fsb.port, timeout=10)
    conn.request("POST", "/ia/xml/xmlgw.phtml", body=fsb.envelope(create_customer("F-DROP")),
                 headers={"Content-Type": "application/xml"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, http.client.IncompleteRead)):
        conn.getresponse().read()
    assert exists(fsb, "F-DROP")


def test_session_expiry_fault(fsb):
    sid = ok(fsb.call('<function controlid="s"><getAPISession/></function>')).find("data/api/sessionid").text
    ok(fsb.call(READ, session_id=sid))
    fsb.set_faults({"faults": [{"kind": "expire_sessions", "next": 1}]})
    resp = fsb.call(READ, session_id=sid)
    assert text(resp, "operation/authentication/status") == "failure"
    assert errors(resp.find("operation"))[0]["description2"].startswith("Invalid session")


def test_offline_result_failures_run_nothing(fsb):
    fsb.set_faults({"faults": [{"kind": "offline", "next": 1}]})
    resp = fsb.call(create_customer("F-OFF") + READ)
    for res in resp.findall("operation/result"):
        assert text(res, "status") == "failure"
        assert "The Service is Temporarily Off-line" in errors(res)[0]["description2"]
    assert not exists(fsb, "F-OFF")


def test_function_targeting_and_every_nth(fsb):
    fsb.set_faults({"faults": [{"kind": "http_503", "every": 2, "function": "create"}]})
    assert fsb.post(fsb.envelope(READ))[0] == 200
    assert fsb.post(fsb.envelope(READ))[0] == 200
    codes = [fsb.post(fsb.envelope(create_customer(f"F-EV{i}")))[0] for i in range(4)]
    assert codes == [200, 503, 200, 503]
    snapshot = fsb.faults()
    assert snapshot["faults"][0]["matched"] == 4 and snapshot["faults"][0]["fired"] == 2


def test_probability_is_reproducible_with_seed(fsb):
    def run() -> list[int]:
        fsb.set_faults({"faults": [{"kind": "rate_limit", "probability": 0.5}], "seed": 7})
        return [fsb.post(fsb.envelope(READ))[0] for _ in range(16)]

    first, second = run(), run()
    assert first == second
    assert 200 in first and 429 in first


def test_latency_and_concurrency_limit(fsb):
    fsb.set_faults({"faults": [{"kind": "latency", "ms": 400}], "concurrency_limit": 2})
    started = time.monotonic()
    assert fsb.post(fsb.envelope(READ))[0] == 200
    assert time.monotonic() - started >= 0.4
    codes: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        code = fsb.post(fsb.envelope(READ))[0]
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes.count(200) >= 1 and codes.count(429) >= 1
    assert codes.count(200) <= 4
    other = fsb.call(READ, company_id="DEMO-ME")
    ok(other)


def test_stats_count_requests_per_function(fsb):
    fsb.reset_stats()
    fsb.call(READ + READ)
    fsb.call('<function controlid="s"><getAPISession/></function>')
    stats = fsb.stats()
    assert stats["total"] == 2
    assert stats["functions"] == {"readByQuery": 2, "getAPISession": 1}
    fsb.reset_stats()
    assert fsb.stats()["total"] == 0


def test_admin_rejects_bad_spec_and_reports_health(fsb):
    req = urllib.request.Request(f"{fsb.admin_url}/faults", data=json.dumps({"faults": [{"kind": "boom"}]}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req)
    assert info.value.code == 400
    with urllib.request.urlopen(f"{fsb.admin_url}/health") as resp:
        health = json.loads(resp.read())
    assert health["status"] == "ok" and "DEMO-AR" in health["companies"]


def test_clock_moves_whenmodified(fsb):
    ok(fsb.call(create_customer("F-CLK1")))
    fsb.advance_clock(86400 * 3)
    ok(fsb.call(create_customer("F-CLK2")))
    rows = ok(fsb.call("<function controlid='q'><readByQuery><object>CUSTOMER</object><fields>CUSTOMERID,"
                       "WHENMODIFIED</fields><query>CUSTOMERID IN ('F-CLK1','F-CLK2')</query></readByQuery>"
                       "</function>")).find("data")
    stamps = [r.findtext("WHENMODIFIED") for r in rows]
    assert stamps[0][:10] != stamps[1][:10]
