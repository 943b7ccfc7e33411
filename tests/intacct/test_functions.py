"""Unit tests for function builders: element order, escaping, formatting, validation."""

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from sync_engine.intacct import filters as f
from sync_engine.intacct import functions as fn


def tags(el) -> list[str]:
    return [c.tag for c in el]


def test_query_builder():
    q = fn.query("customer", ["RECORDNO", "DISPLAYCONTACT.EMAIL1"], filter=f.eq("STATUS", "active"), page_size=50)
    el = q.element
    assert q.name == "query" and not q.is_write and q.controlid.startswith("query-")
    assert el.findtext("object") == "CUSTOMER"
    assert [x.text for x in el.find("select")] == ["RECORDNO", "DISPLAYCONTACT.EMAIL1"]
    assert el.find("filter/equalto/value").text == "active"
    assert el.find("orderby/order/field").text == "RECORDNO"
    assert el.find("orderby/order/ascending") is not None
    assert el.findtext("pagesize") == "50" and el.findtext("offset") == "0"
    assert el.find("options") is None
    el2 = fn.query("X", ["A"], order_by=[("A", "desc")], show_private=True, controlid="c").element
    assert el2.find("orderby/order/descending") is not None
    assert el2.findtext("options/showprivate") == "true"
    assert fn.query("X", ["A"], order_by=None).element.find("orderby") is None
    with pytest.raises(ValueError):
        fn.query("X", ["*"])
    with pytest.raises(ValueError):
        fn.query("X", ["A"], page_size=2001)


def test_read_builders():
    el = fn.read_by_query("arinvoice", ["RECORDNO", "STATE"], "STATE = 'Posted'", page_size=1000).element
    assert tags(el) == ["object", "fields", "query", "pagesize"]
    assert el.findtext("fields") == "RECORDNO,STATE"
    assert fn.read_by_query("X", "*").element.findtext("query") == ""
    with pytest.raises(ValueError):
        fn.read_by_query("X", "*", page_size=1001)
    assert fn.read_more("abc").element.findtext("resultId") == "abc"
    r = fn.read("ARINVOICE", [4211, "4212"]).element
    assert r.findtext("keys") == "4211,4212" and r.findtext("fields") == "*"
    rb = fn.read_by_name("CUSTOMER", ["C-1"], ["CUSTOMERID", "NAME"]).element
    assert rb.tag == "readByName" and rb.findtext("fields") == "CUSTOMERID,NAME"
    with pytest.raises(ValueError):
        fn.read("X", [str(i) for i in range(101)])
    with pytest.raises(ValueError):
        fn.read_by_name("X", ["a,b"])


def test_create_nested_escaping_and_none():
    func = fn.create(
        "CUSTOMER",
        {
            "CUSTOMERID": "C-1",
            "NAME": "Bob's <Pizza> & \"Sons\" — Zürich",
            "PARENTID": None,
            "CREDITLIMIT": Decimal("1000.5"),
            "DISPLAYCONTACT": {"PRINTAS": "A&B", "MAILADDRESS": {"CITY": "Köln", "ZIP": None}},
        },
        controlid="cust-C-1",
    )
    assert func.is_write and func.controlid == "cust-C-1"
    raw = func.to_xml()
    assert b"Bob's &lt;Pizza&gt; &amp; \"Sons\"" in raw
    assert b"PARENTID" not in raw and b"ZIP" not in raw
    parsed = etree.fromstring(raw)
    assert parsed.findtext("CUSTOMER/NAME") == "Bob's <Pizza> & \"Sons\" — Zürich"
    assert parsed.findtext("CUSTOMER/DISPLAYCONTACT/MAILADDRESS/CITY") == "Köln"
    assert parsed.findtext("CUSTOMER/CREDITLIMIT") == "1000.5"


def test_create_repeated_children_and_update_delete():
    pay = fn.create(
        "ARPYMT",
        {"CUSTOMERID": "C", "ARPYMTDETAILS": {"ARPYMTDETAIL": [{"RECORDKEY": 1}, {"RECORDKEY": 2}]}},
        controlid="p-1",
    ).element
    assert len(pay.findall("ARPYMT/ARPYMTDETAILS/ARPYMTDETAIL")) == 2
    assert fn.update("customer", {"CUSTOMERID": "C"}, controlid="u").element.find("CUSTOMER") is not None
    d = fn.delete("ARINVOICE", 4211, controlid="d").element
    assert tags(d) == ["object", "keys"] and d.findtext("keys") == "4211"


@pytest.mark.parametrize("controlid", ["", "   ", None])
def test_writes_need_controlid(controlid):
    with pytest.raises((ValueError, TypeError)):
        fn.create("CUSTOMER", {"NAME": "x"}, controlid=controlid)  # type: ignore[arg-type]


