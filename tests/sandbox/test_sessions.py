"""Sessions: getAPISession, endpoint from the Host header, sliding timeout, expiry, entities, showprivate."""

from __future__ import annotations

import http.client
from datetime import datetime

from lxml import etree

from .xmlhelp import errors, ok, records, text

SESSION = '<function controlid="s"><getAPISession/></function>'
READ = ('<function controlid="r"><readByQuery><object>CUSTOMER</object><fields>CUSTOMERID</fields><query/>'
        '<pagesize>1</pagesize></readByQuery></function>')


def _session(sb, **kw) -> tuple[str, str]:
    api = ok(sb.call(SESSION, **kw)).find("data/api")
    return api.findtext("sessionid"), api.findtext("endpoint")


def test_session_id_endpoint_and_use(module_sandbox):
    sid, endpoint = _session(module_sandbox)
    assert sid.endswith("..")
    assert endpoint == module_sandbox.url
    resp = module_sandbox.call(READ, session_id=sid)
    auth = resp.find("operation/authentication")
    assert text(auth, "status") == "success" and text(auth, "userid") == "ws_console"
    assert text(auth, "companyid") == "DEMO-AR" and text(auth, "locationid") == ""
    ok(resp)


def test_endpoint_follows_host_header(module_sandbox):
    port = module_sandbox.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/ia/xml/xmlgw.phtml", body=module_sandbox.envelope(SESSION),
                 headers={"Content-Type": "application/xml", "Host": f"localhost:{port}"})
    body = conn.getresponse().read()
    endpoint = etree.fromstring(body).findtext("operation/result/data/api/endpoint")
    assert endpoint == f"http://localhost:{port}/ia/xml/xmlgw.phtml"


def test_sliding_timeout_and_expiry(sandbox):
    sid, _ = _session(sandbox)

    def timeout_of(resp):
        return datetime.fromisoformat(resp.findtext("operation/authentication/sessiontimeout"))

    first = timeout_of(sandbox.call(READ, session_id=sid))
    sandbox.advance_clock(3600)
    second = timeout_of(sandbox.call(READ, session_id=sid))
    assert (second - first).total_seconds() >= 3599
    sandbox.advance_clock(2 * 3600 + 5)
    resp = sandbox.call(READ, session_id=sid)
    auth = resp.find("operation/authentication")
    assert text(auth, "status") == "failure"
    assert text(auth, "userid") == "" and text(auth, "companyid") == ""
    errs = errors(resp.find("operation"))
    assert errs[0]["errorno"] == "XL03000006" and errs[0]["description2"].startswith("Invalid session")
    assert not resp.findall("operation/result")


def test_unknown_session_is_authentication_failure(module_sandbox):
    resp = module_sandbox.call(READ, session_id="not-a-session..")
    assert text(resp, "operation/authentication/status") == "failure"


def test_sessions_survive_restart(sandbox):
    sid, _ = _session(sandbox)
    sandbox.restart()
    ok(sandbox.call(READ, session_id=sid))


def test_entity_login_and_private_records(module_sandbox):
    me = "DEMO-ME"
    top = module_sandbox.call(READ, company_id=me)
    assert text(top, "operation/authentication/locationid") == ""
    count_q = ('<function controlid="c"><query><object>ARINVOICE</object><select><field>RECORDNO</field>'
               '<field>MEGAENTITYID</field></select>{opts}<pagesize>100</pagesize></query></function>')
    hidden = ok(module_sandbox.call(count_q.format(opts=""), company_id=me))
    shown = ok(module_sandbox.call(count_q.format(opts="<options><showprivate>true</showprivate></options>"),
                                   company_id=me))
    assert hidden.find("data").get("totalcount") == "0"
    all_rows = records(shown)
    assert all_rows and {r["MEGAENTITYID"] for r in all_rows} == {"US-EAST", "US-WEST"}
    east = module_sandbox.call(count_q.format(opts=""), company_id=me, location_id="US-EAST")
    assert text(east, "operation/authentication/locationid") == "US-EAST"
    east_rows = records(ok(east))
    assert east_rows and {r["MEGAENTITYID"] for r in east_rows} == {"US-EAST"}
    sid, _ = _session(module_sandbox, company_id=me, location_id="US-WEST")
    west = module_sandbox.call(count_q.format(opts=""), session_id=sid)
    assert text(west, "operation/authentication/locationid") == "US-WEST"
    assert {r["MEGAENTITYID"] for r in records(ok(west))} == {"US-WEST"}
    api = ok(module_sandbox.call('<function controlid="s"><getAPISession><locationid>US-EAST</locationid>'
                                 '</getAPISession></function>', session_id=sid)).find("data/api")
    assert api.findtext("locationid") == "US-EAST" and api.findtext("sessionid") != sid
    bad = module_sandbox.call(READ, company_id=me, location_id="NOWHERE")
    assert text(bad, "operation/authentication/status") == "failure"
    standalone = module_sandbox.call(READ, location_id="US-EAST")
    assert text(standalone, "operation/authentication/status") == "failure"
