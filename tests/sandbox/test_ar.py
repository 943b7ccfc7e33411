"""A/R rules: invoice totals, labels, payments moving TOTALPAID/TOTALDUE/STATE, overpayments, reversals,
validation failures, transactions and the uniqueid guard."""

from __future__ import annotations

from lxml import etree

from .artools import create_invoice, customer, failure, invoice, invoice_xml, payment_xml
from .xmlhelp import errors, ok, records, result, results, text


def test_invoice_totals_from_lines_and_labels(module_sandbox):
    before = customer(module_sandbox, "C-00001")["TOTALDUE"]
    key = create_invoice(module_sandbox, "C-00001", [("accountlabel", "Services Revenue", "1000.005"),
                                                     ("glaccountno", "4010", "250.10"), ("glaccountno", "4020", "0.1")],
                         invoiceno="T-TOTALS")
    inv = invoice(module_sandbox, key)
    assert inv["RECORDID"] == "T-TOTALS"
    assert inv["TOTALENTERED"] == "1250.21" and inv["TOTALDUE"] == "1250.21" and inv["TOTALPAID"] == "0"
    assert inv["TRX_TOTALENTERED"] == "1250.21"
    assert inv["STATE"] == "Posted" and inv["WHENCREATED"] == "05/01/2024" and inv["WHENDUE"] == "05/31/2024"
    assert inv["WHENPOSTED"] == "05/01/2024"
    lines = inv["_lines"]
    assert [l["AMOUNT"] for l in lines] == ["1000.01", "250.1", "0.1"]
    assert lines[0]["ACCOUNTLABEL"] == "Services Revenue" and lines[0]["ACCOUNTNO"] == "4000"
    assert [l["LINE_NO"] for l in lines] == ["1", "2", "3"]
    after = customer(module_sandbox, "C-00001")["TOTALDUE"]
    assert round(float(after) - float(before), 2) == 1250.21


def test_draft_invoice_does_not_touch_balance(module_sandbox):
    before = customer(module_sandbox, "C-00003")["TOTALDUE"]
    key = create_invoice(module_sandbox, "C-00003", [("glaccountno", "4000", "10")], action="Draft")
    assert invoice(module_sandbox, key)["STATE"] == "Draft"
    assert customer(module_sandbox, "C-00003")["TOTALDUE"] == before


def test_payments_move_state_lines_top_to_bottom_and_customer(module_sandbox):
    key = create_invoice(module_sandbox, "C-00002", [("glaccountno", "4000", "100"), ("glaccountno", "4010", "50")])
    cust0 = customer(module_sandbox, "C-00002")
    inv0 = invoice(module_sandbox, key)
    module_sandbox.advance_clock(120)
    pay = text(ok(module_sandbox.call(payment_xml("C-00002", "120", [(key, "120")]))), "key")
    inv = invoice(module_sandbox, key)
    assert (inv["TOTALPAID"], inv["TOTALDUE"], inv["STATE"]) == ("120", "30", "Partially Paid")
    assert [l["TOTALPAID"] for l in inv["_lines"]] == ["100", "20"]
    assert inv["WHENMODIFIED"] != inv0["WHENMODIFIED"] and inv["WHENPAID"] == ""
    cust = customer(module_sandbox, "C-00002")
    assert round(float(cust0["TOTALDUE"]) - float(cust["TOTALDUE"]), 2) == 120
    assert cust["WHENMODIFIED"] != cust0["WHENMODIFIED"]
    ok(module_sandbox.call(payment_xml("C-00002", "30", [(key, "30")], cid="pay2")))
    inv = invoice(module_sandbox, key)
    assert (inv["TOTALDUE"], inv["STATE"], inv["WHENPAID"]) == ("0", "Paid", "05/15/2024")
    errs = failure(module_sandbox.call(payment_xml("C-00002", "1", [(key, "1")], cid="pay3")))
    assert errs[-1]["description2"] == "Could not create AR Payment record!"
    ok(module_sandbox.call(f'<function controlid="rv"><reverse_arpayment key="{pay}">'
                           f'<datereversed><year>2024</year><month>05</month><day>20</day></datereversed>'
                           f'</reverse_arpayment></function>'))
    inv = invoice(module_sandbox, key)
    assert (inv["TOTALPAID"], inv["TOTALDUE"], inv["STATE"]) == ("30", "120", "Partially Paid")
    assert [l["TOTALPAID"] for l in inv["_lines"]] == ["0", "30"]
    state = records(ok(module_sandbox.call(f"<function controlid='q'><readByQuery><object>ARPYMT</object>"
                                           f"<fields>STATE,DISPLAYSTATE</fields><query>RECORDNO = {pay}</query>"
                                           f"</readByQuery></function>")))[0]
    assert state == {"STATE": "V", "DISPLAYSTATE": "Reversed"}