def test_create_invoice_element_order():
    func = fn.create_invoice(
        customer_id="C-0042",
        invoice_no="INV-1 & <2>",
        date_created=date(2024, 5, 1),
        date_due=date(2024, 5, 31),
        term_name="Net 30",
        description="May services — Ünïcode",
        po_number="PO-77",
        currency="USD",
        lines=[
            fn.InvoiceLine(amount=Decimal("1000"), account_label="Services Revenue", memo="Consulting, 10h",
                           location_id="EAST", department_id="SALES"),
            fn.InvoiceLine(amount=Decimal("250.005"), gl_account_no="4010"),
        ],
        controlid="inv-INV-1-v1",
    )
    el = func.element
    assert func.is_write and func.name == "create_invoice"
    assert tags(el) == ["customerid", "datecreated", "datedue", "termname", "action", "invoiceno",
                        "ponumber", "description", "currency", "exchratetype", "invoiceitems"]
    assert tags(el.find("datecreated")) == ["year", "month", "day"]
    assert [c.text for c in el.find("datedue")] == ["2024", "05", "31"]
    assert el.findtext("action") == "Submit"
    assert el.findtext("invoiceno") == "INV-1 & <2>"
    lines = el.findall("invoiceitems/lineitem")
    assert tags(lines[0]) == ["accountlabel", "amount", "memo", "locationid", "departmentid"]
    assert tags(lines[1]) == ["glaccountno", "amount"]
    assert lines[0].findtext("amount") == "1000.00" and lines[1].findtext("amount") == "250.01"
    assert b"INV-1 &amp; &lt;2&gt;" in func.to_xml()


def test_create_invoice_with_posted_date_order_and_validation():
    el = fn.create_invoice(customer_id="C", invoice_no="I", date_created=date(2024, 1, 1), term_name="Net 30",
                           date_posted=date(2024, 1, 2), lines=[fn.InvoiceLine(Decimal(1), gl_account_no="4000")],
                           action="Draft", controlid="x").element
    assert tags(el)[:4] == ["customerid", "datecreated", "dateposted", "termname"]
    with pytest.raises(ValueError):  # neither due date nor term
        fn.create_invoice(customer_id="C", invoice_no="I", date_created=date(2024, 1, 1),
                          lines=[fn.InvoiceLine(Decimal(1), gl_account_no="4000")], controlid="x")
    with pytest.raises(ValueError):  # both account label and GL account
        fn.create_invoice(customer_id="C", invoice_no="I", date_created=date(2024, 1, 1), term_name="N",
                          lines=[fn.InvoiceLine(Decimal(1), gl_account_no="4000", account_label="L")], controlid="x")
    with pytest.raises(ValueError):
        fn.create_invoice(customer_id="C", invoice_no="I", date_created=date(2024, 1, 1), term_name="N",
                          lines=[], controlid="x")


def test_create_arpayment_element_order():
    func = fn.create_arpayment(
        customer_id="C-0042",
        amount=Decimal("1250"),
        undeposited_account="1210",
        ref_id="CHK-5531",
        date_received=date(2024, 5, 15),
        payment_method="Printed Check",
        applications=[fn.PaymentApplication("4211", Decimal("1000")), fn.PaymentApplication("4212", Decimal("250"))],
        controlid="pay-1",
    )
    el = func.element
    assert tags(el) == ["customerid", "paymentamount", "undepfundsacct", "refid", "datereceived",
                        "paymentmethod", "arpaymentitem", "arpaymentitem"]
    assert el.findtext("paymentamount") == "1250.00"
    assert tags(el.find("arpaymentitem")) == ["invoicekey", "amount"]
    assert el.find("arpaymentitem").findtext("amount") == "1000.00"
    no_ref = fn.create_arpayment(customer_id="C", amount=Decimal(5), undeposited_account="1210", ref_id=None,
                                 date_received=date(2024, 5, 15), payment_method="Cash", applications=[],
                                 controlid="p").element
    assert "refid" not in tags(no_ref)
    to_bank = fn.create_arpayment(customer_id="C", amount=Decimal(5), bank_account_id="BOA-CHK", ref_id="R",
                                  date_received=date(2024, 5, 15), payment_method="EFT", applications=[],
                                  controlid="p").element
    assert tags(to_bank)[:3] == ["customerid", "paymentamount", "bankaccountid"]
    assert "undepfundsacct" not in tags(to_bank)
    assert to_bank.findtext("bankaccountid") == "BOA-CHK"
    with pytest.raises(ValueError):  # the money goes to exactly one place
        fn.create_arpayment(customer_id="C", amount=Decimal(5), undeposited_account="1210", bank_account_id="BOA-CHK",
                            ref_id=None, date_received=date(2024, 5, 15), payment_method="Cash", applications=[],
                            controlid="p")
    with pytest.raises(ValueError):
        fn.create_arpayment(customer_id="C", amount=Decimal(5), undeposited_account="1210", ref_id=None,
                            date_received=date(2024, 5, 15), payment_method="Cash",
                            applications=[fn.PaymentApplication("1", Decimal(6))], controlid="p")


def test_reversals():
    el = fn.reverse_invoice(4211, date_reversed=date(2024, 6, 1), description="wrong", controlid="r").element
    assert el.get("key") == "4211" and tags(el) == ["datereversed", "description"]
    el2 = fn.reverse_arpayment("901", date_reversed=date(2024, 6, 1), controlid="r2").element
    assert el2.tag == "reverse_arpayment" and el2.get("key") == "901" and tags(el2) == ["datereversed"]
