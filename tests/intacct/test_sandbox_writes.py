"""Integration against the real sandbox: creates, invoices, payments, mixed batches, ambiguous writes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sync_engine.intacct import (
    AmbiguousWriteError,
    DuplicateControlIdError,
    RecordError,
    TransientError,
)
from sync_engine.intacct import filters as f
from sync_engine.intacct import functions as fn
from sync_engine.intacct.values import parse_decimal

from .conftest import client_for

NAME = "Bob's <Pizza> & \"Sons\" — Zürich"


def new_customer(cid: str) -> fn.Function:
    return fn.create("CUSTOMER", {
        "CUSTOMERID": cid,
        "NAME": NAME,
        "TERMNAME": "Net 30",
        "DISPLAYCONTACT": {"PRINTAS": NAME, "EMAIL1": "ap@pizza.test",
                           "MAILADDRESS": {"CITY": "Zürich", "COUNTRY": "Switzerland"}},
        "STATUS": "active",
    }, controlid=f"cust-{cid}-v1")


def new_invoice(customer: str, number: str, amounts=("1000", "250.5"), controlid: str | None = None) -> fn.Function:
    return fn.create_invoice(
        customer_id=customer, invoice_no=number, date_created=date(2024, 5, 1), date_due=date(2024, 5, 31),
        description="May services & more", po_number="PO-77",
        lines=[fn.InvoiceLine(Decimal(amounts[0]), account_label="Services Revenue", memo="Consulting, 10h",
                              location_id="HQ", department_id="SALES"),
               *[fn.InvoiceLine(Decimal(a), gl_account_no="4010") for a in amounts[1:]]],
        controlid=controlid or f"inv-{number}-v1",
    )


def test_create_customer_and_read_it_back(sandbox):
    c = client_for(sandbox)
    res = c.call(new_customer("C-TEST-1"))
    assert res.ok and res.key and res.records[0]["CUSTOMERID"] == "C-TEST-1"
    rec = c.read_by_name("CUSTOMER", ["C-TEST-1"])[0]
    assert rec["NAME"] == NAME and rec["RECORDNO"] == res.key
    rows = list(c.iter_records("CUSTOMER", ["CUSTOMERID", "NAME", "DISPLAYCONTACT.MAILADDRESS.CITY"],
                               filter=f.eq("CUSTOMERID", "C-TEST-1")))
    assert rows == [{"CUSTOMERID": "C-TEST-1", "NAME": NAME, "DISPLAYCONTACT.MAILADDRESS.CITY": "Zürich"}]


def test_invoice_and_payment_round_trip(sandbox):
    c = client_for(sandbox)
    c.call(new_customer("C-PAY"))
    inv = c.call(new_invoice("C-PAY", "INV-9001"))
    assert inv.key
    [row] = list(c.iter_records("ARINVOICE", ["RECORDNO", "RECORDID", "TOTALDUE", "STATE", "CUSTOMERID"],
                                filter=f.eq("RECORDID", "INV-9001")))
    assert row["RECORDNO"] == inv.key and parse_decimal(row["TOTALDUE"]) == Decimal("1250.50")
    assert row["STATE"] == "Posted"
    lines = c.read("ARINVOICE", [inv.key])[0]["ARINVOICEITEMS"]
    assert [parse_decimal(l["AMOUNT"]) for l in lines] == [Decimal("1000"), Decimal("250.5")]

    pay = c.call(fn.create_arpayment(
        customer_id="C-PAY", amount=Decimal("1000"), undeposited_account="1210", ref_id="CHK-5531",
        date_received=date(2024, 5, 15), payment_method="Printed Check",
        applications=[fn.PaymentApplication(inv.key, Decimal("1000"))], controlid="pay-CHK-5531-v1"))
    assert pay.key
    [after] = list(c.iter_records("ARINVOICE", ["TOTALDUE", "TOTALPAID"], filter=f.eq("RECORDNO", int(inv.key))))
    assert parse_decimal(after["TOTALDUE"]) == Decimal("250.50")
    assert parse_decimal(after["TOTALPAID"]) == Decimal("1000")
    payments = list(c.iter_records("ARPYMT", ["RECORDNO", "CUSTOMERID", "DOCNUMBER"],
                                   filter=f.eq("CUSTOMERID", "C-PAY")))
    assert [p["RECORDNO"] for p in payments] == [pay.key]

    c.call(fn.reverse_arpayment(pay.key, date_reversed=date(2024, 5, 20), controlid="rev-pay-1"))
    [undone] = list(c.iter_records("ARINVOICE", ["TOTALDUE"], filter=f.eq("RECORDNO", int(inv.key))))
    assert parse_decimal(undone["TOTALDUE"]) == Decimal("1250.50")


def test_mix_of_good_and_bad_functions_in_one_request(sandbox):
    c = client_for(sandbox)
    sandbox.reset_stats()
    results = c.execute([
        new_customer("C-MIX-1"),
        new_invoice("NO-SUCH-CUSTOMER", "INV-BAD"),
        new_customer("C-MIX-2"),
        fn.create_invoice(customer_id="C-MIX-1", invoice_no="INV-BAD-ACCT", date_created=date(2024, 5, 1),
                          term_name="Net 30", lines=[fn.InvoiceLine(Decimal(5), gl_account_no="9999")],
                          controlid="inv-bad-acct"),
    ])
    assert [r.ok for r in results] == [True, False, True, False]
    bad = results[1].error
    assert isinstance(bad, RecordError) and bad.details and bad.details[0].errorno
    assert "NO-SUCH-CUSTOMER" in bad.user_message or bad.details[0].description2
    assert sandbox.stats()["total"] == 2  # sign-in + one request for all four functions


def test_repeated_controlid_is_refused_by_the_gateway(sandbox):
    c = client_for(sandbox)
    c.call(new_customer("C-DUP"))
    with pytest.raises(RecordError) as first:
        c.call(new_customer("C-DUP"))  # not marked as a repeat: an ordinary refusal
    assert not isinstance(first.value, DuplicateControlIdError)
    with pytest.raises(DuplicateControlIdError) as repeat:
        c.call(new_customer("C-DUP"), repeat=True)
    assert repeat.value.details[0].description2  # Intacct's own words are kept


def test_524_after_commit_on_a_write_is_ambiguous_and_not_resent(sandbox):
    c = client_for(sandbox)
    c.call(new_customer("C-524"))
    c.open_session()
    sandbox.reset_stats()
    sandbox.set_faults({"faults": [{"kind": "http_524", "next": 1, "function": "create_invoice"}]})
    with pytest.raises(AmbiguousWriteError) as info:
        c.call(new_invoice("C-524", "INV-524"))
    assert info.value.http_status == 524
    assert sandbox.stats()["functions"].get("create_invoice") == 1
    # The caller's recovery: look it up before retrying -> it exists.
    assert c.count("ARINVOICE", f.eq("RECORDID", "INV-524")) == 1


def test_dropped_connection_after_commit_on_a_write_is_ambiguous(sandbox):
    c = client_for(sandbox)
    c.call(new_customer("C-DROP"))
    sandbox.reset_stats()
    sandbox.set_faults({"faults": [{"kind": "drop_connection", "next": 1, "function": "create_invoice"}]})
    with pytest.raises(AmbiguousWriteError):
        c.call(new_invoice("C-DROP", "INV-DROP"))
    assert sandbox.stats()["functions"].get("create_invoice") == 1


def test_429_on_a_write_is_retried(sandbox):
    c = client_for(sandbox)
    c.call(new_customer("C-429"))
    sandbox.reset_stats()
    sandbox.set_faults({"faults": [{"kind": "rate_limit", "next": 2, "function": "create_invoice"}]})
    res = c.call(new_invoice("C-429", "INV-429"))
    assert res.ok
    assert sandbox.stats()["functions"]["create_invoice"] == 3
    assert c.count("ARINVOICE", f.eq("RECORDID", "INV-429")) == 1


def test_offline_write_is_resent_with_the_same_controlid(sandbox):
    c = client_for(sandbox)
    c.call(new_customer("C-OFF"))
    sandbox.set_faults({"faults": [{"kind": "offline", "next": 1, "function": "create_invoice"}]})
    assert c.call(new_invoice("C-OFF", "INV-OFF")).ok
    assert c.count("ARINVOICE", f.eq("RECORDID", "INV-OFF")) == 1


def test_503_on_a_write_is_ambiguous(sandbox):
    c = client_for(sandbox)
    c.call(new_customer("C-503"))
    sandbox.set_faults({"faults": [{"kind": "http_503", "next": 1, "function": "create_invoice"}]})
    with pytest.raises(AmbiguousWriteError):
        c.call(new_invoice("C-503", "INV-503"))
    with pytest.raises(TransientError):
        sandbox.set_faults({"faults": [{"kind": "rate_limit"}]})
        c.count("CUSTOMER")


@pytest.mark.parametrize("currency, rate", [("EUR", {}), ("GBP", {"exchange_rate": Decimal("1.2655")}),
                                            ("CAD", {"exchange_rate_type": "Intacct Daily Rate",
                                                     "exchange_rate_date": date(2024, 5, 1)})])
def test_multi_currency_invoices_reach_intacct_and_read_back_with_their_currency(sandbox, currency, rate):
    c = client_for(sandbox)
    number = f"INV-{currency}"
    invoice = fn.create_invoice(
        customer_id="C-00001", invoice_no=number, date_created=date(2024, 5, 1), date_due=date(2024, 5, 31),
        currency=currency, custom_fields={"REGION": "EMEA"},
        lines=[fn.InvoiceLine(Decimal("99.95"), account_label="Services Revenue", location_id="HQ",
                              department_id="SALES", custom_fields={"PROJECT": "P-1"})],
        controlid=f"inv-{currency}-v1", **rate)
    key = c.call(invoice).key
    [read] = c.read("ARINVOICE", [key], ["RECORDID", "CURRENCY", "TOTALENTERED"])
    assert read == {"RECORDID": number, "CURRENCY": currency, "TOTALENTERED": "99.95"}
