"""CSV uploads checked against Intacct itself, over HTTP against the sandbox: a customer or invoice number neither
the ledger nor Intacct has is a row error; a customer Intacct has but the ledger has not imported is linked from
Intacct (never created twice); an invoice Intacct has but the ledger lacks says to import invoices first."""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, func, select

from storage.models import Customer, Origin, Payment, RecordVersion
from sync_engine.services.ledger_csv import import_invoices_csv, import_payments_csv, numbers_to_ask
from sync_engine.services.upload_lookup import ask_intacct
from tests.engine.helpers import connect, sandbox_query
from tests.sandbox.artools import create_invoice, payment_xml
from tests.sandbox.xmlhelp import ok

INVOICES = ("invoice_number,customer_number,customer_name,invoice_date,amount\n"
            "U-1,C-00001,Typed Name Ltd,2026-11-01,100.00\n"   # Intacct's customer, not imported yet: linked
            "U-2,NOPE-1,,2026-11-01,50.00\n"                   # neither in the ledger nor in Intacct
            "U-3,NEW-9,Brand New Co,2026-11-01,70.00\n")       # new to both, with a name: a new customer


def _customers(engine) -> dict[str, Customer]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return {c.number: c for c in session.exec(select(Customer))}


def test_invoice_rows_check_their_customer_against_intacct_and_link_intacct_s_own(engine, sandbox) -> None:
    [intacct_acme] = sandbox_query(sandbox, "CUSTOMER", ["RECORDNO", "CUSTOMERID", "NAME"], "CUSTOMERID = 'C-00001'")
    with Session(engine) as session:
        connect(session, sandbox, read_customers=False, read_invoices=False)
        preview = import_invoices_csv(session=session, data=INVOICES, actor="ann", preview=True)
    assert preview.created == ["U-1", "U-3"]
    assert preview.linked == [f"C-00001 ({intacct_acme['NAME']})"]
    [problem] = preview.problems
    assert (problem.row, problem.column) == (3, "customer_name")
    assert problem.message == ("customer NOPE-1 is neither in the ledger nor in Intacct: give its customer_name to add "
                               "it as a new customer, or correct the number")
    assert set(_customers(engine)) == set(), "a preview links nothing"
    with Session(engine) as session:  # as the upload page does: ask Intacct first, then take the write lock
        facts = ask_intacct(session=session, customer_numbers=numbers_to_ask(INVOICES.encode(), "invoices")[0])
        result = import_invoices_csv(session=session, data=INVOICES, actor="ann", intacct=facts)
    assert result.created == ["U-1", "U-3"]
    customers = _customers(engine)
    acme = customers["C-00001"]
    assert (acme.origin, acme.name, acme.intacct_recordno, acme.intacct_customer_id) == (
        Origin.INTACCT, intacct_acme["NAME"], intacct_acme["RECORDNO"], "C-00001"), "Intacct's customer, as it is there"
    assert customers["NEW-9"].origin == Origin.LEDGER and customers["NEW-9"].intacct_recordno is None
    with Session(engine) as session:
        [version] = session.exec(select(RecordVersion).where(RecordVersion.record_type == "customer",
                                                             RecordVersion.record_id == acme.id))
        assert version.changed_by == "ann"


def test_payment_rows_check_their_customer_and_invoice_against_intacct(engine, sandbox) -> None:
    with Session(engine) as session:
        connect(session, sandbox, read_customers=False, read_invoices=False)
    [open_invoice] = sandbox_query(sandbox, "ARINVOICE", ["RECORDID", "CUSTOMERID", "STATE"],
                                   "STATE = 'Posted' AND RECORDID IS NOT NULL")[:1]
    paid_key = create_invoice(sandbox, "C-00002", [("glaccountno", "4000", "25")], invoiceno="PAID-1")
    ok(sandbox.call(payment_xml("C-00002", "25", [(paid_key, "25")], cid="pay-all")))
    data = ("reference,customer_number,received_on,amount,method,invoice_number,applied_amount\n"
            f"R-1,{open_invoice['CUSTOMERID']},2026-11-02,10.00,EFT,{open_invoice['RECORDID']},10.00\n"
            "R-2,C-00002,2026-11-02,25.00,EFT,PAID-1,25.00\n"
            "R-3,C-00002,2026-11-02,5.00,EFT,NO-SUCH-INV,5.00\n"
            "R-4,GHOST-1,2026-11-02,5.00,EFT,,\n"
            "R-5,C-00003,2026-11-02,15.00,EFT,,\n")            # an advance from Intacct's customer: linked
    with Session(engine) as session:
        result = import_payments_csv(session=session, data=data, actor="ann")
    messages = {p.row: (p.column, p.message, p.fix) for p in result.problems}
    assert messages == {
        2: ("invoice_number", f"invoice {open_invoice['RECORDID']} is in Intacct but not yet in the ledger: import "
                              "invoices first (Invoices → Import), then upload this file again", "invoices"),
        3: ("invoice_number", "invoice PAID-1 is paid in Intacct and not in the ledger: there is nothing open on it "
                              "to apply the payment to", None),
        4: ("invoice_number", "invoice NO-SUCH-INV is neither in the ledger nor in Intacct: correct the number", None),
        5: ("customer_number", "customer GHOST-1 is neither in the ledger nor in Intacct: correct the number", None),
    }
    assert result.created == ["C-00003/R-5"]
    with Session(engine) as session:
        [payment] = session.exec(select(Payment))
        assert payment.amount == Decimal("15.00")
        owner = session.get(Customer, payment.customer_id)
        assert owner is not None and (owner.number, owner.origin) == ("C-00003", Origin.INTACCT)
        assert session.exec(select(func.count()).select_from(Customer).where(
            Customer.number == "GHOST-1")).one() == 0


def test_when_intacct_cannot_be_asked_the_rows_are_checked_against_the_ledger_and_a_warning_says_so(
        engine, sandbox) -> None:
    with Session(engine) as session:
        connect(session, sandbox, read_customers=False, read_invoices=False)
    sandbox.stop()
    with Session(engine) as session:
        result = import_invoices_csv(session=session, data=INVOICES, actor="ann", preview=True)
    assert result.created == ["U-1", "U-3"] and result.linked == []
    assert len(result.warnings) == 1 and "Intacct could not be asked about 3 customer number(s)" in result.warnings[0]
    assert [p.message for p in result.problems] == [
        "customer NOPE-1 is not in the ledger: give its customer_name to add it as a new customer, or correct the "
        "number"]
