"""Every request the client sends validates against Intacct's published v3.0 request schema.

The gateway validates each 3.0 request against that schema before running it and refuses an invalid one as a
whole (XL03000003), so a builder that writes an element out of place loses every such write in production.
Each builder is used here with the options the product sends (entity, currency, location, department,
custom fields). The schema file stays outside the project: see ``reference_schema.py``.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from sync_engine.intacct import filters as f
from sync_engine.intacct import functions as fn
from sync_engine.intacct.credentials import IntacctCredentials
from sync_engine.intacct.envelope import LoginAuth, SessionAuth, build_request
from tests.intacct.reference_schema import schema_errors

TOP_LEVEL = IntacctCredentials(endpoint_url="https://api.intacct.com/ia/xml/xmlgw.phtml", sender_id="sender",
                               sender_password="sender-pw", company_id="ACME", user_id="ws_user",
                               user_password="user-pw")
ENTITY = IntacctCredentials(**{**TOP_LEVEL.__dict__, "entity_id": "US-EAST"})

LINES = [
    fn.InvoiceLine(amount=Decimal("1250.00"), account_label="Services Revenue", memo="Consulting & support",
                   location_id="HQ", department_id="SERVICES", custom_fields={"PROJECT_CODE": "P-7"}),
    fn.InvoiceLine(amount=Decimal("99.5"), gl_account_no="4010", location_id="REMOTE"),
]


def _invoice(**kw) -> fn.Function:
    args = dict(customer_id="C-00001", invoice_no="INV-1001", date_created=date(2024, 3, 10),
                date_due=date(2024, 4, 9), lines=LINES, controlid="create_invoice-invoice-1-a1")
    args.update(kw)
    return fn.create_invoice(**args)


def _payment(**kw) -> fn.Function:
    args = dict(customer_id="C-00001", amount=Decimal("500.00"), undeposited_account="1210", ref_id="CHK-1",
                date_received=date(2024, 3, 20), payment_method="Printed Check",
                applications=[fn.PaymentApplication("41", Decimal("300")), fn.PaymentApplication("42", Decimal("200"))],
                controlid="create_payment-payment-1-a1")
    args.update(kw)
    return fn.create_arpayment(**args)


CUSTOMER = {"CUSTOMERID": "C-100", "NAME": "Müller & Söhne", "TERMNAME": "Net 30", "CURRENCY": "EUR",
            "STATUS": "active", "DISPLAYCONTACT": {"PRINTAS": "Müller & Söhne", "EMAIL1": "ap@mueller.example",
                                                   "PHONE1": "+49 30 1234", "MAILADDRESS": {
                                                       "ADDRESS1": "Hauptstr. 1", "CITY": "Berlin", "ZIP": "10115",
                                                       "COUNTRY": "Germany"}}}

WRITES = {
    "create CUSTOMER": lambda: fn.create("CUSTOMER", CUSTOMER, controlid="create_customer-customer-1-a1"),
    "update CUSTOMER": lambda: fn.update("CUSTOMER", {"CUSTOMERID": "C-100", "NAME": "Renamed", "ONHOLD": False},
                                         controlid="u-1"),
    "create ARPYMT": lambda: fn.create("ARPYMT", {
        "FINANCIALENTITY": "BOA-CHK", "PAYMENTMETHOD": "Printed Check", "CUSTOMERID": "C-1", "DOCNUMBER": "CHK-9",
        "RECEIPTDATE": date(2024, 3, 1), "CURRENCY": "USD", "AMOUNTOPAY": Decimal("10.00"),
        "ARPYMTDETAILS": {"ARPYMTDETAIL": [{"RECORDKEY": "41", "TRX_PAYMENTAMOUNT": Decimal("10.00")}]},
    }, controlid="p-1"),
    "update ARPYMT": lambda: fn.update("ARPYMT", {"RECORDNO": "77", "DESCRIPTION": "note"}, controlid="p-2"),
    "delete": lambda: fn.delete("CUSTOMER", ["12", "13"], controlid="d-1"),
    "create_invoice, base currency": lambda: _invoice(currency="USD"),
    "create_invoice, foreign currency (daily rate)": lambda: _invoice(currency="EUR"),
    "create_invoice, foreign currency, rate type and date": lambda: _invoice(
        currency="GBP", base_currency="USD", exchange_rate_type="Intacct Daily Rate",
        exchange_rate_date=date(2024, 3, 10)),
    "create_invoice, fixed rate": lambda: _invoice(currency="CAD", exchange_rate=Decimal("0.7391")),
    "create_invoice, no currency, terms, custom fields, draft": lambda: _invoice(
        date_due=None, term_name="Net 30", action="Draft", po_number="PO-77", description="March",
        date_posted=date(2024, 3, 11), custom_fields={"REGION": "North", "SALESREP": "A. B."}),
    "reverse_invoice": lambda: fn.reverse_invoice("41", date_reversed=date(2024, 5, 1), description="voided",
                                                  controlid="r-1"),
    "create_arpayment": lambda: _payment(),
    "create_arpayment, foreign currency": lambda: _payment(currency="EUR", ref_id=None),
    "create_arpayment, to a bank account": lambda: _payment(undeposited_account=None, bank_account_id="BOA-CHK"),
    "create_arpayment, fixed rate, no applications": lambda: _payment(currency="EUR",
                                                                      exchange_rate=Decimal("1.08"),
                                                                      applications=[]),
    "reverse_arpayment": lambda: fn.reverse_arpayment(77, date_reversed=date(2024, 5, 2), controlid="r-2"),
}

READS = {
    "readByQuery": lambda: fn.read_by_query("ARINVOICE", ["RECORDNO", "STATE"], "STATE = 'Posted'"),
    "readByQuery, empty query": lambda: fn.read_by_query("CUSTOMER", "*", page_size=100),
    "readByQuery, checking accounts": lambda: fn.read_by_query(
        "CHECKINGACCOUNT", ["BANKACCOUNTID", "BANKNAME", "STATUS", "GLACCOUNTNO", "CURRENCY"], ""),
    "readMore": lambda: fn.read_more("7765623330Wu1hewACGn-0"),
    "read": lambda: fn.read("ARINVOICE", [41, 42]),
    "read, fields": lambda: fn.read("ARPYMT", "77", ["RECORDNO", "STATE"]),
    "readByName": lambda: fn.read_by_name("CUSTOMER", ["C-1", "C-2"]),
}


def _request(functions: list[fn.Function], *, credentials=TOP_LEVEL, session: bool = True, **kw) -> bytes:
    auth = SessionAuth("abc123..") if session else LoginAuth(credentials)
    return build_request(credentials, auth, functions, uniqueid=any(x.is_write for x in functions), **kw)


@pytest.mark.parametrize("name", list(WRITES))
def test_every_write_we_send_is_schema_valid(name):
    assert schema_errors(_request([WRITES[name]()])) == []


@pytest.mark.parametrize("name", list(READS))
def test_every_read_we_send_is_schema_valid(name):
    assert schema_errors(_request([READS[name]()])) == []


@pytest.mark.parametrize("credentials", [TOP_LEVEL, ENTITY], ids=["top level", "entity"])
def test_sign_in_is_schema_valid(credentials):
    plain = fn.get_api_session()
    scoped = fn.get_api_session("US-WEST")
    assert schema_errors(_request([plain], credentials=credentials, session=False)) == []
    assert schema_errors(_request([scoped], credentials=credentials, session=False)) == []


def test_a_batch_of_writes_in_a_transaction_is_schema_valid():
    batch = [dataclasses.replace(WRITES[name](), controlid=f"batch-{i}") for i, name in enumerate(WRITES)]
    assert schema_errors(_request(batch, transaction=True, request_controlid="req-1")) == []


def test_query_envelope_is_valid_and_the_reference_only_lacks_the_query_function():
    # The reference (intacct_dtd v3.0 api.xsd) predates the <query> function documented at
    # developer.intacct.com/web-services/queries/, so its <function> choice has no <query>. Everything
    # around it must still validate; the query body itself is checked by the sandbox's own rules.
    q = fn.query("ARINVOICE", ["RECORDNO", "WHENMODIFIED"],
                 filter=f.and_(f.ge("WHENMODIFIED", "03/01/2024 10:00:00"), f.in_("STATE", ["Posted", "Paid"])),
                 order_by=(("RECORDNO", "asc"),), page_size=2000, case_insensitive=True, show_private=True)
    errors = schema_errors(_request([q]))
    assert len(errors) == 1 and "'query': This element is not expected" in errors[0], errors


def test_a_builder_out_of_schema_order_is_caught():
    """The check can fail: the old create_invoice (currency straight before invoiceitems) is refused."""
    bad = _invoice(currency="EUR")
    bad.element.remove(bad.element.find("exchratetype"))
    errors = schema_errors(_request([bad]))
    assert errors and "invoiceitems" in errors[0]


def test_currency_options_need_a_currency():
    with pytest.raises(ValueError):
        _invoice(exchange_rate=Decimal("1.1"))
    with pytest.raises(ValueError):
        _invoice(currency="EUR", exchange_rate=Decimal("1.1"), exchange_rate_date=date(2024, 1, 1))
