"""Generic create/update/delete of master data and payments, data element conventions and round-trips."""

from __future__ import annotations

from .artools import create_invoice, customer, failure
from .xmlhelp import errors, ok, records, result, text


def test_create_customer_roundtrip_non_ascii_and_ampersand(module_sandbox):
    name = "Bäckerei Ünal & Söhne <GmbH> 'Quote'"
    resp = module_sandbox.call(
        '<function controlid="c1"><create><CUSTOMER><CUSTOMERID>W-UTF</CUSTOMERID>'
        '<NAME>Bäckerei Ünal &amp; Söhne &lt;GmbH&gt; \'Quote\'</NAME><DISPLAYCONTACT><PRINTAS>Bäckerei</PRINTAS>'
        '<EMAIL1>ap@baeckerei.test</EMAIL1><MAILADDRESS><CITY>Köln</CITY></MAILADDRESS></DISPLAYCONTACT>'
        '<TERMNAME>Net 30</TERMNAME></CUSTOMER></create></function>')
    res = ok(resp)
    data = res.find("data")
    assert dict(data.attrib) == {"listtype": "objects", "count": "1"}
    created = data.find("customer")
    assert created.findtext("CUSTOMERID") == "W-UTF" and int(created.findtext("RECORDNO")) > 0
    row = customer(module_sandbox, "W-UTF")
    assert row["NAME"] == name
    assert row["DISPLAYCONTACT.MAILADDRESS.CITY"] == "Köln"
    assert row["STATUS"] == "active" and row["TOTALDUE"] == "0"
    found = records(ok(module_sandbox.call(
        '<function controlid="q"><readByQuery><object>CUSTOMER</object><fields>CUSTOMERID</fields>'
        "<query>NAME = 'Bäckerei Ünal &amp; Söhne &lt;GmbH&gt; \\'Quote\\''</query></readByQuery></function>")))
    assert [r["CUSTOMERID"] for r in found] == ["W-UTF"]


def test_duplicate_customer_is_bl34000061(module_sandbox):
    xml = ('<function controlid="d"><create><CUSTOMER><CUSTOMERID>W-DUP</CUSTOMERID><NAME>Dup</NAME></CUSTOMER>'
           '</create></function>')
    ok(module_sandbox.call(xml))
    res = result(module_sandbox.call(xml))
    assert text(res, "status") == "failure"
    assert dict(res.find("data").attrib) == {"listtype": "objects", "count": "0"}
    errs = errors(res)
    assert errs[0]["errorno"] == "BL34000061"
    assert errs[0]["description2"] == "Another Customer with the given value(s) W-DUP  already exists"
    assert errs[-1]["errorno"] == "BL01001973" and errs[-1]["description2"] == "Could not create Customer record!"


def test_bad_email_and_missing_name(module_sandbox):
    errs = failure(module_sandbox.call(
        '<function controlid="e"><create><CUSTOMER><CUSTOMERID>W-EM</CUSTOMERID><NAME>x</NAME><DISPLAYCONTACT>'
        '<PRINTAS>x</PRINTAS><EMAIL1>x@</EMAIL1></DISPLAYCONTACT></CUSTOMER></create></function>'))
    assert errs[0]["errorno"] == "BL03000018" and "x@" in errs[0]["description2"]
    errs = failure(module_sandbox.call('<function controlid="n"><create><CUSTOMER><CUSTOMERID>W-NN</CUSTOMERID>'
                                       '</CUSTOMER></create></function>'))
    assert "NAME" in errs[0]["description2"]


def test_update_moves_whenmodified_and_changes_only_given_fields(module_sandbox):
    ok(module_sandbox.call('<function controlid="u0"><create><CUSTOMER><CUSTOMERID>W-UPD</CUSTOMERID>'
                           '<NAME>Before</NAME><CREDITLIMIT>100</CREDITLIMIT></CUSTOMER></create></function>'))
    before = customer(module_sandbox, "W-UPD")
    module_sandbox.advance_clock(90)
    res = ok(module_sandbox.call('<function controlid="u1"><update><CUSTOMER><CUSTOMERID>W-UPD</CUSTOMERID>'
                                 '<NAME>After</NAME></CUSTOMER></update></function>'))
    assert res.find("data/customer/CUSTOMERID").text == "W-UPD"
    after = customer(module_sandbox, "W-UPD")
    assert after["NAME"] == "After" and after["CREDITLIMIT"] == "100"
    assert after["WHENMODIFIED"] != before["WHENMODIFIED"]
    errs = failure(module_sandbox.call('<function controlid="u2"><update><CUSTOMER><CUSTOMERID>W-NONE</CUSTOMERID>'
                                       '<NAME>x</NAME></CUSTOMER></update></function>'))
    assert errs[0]["description2"]


