"""Envelope-level behaviour: control, authentication and parse failures, echoes, formatting, transport."""

from __future__ import annotations

from lxml import etree

from .xmlhelp import errors, ok, result, results, text

READ = ('<function controlid="{cid}"><readByQuery><object>CUSTOMER</object><fields>CUSTOMERID</fields>'
        '<query></query><pagesize>1</pagesize></readByQuery></function>')


def _assert_error_shape(errs: list[dict[str, str]]) -> None:
    assert errs
    for err in errs:
        assert set(err) == {"errorno", "description", "description2", "correction"}
        assert err["description2"].strip()


def test_success_echoes_control_and_function_ids(module_sandbox):
    body = module_sandbox.envelope(READ.format(cid="first") + READ.format(cid="second &amp; third"))
    status, raw = module_sandbox.post(body)
    assert status == 200
    resp = etree.fromstring(raw)
    assert text(resp, "control/status") == "success"
    assert text(resp, "control/senderid") == module_sandbox.sender_id
    assert text(resp, "control/uniqueid") == "false"
    assert text(resp, "control/dtdversion") == "3.0"
    assert text(resp, "control/controlid")
    assert [text(r, "controlid") for r in results(resp)] == ["first", "second & third"]
    assert [text(r, "function") for r in results(resp)] == ["readByQuery", "readByQuery"]
    auth = resp.find("operation/authentication")
    assert text(auth, "status") == "success"
    assert text(auth, "companyid") == "DEMO-AR"
    assert text(auth, "sessiontimeout").endswith("+00:00")


def test_content_type_and_whitespace_switch(module_sandbox):
    import urllib.request

    for whitespace, expect_newlines in ((False, False), (True, True)):
        req = urllib.request.Request(module_sandbox.url, method="POST", headers={"Content-Type": "application/xml"},
                                     data=module_sandbox.envelope(READ.format(cid="w"), whitespace=whitespace))
        with urllib.request.urlopen(req) as resp:
            assert resp.headers["Content-Type"] == "text/xml; charset=UTF-8"
            raw = resp.read()
        assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        body = raw.split(b"?>", 1)[1].strip()
        assert (b"\n" in body) is expect_newlines


def test_bad_sender_is_control_failure(module_sandbox):
    body = module_sandbox.envelope(READ.format(cid="x")).replace(b"sandbox-sender-pw", b"wrong")
    status, raw = module_sandbox.post(body)
    assert status == 200
    resp = etree.fromstring(raw)
    assert text(resp, "control/status") == "failure"
    assert resp.find("operation") is None
    errs = errors(resp)
    _assert_error_shape(errs)
    assert errs[0]["errorno"] == "XL03000006"
    assert errs[0]["description2"] == "Incorrect Intacct XML Partner ID or password."


def test_bad_login_is_authentication_failure(module_sandbox):
    body = module_sandbox.envelope(READ.format(cid="x")).replace(b"sandbox-user-pw", b"nope")
    resp = etree.fromstring(module_sandbox.post(body)[1])
    assert text(resp, "control/status") == "success"
    auth = resp.find("operation/authentication")
    assert text(auth, "status") == "failure"
    assert text(auth, "userid") == "ws_console" and text(auth, "companyid") == "DEMO-AR"
    assert auth.find("sessiontimeout") is None
    assert not results(resp)
    errs = errors(resp.find("operation"))
    _assert_error_shape(errs)
    assert errs[0]["errorno"] == "XL03000006"
    assert errs[0]["description2"] == "Sign-in information is incorrect"


def test_unauthorised_sender_wording(module_sandbox):
    body = module_sandbox.envelope(READ.format(cid="x"))
    body = body.replace(b"<senderid>ar-console-sender", b"<senderid>unlisted-sender").replace(
        b"sandbox-sender-pw", b"unlisted-sender-pw")
    resp = etree.fromstring(module_sandbox.post(body)[1])
    errs = errors(resp.find("operation"))
    assert errs[0]["description"] == "Invalid Web Services Authorization"
    assert errs[0]["description2"] == ("The sender ID 'unlisted-sender' is not authorized to make Web Services "
                                       "requests to company ID 'DEMO-AR'.")
    assert errs[0]["correction"].startswith("Contact the company administrator")


