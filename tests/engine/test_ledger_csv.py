"""CSV uploads into the ledger: good rows land, bad rows are explained and handed back, nothing half-arrives."""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from storage.models import Customer, Invoice, InvoiceLine, Payment, PaymentApplication, RunStatus
from sync_engine.services.ledger_csv import CsvFormatError, import_invoices_csv, import_payments_csv
from tests.engine.helpers import connect, run_now, sandbox_query

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HEADER = "invoice_number,customer_number,customer_name,invoice_date,due_date,amount,line_description\n"


def test_sample_files_land_and_a_second_upload_creates_nothing(engine) -> None:
    with Session(engine) as session:
        session.add(Customer(number="C-00001", name="Acme Tools Inc."))
        session.commit()
        first = import_invoices_csv(session=session, data=(SAMPLES / "ledger_invoices.csv").read_bytes(), actor="ann")
        assert first.ok and first.created == ["AR-2001", "AR-2002", "AR-2003"]
        invoice = session.exec(select(Invoice).where(Invoice.number == "AR-2001")).one()
        assert invoice.total == Decimal("1740.50") and invoice.origin == "ledger"
        lines = session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).all()
        assert [(ln.line_no, ln.amount, ln.quantity) for ln in lines] == [(1, Decimal("1500.00"), Decimal("10")),
                                                                      (2, Decimal("240.50"), Decimal("1"))]
        assert session.exec(select(Customer).where(Customer.number == "NEW-101")).one().name == "Økologisk Gård AS"
        again = import_invoices_csv(session=session, data=(SAMPLES / "ledger_invoices.csv").read_bytes(), actor="ann")
        assert again.created == [] and again.skipped == ["AR-2001", "AR-2002", "AR-2003"]
        paid = import_payments_csv(session=session, data=(SAMPLES / "ledger_payments.csv").read_bytes(), actor="ann")
        assert paid.ok and paid.created == ["C-00001/CHK-88121", "NEW-100/WIRE-5531"]
        session.refresh(invoice)
        assert (invoice.balance, invoice.status) == (Decimal("0.00"), "paid")
        from storage.models import RecordVersion

        latest = session.exec(select(RecordVersion).where(RecordVersion.record_type == "invoice",
                                                          RecordVersion.record_id == invoice.id)
                              .order_by(RecordVersion.version.desc())).first()
        assert latest.version == 2 and latest.changed_by == "ann"
        assert latest.changes == {"amount_paid": ["0.00", "1740.50"], "balance": ["1740.50", "0.00"],
                                  "status": ["open", "paid"]}
        partly = session.exec(select(Invoice).where(Invoice.number == "AR-2002")).one()
        assert (partly.balance, partly.status) == (Decimal("480.00"), "partially_paid")
        assert import_payments_csv(session=session, data=(SAMPLES / "ledger_payments.csv").read_bytes(),
                                   actor="ann").skipped == ["C-00001/CHK-88121", "NEW-100/WIRE-5531"]


def test_bad_rows_are_explained_and_their_invoice_kept_out_whole(engine) -> None:
    data = HEADER + (
        "GOOD-1,N-1,New One,2026-11-01,2026-12-01,100.00,ok\n"
        "BAD-1,N-1,,2026-11-01,2026-12-01,100.00,first line fine\n"
        "BAD-1,N-1,,2026-11-01,2026-12-01,12.345,three decimals\n"
        "BAD-2,N-1,,31/11/2026,,50,bad date\n"
        "BAD-3,N-2,,2026-11-01,,10,new customer without a name\n"
        ",N-1,,2026-11-01,,10,no number\n"
    )
    with Session(engine) as session:
        result = import_invoices_csv(session=session, data=data, actor="ann")
        assert result.created == ["GOOD-1"]
        found = {(p.row, p.column) for p in result.problems}
        assert found == {(4, "amount"), (5, "invoice_date"), (6, "customer_name"), (7, "invoice_number")}
        assert "more than two decimals" in str(next(p for p in result.problems if p.column == "amount"))
        assert session.exec(select(func.count()).select_from(Invoice)).one() == 1  # BAD-1's good line did not land
        rejected = list(csv.DictReader(io.StringIO(result.rejected_csv)))
        # every row of a rejected invoice comes back, so fixing the file and uploading it again loses nothing
        assert [r["invoice_number"] for r in rejected] == ["BAD-1", "BAD-1", "BAD-2", "BAD-3", ""]
        assert rejected[0]["problem"] == "held back with the other rows of invoice BAD-1"
        assert "decimals" in rejected[1]["problem"]


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    ("invoice_number,amount\nX,1\n", "Missing column(s): customer_number, invoice_date"),
    (HEADER, "no data rows"),
])
def test_unreadable_files_say_why(engine, data, message) -> None:
    with Session(engine) as session, pytest.raises(CsvFormatError,
                                                   match=message.replace("(", r"\(").replace(")", r"\)")):
        import_invoices_csv(session=session, data=data, actor="ann")