def test_overpayment_remainder_then_apply(module_sandbox):
    a = create_invoice(module_sandbox, "C-00004", [("glaccountno", "4000", "40")])
    b = create_invoice(module_sandbox, "C-00004", [("glaccountno", "4000", "70")])
    pay = text(ok(module_sandbox.call(payment_xml("C-00004", "100", [(a, "40")]))), "key")
    rem = records(ok(module_sandbox.call(f"<function controlid='q'><readByQuery><object>ARPYMT</object>"
                                         f"<fields>RECORDNO,RECORDTYPE,TOTALDUE,PARENTPAYMENTKEY</fields>"
                                         f"<query>PARENTPAYMENTKEY = {pay}</query></readByQuery></function>")))
    assert len(rem) == 1 and rem[0]["RECORDTYPE"] == "rr" and rem[0]["TOTALDUE"] == "60"
    errs = failure(module_sandbox.call(
        f'<function controlid="ap"><apply_arpayment><arpaymentkey>{pay}</arpaymentkey>'
        f'<paymentdate><year>2024</year><month>05</month><day>20</day></paymentdate><arpaymentitems>'
        f'<arpaymentitem><invoicekey>{b}</invoicekey><amount>61</amount></arpaymentitem></arpaymentitems>'
        f'</apply_arpayment></function>'))
    assert errs[0]["description2"]
    ok(module_sandbox.call(
        f'<function controlid="ap2"><apply_arpayment><arpaymentkey>{pay}</arpaymentkey>'
        f'<paymentdate><year>2024</year><month>05</month><day>20</day></paymentdate><arpaymentitems>'
        f'<arpaymentitem><invoicekey>{b}</invoicekey><amount>60</amount></arpaymentitem></arpaymentitems>'
        f'</apply_arpayment></function>'))
    inv_b = invoice(module_sandbox, b)
    assert (inv_b["TOTALPAID"], inv_b["TOTALDUE"], inv_b["STATE"]) == ("60", "10", "Partially Paid")


def test_invoice_validation_failures(module_sandbox):
    cases = [
        (invoice_xml("C-NOPE", [("glaccountno", "4000", "1")]), "Invalid Customer 'C-NOPE' specified."),
        (invoice_xml("C-00001", [("glaccountno", "9999", "1")]), "Invalid GL Account '9999' specified."),
        (invoice_xml("C-00001", [("glaccountno", "4900", "1")]), "GL Account '4900' is inactive."),
        (invoice_xml("C-00001", [("accountlabel", "Nope", "1")]), "Invalid Account Label 'Nope' specified."),
        (invoice_xml("C-00001", [("accountlabel", "Legacy Revenue", "1")]), "Account Label 'Legacy Revenue' is inactive."),
        (invoice_xml("C-00001", [("glaccountno", "4000", "abc")]), "Invalid amount 'abc' for amount."),
        (invoice_xml("C-00001", [("glaccountno", "4000", "1")], termname="Net 999"), "Invalid Term 'Net 999' specified."),
    ]
    for xml, message in cases:
        errs = failure(module_sandbox.call(xml))
        assert errs[0]["errorno"] == "BL01001973" and errs[0]["description2"] == message
        assert errs[-1]["description2"] == "Could not create Invoice record!"


def test_inactive_customer_is_refused(module_sandbox):
    ok(module_sandbox.call('<function controlid="ic"><create><CUSTOMER><CUSTOMERID>W-INACT</CUSTOMERID>'
                           '<NAME>Inactive</NAME><STATUS>inactive</STATUS></CUSTOMER></create></function>'))
    errs = failure(module_sandbox.call(invoice_xml("W-INACT", [("glaccountno", "4000", "1")])))
    assert "inactive" in errs[0]["description2"]


