"""Raw-XML regressions for what driving the official Sage Intacct JS SDK exposed: HTTPS, gzip, legacy element
order, and the CUSTOMER fields the SDK writes. Each test stands without node or the SDK installed."""

from __future__ import annotations

import gzip
import http.client
import socket
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest
from lxml import etree

from intacct_sandbox.server import accepts_gzip
from tests.fixtures.sandbox import REPO_ROOT, SandboxHandle, start_sandbox

from .artools import customer
from .xmlhelp import errors, ok, text

SESSION = '<function controlid="s"><getAPISession /></function>'


def _invoice(header: str, customer_id: str = "C-00001") -> str:
    """A create_invoice whose header elements after datecreated are ``header`` (as the SDK would write them)."""
    return (f'<function controlid="i"><create_invoice><customerid>{customer_id}</customerid>'
            "<datecreated><year>2024</year><month>05</month><day>01</day></datecreated>"
            f"{header}<invoiceitems><lineitem><glaccountno>4000</glaccountno><amount>10</amount></lineitem>"
            "</invoiceitems></create_invoice></function>")


def _control_error(response: etree._Element) -> dict[str, str]:
    assert text(response, "control/status") == "failure", etree.tostring(response)[:800]
    return errors(response)[0]


# --- create_invoice element order (section 6.6 vs. the official SDKs' InvoiceCreate) ---

def test_create_invoice_accepts_the_sdk_order_action_then_batchkey_and_onhold(module_sandbox):
    res = ok(module_sandbox.call(_invoice(
        "<datedue><year>2024</year><month>05</month><day>31</day></datedue><action>Draft</action>"
        "<batchkey>1</batchkey><invoiceno>SDK-ORDER-1</invoiceno><ponumber>PO-1</ponumber><onhold>false</onhold>"
        "<description>d</description><externalid>E-1</externalid><basecurr>USD</basecurr><currency>USD</currency>"
        "<exchratetype>Intacct Daily Rate</exchratetype><nogl>false</nogl>")))
    assert text(res, "key").isdigit()


def test_create_invoice_still_accepts_the_reference_order_batchkey_then_action(module_sandbox):
    ok(module_sandbox.call(_invoice("<termname>Net 30</termname><batchkey>1</batchkey><action>Submit</action>")))


@pytest.mark.parametrize("header, misplaced", [
    ("<termname>Net 30</termname><action>Submit</action><batchkey>1</batchkey><action>Draft</action>", "action"),
    ("<termname>Net 30</termname><batchkey>1</batchkey><batchkey>2</batchkey>", "batchkey"),
    ("<termname>Net 30</termname><onhold>false</onhold><ponumber>PO</ponumber>", "ponumber"),
    ("<termname>Net 30</termname><invoiceno>X</invoiceno><action>Submit</action>", "action"),
])
def test_create_invoice_order_is_still_checked(module_sandbox, header, misplaced):
    error = _control_error(module_sandbox.call(_invoice(header)))
    assert error["errorno"] == "XL03000003"
    assert f"Element '{misplaced}': This element is not expected" in error["description2"]


def test_order_error_lists_the_unordered_partner_as_expected(module_sandbox):
    error = _control_error(module_sandbox.call(_invoice(
        "<termname>Net 30</termname><action>Submit</action><action>Draft</action>")))
    assert "Expected is one of ( batchkey, invoiceno," in error["description2"]


# --- CUSTOMER fields written by the official SDKs' CustomerCreate/CustomerUpdate (section 7) ---