def test_payment_rows_are_checked_against_the_ledger(engine) -> None:
    with Session(engine) as session:
        import_invoices_csv(session=session,
                            data=HEADER + "I-1,N-1,New,2026-11-01,,100.00,x\nI-2,N-2,Other,2026-11-01,,50,y\n",
                            actor="ann")
        result = import_payments_csv(session=session, actor="ann", data=(
            "reference,customer_number,received_on,amount,method,invoice_number,applied_amount\n"
            "P-1,N-1,2026-11-02,150.00,EFT,I-1,150.00\n"       # more than the invoice's balance
            "P-2,N-1,2026-11-02,10.00,Barter,I-1,10.00\n"      # unknown method
            "P-3,N-1,2026-11-02,10.00,EFT,I-2,10.00\n"         # someone else's invoice
            "P-4,N-9,2026-11-02,10.00,EFT,,\n"                 # unknown customer
            "P-5,N-1,2026-11-02,60.00,Cash,I-1,60.00\n"))      # fine
        assert result.created == ["N-1/P-5"]
        assert [(p.row, p.column) for p in result.problems] == [
            (2, "applied_amount"), (3, "method"), (4, "invoice_number"), (5, "customer_number")]
        assert session.exec(select(func.count()).select_from(Payment)).one() == 1
        assert session.exec(select(PaymentApplication)).one().amount == Decimal("60.00")


def test_uploaded_invoices_and_payments_reach_intacct(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, read_customers=False, read_invoices=False)
        session.add(Customer(number="C-00001", name="Acme", intacct_customer_id="C-00001", intacct_recordno="1"))
        session.commit()
        assert import_invoices_csv(session=session, data=(SAMPLES / "ledger_invoices.csv").read_bytes(), actor="a").ok
        assert import_payments_csv(session=session, data=(SAMPLES / "ledger_payments.csv").read_bytes(), actor="a").ok
    run = run_now(engine, connection_id, "accounting_sync")
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    remote = {r["RECORDID"]: r for r in sandbox_query(sandbox, "ARINVOICE", ["RECORDID", "TOTALDUE", "STATE"],
                                                      "RECORDID LIKE 'AR-%'")}
    assert {k: (Decimal(v["TOTALDUE"]), v["STATE"]) for k, v in remote.items()} == {
        "AR-2001": (Decimal("0"), "Paid"), "AR-2002": (Decimal("480"), "Partially Paid"),
        "AR-2003": (Decimal("450"), "Posted")}


def test_the_mapping_page_summary_counts_what_waits(engine) -> None:
    from sync_engine.sync.exports import pending_write_summary

    with Session(engine) as session:
        session.add(Customer(number="C-00001", name="Acme Tools Inc."))
        session.commit()
        import_invoices_csv(session=session, data=(SAMPLES / "ledger_invoices.csv").read_bytes(), actor="ann")
        import_payments_csv(session=session, data=(SAMPLES / "ledger_payments.csv").read_bytes(), actor="ann")
        summary = pending_write_summary(session=session, item_account_label="Services Revenue")
    assert summary == {"invoices": 3, "lines_on_mapped_label": 3, "lines_with_own_label": 1, "payments": 2}