def test_multi_entity_requires_location_and_stamps_entity(module_sandbox):
    cust = records(ok(module_sandbox.call("<function controlid='c'><readByQuery><object>CUSTOMER</object>"
                                          "<fields>CUSTOMERID</fields><query>STATUS = 'T'</query>"
                                          "<pagesize>1</pagesize></readByQuery></function>", company_id="DEMO-ME")))
    cust_id = cust[0]["CUSTOMERID"]
    errs = failure(module_sandbox.call(invoice_xml(cust_id, [("glaccountno", "4000", "5")]), company_id="DEMO-ME",
                                       location_id="US-EAST"))
    assert errs[0]["description2"] == ("Use of empty Location is invalid. A valid Multi-Entity Location must be "
                                       "specified.")
    key = text(ok(module_sandbox.call(invoice_xml(cust_id, [("glaccountno", "4000", "5")],
                                                  extra_line="<locationid>US-EAST-OPS</locationid>"),
                                      company_id="DEMO-ME", location_id="US-EAST")), "key")
    inv = invoice(module_sandbox, key, company_id="DEMO-ME", location_id="US-EAST")
    assert inv["MEGAENTITYID"] == "US-EAST" and inv["_lines"][0]["LOCATIONID"] == "US-EAST-OPS"
    hidden = ok(module_sandbox.call(f'<function controlid="r"><read><object>ARINVOICE</object><keys>{key}</keys>'
                                    f'</read></function>', company_id="DEMO-ME"))
    assert hidden.find("data").get("count") == "0"


def test_update_reverse_and_delete_invoice(module_sandbox):
    key = create_invoice(module_sandbox, "C-00005", [("glaccountno", "4000", "10"), ("glaccountno", "4010", "5")])
    ok(module_sandbox.call(f'<function controlid="u"><update_invoice key="{key}"><description>Changed</description>'
                           f'<updateinvoiceitems><updatelineitem line_num="2"><amount>7.5</amount></updatelineitem>'
                           f'<lineitem><glaccountno>4020</glaccountno><amount>2.5</amount></lineitem>'
                           f'</updateinvoiceitems></update_invoice></function>'))
    inv = invoice(module_sandbox, key)
    assert inv["DESCRIPTION"] == "Changed" and inv["TOTALENTERED"] == "20" and len(inv["_lines"]) == 3
    res = ok(module_sandbox.call(f'<function controlid="rv"><reverse_invoice key="{key}"><datereversed>'
                                 f'<year>2024</year><month>06</month><day>01</day></datereversed>'
                                 f'</reverse_invoice></function>'))
    assert text(res, "key") == key
    inv = invoice(module_sandbox, key)
    assert inv["STATE"] == "Reversed" and inv["TOTALDUE"] == "0"
    other = create_invoice(module_sandbox, "C-00005", [("glaccountno", "4000", "3")])
    ok(module_sandbox.call(f'<function controlid="d"><delete_invoice key="{other}"></delete_invoice></function>'))
    gone = ok(module_sandbox.call(f'<function controlid="r"><read><object>ARINVOICE</object><keys>{other}</keys>'
                                  f'</read></function>'))
    assert gone.find("data").get("count") == "0"


def test_legacy_element_order_is_a_schema_error(module_sandbox):
    xml = ('<function controlid="o"><create_invoice><datecreated><year>2024</year><month>1</month><day>1</day>'
           '</datecreated><customerid>C-00001</customerid><termname>Net 30</termname><invoiceitems><lineitem>'
           '<glaccountno>4000</glaccountno><amount>1</amount></lineitem></invoiceitems></create_invoice></function>')
    resp = module_sandbox.call(xml)
    assert text(resp, "control/status") == "failure"
    err = errors(resp)[0]
    assert err["errorno"] == "XL03000003" and "customerid" in err["description2"]


def test_amount_applied_greater_than_due(module_sandbox):
    key = create_invoice(module_sandbox, "C-00003", [("glaccountno", "4000", "10")])
    errs = failure(module_sandbox.call(payment_xml("C-00003", "20", [(key, "10.01")])))
    assert errs[0]["description2"].startswith("The amount applied (10.01) is greater than the amount due (10)")
    errs = failure(module_sandbox.call(payment_xml("C-00001", "20", [(key, "1")])))
    assert "belongs to customer C-00003" in errs[0]["description2"]