def test_malformed_xml_is_xl03000003_and_runs_nothing(module_sandbox):
    module_sandbox.reset_stats()
    body = module_sandbox.envelope(
        '<function controlid="c"><create><CUSTOMER><CUSTOMERID>BAD</CUSTOMERID><NAME>x</CUSTOMER></create>'
        '</function>')
    status, raw = module_sandbox.post(body)
    assert status == 200
    resp = etree.fromstring(raw)
    assert text(resp, "control/status") == "failure"
    assert text(resp, "control/senderid") == module_sandbox.sender_id
    errs = errors(resp)
    _assert_error_shape(errs)
    assert errs[0]["errorno"] == "XL03000003"
    assert "mismatch" in errs[0]["description2"] and "Line:" in errs[0]["description2"]
    found = module_sandbox.call('<function controlid="r"><readByName><object>CUSTOMER</object><keys>BAD</keys>'
                                '</readByName></function>')
    assert ok(found).find("data").get("count") == "0"


def test_missing_function_controlid_is_schema_error(module_sandbox):
    body = module_sandbox.envelope("<function><getAPISession/></function>")
    resp = etree.fromstring(module_sandbox.post(body)[1])
    assert text(resp, "control/status") == "failure"
    assert errors(resp)[0]["errorno"] == "XL03000003"


def test_entities_are_not_expanded(module_sandbox):
    body = (b'<?xml version="1.0"?><!DOCTYPE request [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + module_sandbox.envelope(READ.format(cid="&x;")).split(b"?>", 1)[1])
    status, raw = module_sandbox.post(body)
    assert status == 200
    assert b"root:" not in raw


def test_unknown_function_is_refused_at_control_level(module_sandbox):
    """No function of that name exists, so the schema refuses the whole request: nothing runs."""
    resp = module_sandbox.call('<function controlid="u"><frobnicate/></function>' + READ.format(cid="after"))
    assert text(resp, "control/status") == "failure" and resp.find("operation") is None
    [err] = errors(resp)
    _assert_error_shape([err])
    assert err["errorno"] == "XL03000003" and "'frobnicate'" in err["description2"]


def test_real_but_unmodelled_function_is_a_result_failure(module_sandbox):
    resp = module_sandbox.call('<function controlid="u"><get_list object="customer"/></function>'
                               + READ.format(cid="after"))
    res = result(resp, 0)
    assert text(res, "status") == "failure" and text(res, "function") == "get_list"
    _assert_error_shape(errors(res))
    ok(resp, 1)


def test_paths_and_methods(module_sandbox):
    base = module_sandbox.url.rsplit("/ia/", 1)[0]
    body = module_sandbox.envelope(READ.format(cid="p"))
    for path in ("/ia/xml/xmlgw.phtml/", "/xmlgw.phtml", "/some/other/xmlgw.phtml"):
        status, raw = module_sandbox.post(body, url=base + path)
        assert status == 200 and b"<status>success</status>" in raw
    assert module_sandbox.post(body, url=base + "/ia/xml/other.php")[0] == 404
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlopen(module_sandbox.url)
        raise AssertionError("GET must not succeed")
    except urllib.error.HTTPError as exc:
        assert exc.code == 405


def test_gateway_error_shape_on_policy(module_sandbox):
    body = module_sandbox.envelope(READ.format(cid="p")).replace(
        b"<includewhitespace>", b"<policyid>nope</policyid><includewhitespace>")
    resp = etree.fromstring(module_sandbox.post(body)[1])
    assert text(resp, "control/status") == "failure"
    assert errors(resp)[0]["description2"] == "nope is not a valid transport policy."