def test_customer_create_accepts_the_fields_the_sdk_writes(module_sandbox):
    ok(module_sandbox.call(
        '<function controlid="c"><create><CUSTOMER><CUSTOMERID>SDK-FIELDS</CUSTOMERID><NAME>Fields</NAME>'
        "<DISPLAYCONTACT><PRINTAS>Fields Inc</PRINTAS><TAXABLE>true</TAXABLE><TAXGROUP>CA</TAXGROUP>"
        "<PREFIX>Ms</PREFIX><INITIAL>Q</INITIAL><PAGER>1</PAGER></DISPLAYCONTACT><ONETIME>false</ONETIME>"
        "<STATUS>active</STATUS><HIDEDISPLAYCONTACT>false</HIDEDISPLAYCONTACT><CUSTREPID>S1</CUSTREPID>"
        "<TERRITORYID>NE</TERRITORYID><SUPDOCID>A1</SUPDOCID><TERMNAME>Net 30</TERMNAME>"
        "<SHIPPINGMETHOD>USPS</SHIPPINGMETHOD><RESALENO>123</RESALENO><CREDITLIMIT>1234.56</CREDITLIMIT>"
        "<ONHOLD>false</ONHOLD><DELIVERYOPTIONS>Print</DELIVERYOPTIONS><CUSTMESSAGEID>hi</CUSTMESSAGEID>"
        "<COMMENTS>c</COMMENTS><CURRENCY>USD</CURRENCY><ARINVOICEPRINTTEMPLATEID>t1</ARINVOICEPRINTTEMPLATEID>"
        "<OEQUOTEPRINTTEMPLATEID>t2</OEQUOTEPRINTTEMPLATEID><OEORDERPRINTTEMPLATEID>t3</OEORDERPRINTTEMPLATEID>"
        "<OELISTPRINTTEMPLATEID>t4</OELISTPRINTTEMPLATEID><OEINVOICEPRINTTEMPLATEID>t5</OEINVOICEPRINTTEMPLATEID>"
        "<OEADJPRINTTEMPLATEID>t6</OEADJPRINTTEMPLATEID><OEOTHERPRINTTEMPLATEID>t7</OEOTHERPRINTTEMPLATEID>"
        "<OBJECTRESTRICTION>Unrestricted</OBJECTRESTRICTION><RESTRICTEDLOCATIONS>HQ#~#REMOTE</RESTRICTEDLOCATIONS>"
        "<RESTRICTEDDEPARTMENTS>SALES</RESTRICTEDDEPARTMENTS></CUSTOMER></create></function>"))
    row = customer(module_sandbox, "SDK-FIELDS")
    assert row["CREDITLIMIT"] == "1234.56" and row["HIDEDISPLAYCONTACT"] == "" and row["DELIVERYOPTIONS"] == ""


def test_customer_create_still_rejects_unknown_fields(module_sandbox):
    res = module_sandbox.call('<function controlid="c"><create><CUSTOMER><CUSTOMERID>SDK-BAD</CUSTOMERID>'
                              "<NAME>Bad</NAME><NOSUCHFIELD>1</NOSUCHFIELD></CUSTOMER></create></function>")
    assert errors(res.find("operation/result"))[0]["description2"].startswith("Unknown field 'NOSUCHFIELD'")


def test_billto_shipto_contact_names_do_not_overwrite_the_display_contact(module_sandbox):
    ok(module_sandbox.call(
        '<function controlid="c"><create><CUSTOMER><CUSTOMERID>SDK-CONTACTS</CUSTOMERID><NAME>Contacts</NAME>'
        "<DISPLAYCONTACT><CONTACTNAME>Main Contact</CONTACTNAME><PRINTAS>Contacts Ltd</PRINTAS>"
        "<EMAIL1>main@example.com</EMAIL1></DISPLAYCONTACT><CONTACTINFO><CONTACTNAME>primary</CONTACTNAME>"
        "</CONTACTINFO><BILLTO><CONTACTNAME>bill to</CONTACTNAME></BILLTO><SHIPTO><CONTACTNAME>ship to</CONTACTNAME>"
        "</SHIPTO></CUSTOMER></create></function>"))
    ok(module_sandbox.call(
        '<function controlid="u"><update><CUSTOMER><CUSTOMERID>SDK-CONTACTS</CUSTOMERID>'
        "<BILLTO><CONTACTNAME>other</CONTACTNAME></BILLTO></CUSTOMER></update></function>"))
    row = customer(module_sandbox, "SDK-CONTACTS")
    assert row["DISPLAYCONTACT.CONTACTNAME"] == "Main Contact"
    assert row["DISPLAYCONTACT.PRINTAS"] == "Contacts Ltd" and row["DISPLAYCONTACT.EMAIL1"] == "main@example.com"


# --- gzip when the client asks (the official SDKs send Accept-Encoding: gzip) ---