def test_transaction_rolls_back_everything(module_sandbox):
    body = ('<function controlid="t1"><create><CUSTOMER><CUSTOMERID>W-TX1</CUSTOMERID><NAME>tx</NAME></CUSTOMER>'
            '</create></function>' + invoice_xml("C-NOPE", [("glaccountno", "4000", "1")], cid="t2") +
            '<function controlid="t3"><create><CUSTOMER><CUSTOMERID>W-TX3</CUSTOMERID><NAME>tx</NAME></CUSTOMER>'
            '</create></function>')
    resp = module_sandbox.call(body, transaction=True)
    statuses = [(text(r, "controlid"), text(r, "status")) for r in results(resp)]
    assert statuses == [("t1", "aborted"), ("t2", "failure"), ("t3", "aborted")]
    assert errors(results(resp)[0]) [0]["errorno"] == "XL03000009"
    failing = errors(results(resp)[1])
    assert failing[0]["description2"] == "Invalid Customer 'C-NOPE' specified."
    assert failing[-1]["errorno"] == "XL03000009"
    assert failing[-1]["description2"] == "The entire transaction in this operation has been rolled back due to an error."
    found = ok(module_sandbox.call('<function controlid="r"><readByName><object>CUSTOMER</object>'
                                   '<keys>W-TX1,W-TX3</keys></readByName></function>'))
    assert found.find("data").get("count") == "0"
    resp = module_sandbox.call(body.replace("C-NOPE", "C-00001"), transaction=True)
    assert [text(r, "status") for r in results(resp)] == ["success"] * 3
    resp = module_sandbox.call(body.replace("W-TX1", "W-TX1B").replace("W-TX3", "W-TX3B"))
    assert [text(r, "status") for r in results(resp)] == ["success", "failure", "success"]


def test_uniqueid_guard_refuses_repeats(module_sandbox):
    xml = ('<function controlid="guard-cust-1"><create><CUSTOMER><CUSTOMERID>W-GUARD</CUSTOMERID><NAME>g</NAME>'
           '</CUSTOMER></create></function>')
    ok(module_sandbox.call(xml, uniqueid=True))
    errs = failure(module_sandbox.call(xml.replace("W-GUARD", "W-GUARD2"), uniqueid=True))
    assert errs[0]["errorno"] == "BL01001973"
    assert "'guard-cust-1' was already executed" in errs[0]["description2"]
    gone = ok(module_sandbox.call('<function controlid="r"><readByName><object>CUSTOMER</object><keys>W-GUARD2'
                                  '</keys></readByName></function>'))
    assert gone.find("data").get("count") == "0"
    ok(module_sandbox.call(xml.replace("W-GUARD", "W-GUARD3"), uniqueid=False))
    failed = ('<function controlid="guard-fail"><create><CUSTOMER><CUSTOMERID>W-GUARD</CUSTOMERID><NAME>g</NAME>'
              '</CUSTOMER></create></function>')
    assert failure(module_sandbox.call(failed, uniqueid=True))[0]["errorno"] == "BL34000061"
    ok(module_sandbox.call(failed.replace(">W-GUARD<", ">W-GUARD4<"), uniqueid=True))
    body = module_sandbox.envelope(xml.replace("guard-cust-1", "guard-absent").replace("W-GUARD", "W-GUARD5"))
    body = body.replace(b"<uniqueid>false</uniqueid>", b"")
    assert b"<status>success</status>" in module_sandbox.post(body)[1].split(b"<result>")[1]
    again = etree.fromstring(module_sandbox.post(body)[1])
    assert errors(result(again))[0]["errorno"] == "BL01001973"
    assert text(again, "control/uniqueid") == "true"


def test_duplicate_invoice_numbers_switch(tmp_path):
    from tests.fixtures.sandbox import start_sandbox

    sb = start_sandbox(tmp_path, extra_args=["--reject-duplicate-invoice-numbers"])
    try:
        create_invoice(sb, "C-00001", [("glaccountno", "4000", "1")], invoiceno="DUP-1")
        errs = failure(sb.call(invoice_xml("C-00001", [("glaccountno", "4000", "1")], invoiceno="DUP-1")))
        assert errs[0]["errorno"] == "BL34000061" and "DUP-1" in errs[0]["description2"]
    finally:
        sb.stop()