def test_master_data_create_and_delete(module_sandbox):
    resp = module_sandbox.call(
        '<function controlid="m1"><create><GLACCOUNT><ACCOUNTNO>4555</ACCOUNTNO><TITLE>Test Revenue</TITLE>'
        '<ACCOUNTTYPE>incomestatement</ACCOUNTTYPE><NORMALBALANCE>credit</NORMALBALANCE></GLACCOUNT>'
        '<DEPARTMENT><DEPARTMENTID>W-DEP</DEPARTMENTID><TITLE>Dept</TITLE></DEPARTMENT>'
        '<LOCATION><LOCATIONID>W-LOC</LOCATIONID><NAME>Loc</NAME></LOCATION></create></function>'
        '<function controlid="m2"><create><ARACCOUNTLABEL><ACCOUNTLABEL>W Label</ACCOUNTLABEL>'
        '<DESCRIPTION>d</DESCRIPTION><GLACCOUNTNO>4555</GLACCOUNTNO></ARACCOUNTLABEL></create></function>')
    made = ok(resp, 0).find("data")
    assert [c.tag for c in made] == ["glaccount", "department", "location"]
    assert made.find("glaccount/ACCOUNTNO").text == "4555"
    ok(resp, 1)
    errs = failure(module_sandbox.call('<function controlid="m3"><create><GLACCOUNT><ACCOUNTNO>4555</ACCOUNTNO>'
                                       '<TITLE>x</TITLE></GLACCOUNT></create></function>'))
    assert errs[0]["description2"] == "The account number '4555' already exists"
    errs = failure(module_sandbox.call('<function controlid="m4"><create><ARACCOUNTLABEL>'
                                       '<ACCOUNTLABEL>Bad</ACCOUNTLABEL><DESCRIPTION>d</DESCRIPTION><GLACCOUNTNO>9999</GLACCOUNTNO></ARACCOUNTLABEL>'
                                       '</create></function>'))
    assert "9999" in errs[0]["description2"]
    dep = records(ok(module_sandbox.call("<function controlid='q'><readByQuery><object>DEPARTMENT</object>"
                                         "<fields>RECORDNO</fields><query>DEPARTMENTID = 'W-DEP'</query>"
                                         "</readByQuery></function>")))[0]["RECORDNO"]
    res = ok(module_sandbox.call(f'<function controlid="del"><delete><object>DEPARTMENT</object><keys>{dep}</keys>'
                                 f'</delete></function>'))
    assert res.find("data") is None
    errs = failure(module_sandbox.call(f'<function controlid="del2"><delete><object>DEPARTMENT</object>'
                                       f'<keys>{dep}</keys></delete></function>'))
    assert errs[0]["description2"] == f"Cannot find department with key '{dep}' to delete."


def test_generic_create_of_arinvoice_is_refused(module_sandbox):
    errs = failure(module_sandbox.call('<function controlid="x"><create><ARINVOICE><CUSTOMERID>C-00001</CUSTOMERID>'
                                       '</ARINVOICE></create></function>'))
    assert errs[0]["errorno"] == "BL01001973"


def test_arpymt_generic_create_applies_and_draft_submit(module_sandbox):
    key = create_invoice(module_sandbox, "C-00002", [("glaccountno", "4000", "300.00")], cid="i-arpymt")
    resp = module_sandbox.call(
        f'<function controlid="p1"><create><ARPYMT><PAYMENTMETHOD>EFT</PAYMENTMETHOD><CUSTOMERID>C-00002</CUSTOMERID>'
        f'<UNDEPOSITEDACCOUNTNO>1210</UNDEPOSITEDACCOUNTNO><DOCNUMBER>WIRE-88</DOCNUMBER>'
        f'<RECEIPTDATE>05/15/2024</RECEIPTDATE><ACTION>Draft</ACTION><ARPYMTDETAILS><ARPYMTDETAIL>'
        f'<RECORDKEY>{key}</RECORDKEY><TRX_PAYMENTAMOUNT>100.00</TRX_PAYMENTAMOUNT></ARPYMTDETAIL></ARPYMTDETAILS>'
        f'</ARPYMT></create></function>')
    pay_key = ok(resp).find("data/arpymt/RECORDNO").text
    from .artools import invoice
    inv = invoice(module_sandbox, key)
    assert inv["TOTALDUE"] == "300" and inv["TOTALSELECTED"] == "100" and inv["STATE"] == "Posted"
    ok(module_sandbox.call(f'<function controlid="p2"><update><ARPYMT><RECORDNO>{pay_key}</RECORDNO>'
                           f'<ACTION>Submit</ACTION></ARPYMT></update></function>'))
    inv = invoice(module_sandbox, key)
    assert (inv["TOTALDUE"], inv["TOTALPAID"], inv["TOTALSELECTED"], inv["STATE"]) == ("200", "100", "0",
                                                                                          "Partially Paid")
    pay = records(ok(module_sandbox.call(f"<function controlid='q'><readByQuery><object>ARPYMT</object>"
                                         f"<fields>STATE,DISPLAYSTATE,DOCNUMBER</fields>"
                                         f"<query>RECORDNO = {pay_key}</query></readByQuery></function>")))[0]
    assert pay == {"STATE": "C", "DISPLAYSTATE": "Complete", "DOCNUMBER": "WIRE-88"}
    errs = failure(module_sandbox.call(f'<function controlid="p3"><delete><object>ARPYMT</object>'
                                       f'<keys>{pay_key}</keys></delete></function>'))
    assert "draft" in errs[0]["description2"]
