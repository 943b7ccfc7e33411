"""New invoice and Record payment as people use them: checked while typed, saved once right, refused to viewers."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import func, select

from console import state
from storage.db import read_session, write_session
from storage.models import Customer, IntacctListItem, Invoice, InvoiceLine, Payment, PaymentApplication
from sync_engine.services.ledger_csv import import_invoices_csv
from tests.console.conftest import texts
from tests.console.seed import seed_connection, seed_ledger


def _button(at, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def _customer_id(db, number: str) -> int:  # type: ignore[no-untyped-def]
    with read_session(db) as session:
        return session.exec(select(Customer).where(Customer.number == number)).one().id  # type: ignore[return-value]


@pytest.mark.parametrize("page", [state.NEW_INVOICE, state.NEW_PAYMENT])
def test_viewers_cannot_enter_ledger_records(app_as, db, page: str) -> None:
    seed_ledger(db)
    at = app_as("viewer")
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # left out of a viewer's menu
        at.switch_page(page)


def test_an_invoice_is_checked_as_typed_then_added_for_the_next_sync(app_as, db) -> None:
    seed_ledger(db)
    acme = _customer_id(db, "C-100")
    at = app_as("accountant", page=state.NEW_INVOICE)
    assert _button(at, "Add invoice").disabled, "nothing typed yet"
    at.text_input(key="ni_number").input("INV-1001").run()  # already in the ledger
    shown = texts(at)
    assert "Invoice INV-1001 is already in the ledger" in shown and "Choose the customer." in shown
    at.selectbox(key="ni_customer").set_value(acme).run()
    at.text_input(key="ni_number").input("NEW-1").run()
    at.session_state["ni_lines"] = {"edited_rows": {0: {"Description": "Audit", "Quantity": "2",
                                                        "Unit price": "12,x"}},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    assert "Line 1: '12,x' is not a number" in texts(at)
    at.session_state["ni_lines"] = {"edited_rows": {0: {"Description": "Audit", "Quantity": "2",
                                                        "Unit price": "600.25"}},
                                    "added_rows": [{"Description": "Travel", "Unit price": "99.50"}],
                                    "deleted_rows": []}
    at.run()
    assert "Total: USD 1,300.00" in texts(at)
    _button(at, "Add invoice").click().run()
    assert not at.exception
    assert "will be written to Intacct at the next sync" in texts(at)
    with read_session(db) as session:
        invoice = session.exec(select(Invoice).where(Invoice.number == "NEW-1")).one()
        lines = session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                             .order_by(InvoiceLine.line_no)).all()
        assert invoice.total == Decimal("1300.00") and invoice.customer_id == acme
        assert invoice.origin == "ledger" and invoice.sync_state == "not_synced"
        assert [(ln.quantity, ln.unit_price, ln.amount) for ln in lines] == [
            (Decimal("2"), Decimal("600.25"), Decimal("1200.50")), (Decimal("1"), Decimal("99.50"), Decimal("99.50"))]


def test_a_payment_is_applied_to_open_invoices_and_never_beyond_them(app_as, db) -> None:
    seed_ledger(db)
    acme = _customer_id(db, "C-100")
    at = app_as("accountant", page=state.NEW_PAYMENT)
    at.selectbox(key="np_customer").set_value(acme).run()
    editor = f"np_apply_{acme}"
    at.text_input(key="np_reference").input("WIRE-55").run()
    at.text_input(key="np_amount").input("3000.00").run()
    with read_session(db) as session:
        open_ids = [i.id for i in session.exec(select(Invoice).where(Invoice.customer_id == acme, Invoice.balance > 0)
                                               .order_by(Invoice.invoice_date))]
    at.session_state[editor] = {"edited_rows": {0: {"Apply": "10000.01"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert "open balance" in texts(at)
    at.session_state[editor] = {"edited_rows": {0: {"Apply": "2000.00"}, 1: {"Apply": "1000.00"}},
                                "added_rows": [], "deleted_rows": []}
    at.run()
    assert "Applied USD 3,000.00 of USD 3,000.00" in texts(at)
    _button(at, "Record payment").click().run()
    assert not at.exception
    assert "will be written to Intacct at the next sync" in texts(at)
    with read_session(db) as session:
        payment = session.exec(select(Payment).where(Payment.reference == "WIRE-55")).one()
        applied = {a.invoice_id: a.amount for a in session.exec(
            select(PaymentApplication).where(PaymentApplication.payment_id == payment.id))}
        assert applied == {open_ids[0]: Decimal("2000.00"), open_ids[1]: Decimal("1000.00")}
        assert session.get(Invoice, open_ids[0]).amount_paid == Decimal("2000.00")


def test_the_upload_page_shows_the_checked_rows_before_adding_them(app_as, db) -> None:
    connection_id = seed_connection(db)
    data = (b"invoice_number,customer_number,customer_name,invoice_date,amount,account_label\n"
            b"U-1,N-9,Nine Co,2026-11-01,100.00,REVENUE\nU-1,N-9,Nine Co,2026-11-01,20.00,REVENUE\n"
            b"U-2,N-9,Nine Co,2026-11-01,5.00,GONE\n")
    with read_session(db) as session:
        session.add(IntacctListItem(connection_id=connection_id, list_name="account_labels", value="REVENUE"))
        session.commit()
        checked = import_invoices_csv(session=session, data=data, actor="ann", preview=True)
    at = app_as("accountant", state.UPLOAD)
    at.session_state["preview_invoices"] = (data, checked)  # what "Check invoices" keeps for a chosen file
    at.run()
    shown = texts(at)
    assert "1 invoice to add** (2 rows)" in shown and "Account label 'GONE' does not exist in Intacct" in str(
        [df.value.to_dict() for df in at.dataframe])
    with read_session(db) as session:
        assert session.exec(select(func.count()).select_from(Invoice)).one() == 0  # nothing added by the check
    add = next(b for b in at.button if b.label == "Add these 2 rows")
    add.click().run()
    assert "Added 1 invoices: U-1" in texts(at)
    with read_session(db) as session:
        assert session.exec(select(Invoice.number)).all() == ["U-1"]


def test_the_upload_page_links_intacct_s_customer_and_sends_an_invoice_only_intacct_has_to_its_import(
        app_as, db, sandbox) -> None:
    from sync_engine.services.ledger_csv import import_payments_csv
    from tests.engine.helpers import connect, sandbox_query

    with read_session(db) as session:
        connect(session, sandbox, read_customers=False, read_invoices=False)
    [open_invoice] = sandbox_query(sandbox, "ARINVOICE", ["RECORDID", "CUSTOMERID"], "STATE = 'Posted'")[:1]
    data = ("reference,customer_number,received_on,amount,method,invoice_number,applied_amount\n"
            f"R-1,{open_invoice['CUSTOMERID']},2026-11-02,10.00,EFT,{open_invoice['RECORDID']},10.00\n"
            "R-2,C-00003,2026-11-02,15.00,EFT,,\n").encode()
    with write_session(db) as session:  # as the page checks: a preview's links and payments roll back
        checked = import_payments_csv(session=session, data=data, actor="ann", preview=True)
    with read_session(db) as session:
        assert session.exec(select(Customer)).all() == [], "the check added nothing"
    at = app_as("accountant", state.UPLOAD)
    at.session_state["preview_payments"] = (data, checked)
    at.run()
    assert "Adding the rows takes them into the ledger from Intacct" in texts(at)
    problems = next(df.value for df in at.dataframe if "Problem" in df.value.columns)
    assert "import invoices first (Invoices → Import)" in problems.iloc[0]["Problem"]
    assert [link.label for link in at.get("page_link")] == ["Import invoices from Intacct on Invoices"]
    next(b for b in at.button if b.label == "Add these 1 rows").click().run()
    assert "They were taken into the ledger from Intacct" in texts(at)
    with read_session(db) as session:
        [customer] = session.exec(select(Customer).where(Customer.number == "C-00003"))
        assert customer.origin == "intacct" and customer.intacct_recordno