def _raw_post(handle: SandboxHandle, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(handle.url, data=body, method="POST",
                                 headers={"Content-Type": "application/xml", **headers})
    with urllib.request.urlopen(req, timeout=30, context=handle.ssl_context()) as resp:
        return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()


@pytest.mark.parametrize("header", ["gzip", "gzip, deflate", "deflate, gzip;q=0.5", "*", "x-gzip"])
def test_gzip_reply_when_accepted(module_sandbox, header):
    status, headers, body = _raw_post(module_sandbox, module_sandbox.envelope(SESSION), {"Accept-Encoding": header})
    assert status == 200 and headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert int(headers["content-length"]) == len(body)
    document = etree.fromstring(gzip.decompress(body))
    assert text(document, "operation/result/status") == "success"


@pytest.mark.parametrize("header", [None, "identity", "gzip;q=0", "deflate", "*;q=0", "br"])
def test_plain_reply_otherwise(module_sandbox, header):
    status, headers, body = _raw_post(module_sandbox, module_sandbox.envelope(SESSION),
                                      {"Accept-Encoding": header} if header else {})
    assert status == 200 and "content-encoding" not in headers
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


def test_gateway_error_bodies_are_compressed_too(module_sandbox):
    module_sandbox.set_faults({"faults": [{"kind": "rate_limit", "next": 1}]})
    try:
        req = urllib.request.Request(module_sandbox.url, data=module_sandbox.envelope(SESSION), method="POST",
                                     headers={"Content-Type": "application/xml", "Accept-Encoding": "gzip"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=30)
        assert info.value.code == 429 and info.value.headers["Content-Encoding"] == "gzip"
        assert b"GW-0010" in gzip.decompress(info.value.read())
    finally:
        module_sandbox.clear_faults()


def test_accepts_gzip_parser():
    assert accepts_gzip("gzip") and accepts_gzip("GZip;Q=1.0") and accepts_gzip("identity, *;q=0.1")
    assert not accepts_gzip(None) and not accepts_gzip("") and not accepts_gzip("gzip;q=0, *")
    assert not accepts_gzip("gzip;q=0.0") and not accepts_gzip("gzip;q=bogus")


# --- HTTPS (--tls-cert/--tls-key) ---

@pytest.fixture(scope="module")
def https_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    handle = start_sandbox(tmp_path_factory.mktemp("https_sandbox"), seed="minimal", tls=True)
    try:
        yield handle
    finally:
        handle.stop()


def _https(handle: SandboxHandle, server_name: str) -> http.client.HTTPSConnection:
    """An HTTPS connection to the sandbox port that presents ``server_name`` (SNI, certificate check, Host)."""
    context = handle.ssl_context()
    assert context is not None
    conn = http.client.HTTPSConnection(server_name, handle.port, context=context, timeout=30)
    conn.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", handle.port), timeout=30),
                                    server_hostname=server_name)
    return conn


def test_https_endpoint_is_the_host_the_client_used(https_sandbox):
    conn = _https(https_sandbox, "api.intacct.com")
    try:
        for _ in range(2):  # both over one kept-alive TLS connection
            conn.request("POST", "/ia/xml/xmlgw.phtml", body=https_sandbox.envelope(SESSION),
                         headers={"Content-Type": "application/xml"})
            resp = conn.getresponse()
            document = etree.fromstring(resp.read())
            assert resp.status == 200
            assert text(document, "operation/result/data/api/endpoint") == \
                f"https://api.intacct.com:{https_sandbox.port}/ia/xml/xmlgw.phtml"
    finally:
        conn.close()


def test_https_respects_x_forwarded_proto(https_sandbox):
    conn = _https(https_sandbox, "localhost")
    try:
        conn.request("POST", "/ia/xml/xmlgw.phtml", body=https_sandbox.envelope(SESSION),
                     headers={"Content-Type": "text/xml", "X-Forwarded-Proto": "http"})
        document = etree.fromstring(conn.getresponse().read())
        assert text(document, "operation/result/data/api/endpoint") == \
            f"http://localhost:{https_sandbox.port}/ia/xml/xmlgw.phtml"
    finally:
        conn.close()


def test_plain_http_to_the_tls_port_does_not_block_others(https_sandbox):
    stalled = socket.create_connection(("127.0.0.1", https_sandbox.port), timeout=10)
    plain = socket.create_connection(("127.0.0.1", https_sandbox.port), timeout=10)
    try:
        plain.sendall(b"POST /ia/xml/xmlgw.phtml HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        # the non-TLS request is dropped, and a silent client does not hold up the accept loop
        assert text(ok(https_sandbox.call(SESSION)), "data/api/sessionid").endswith("..")
    finally:
        stalled.close()
        plain.close()


def test_https_refuses_an_untrusted_client_context(https_sandbox):
    with pytest.raises(ssl.SSLCertVerificationError), \
            socket.create_connection(("127.0.0.1", https_sandbox.port), timeout=10) as raw:
        ssl.create_default_context().wrap_socket(raw, server_hostname="api.intacct.com")


def test_tls_flags_go_together(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "intacct_sandbox", "--db", str(tmp_path / "x.db"),
                           "--tls-cert", str(tmp_path / "cert.pem")], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert "--tls-cert and --tls-key go together" in proc.stderr
