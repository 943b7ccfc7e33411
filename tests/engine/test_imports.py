"""Imports from the sandbox over HTTP: full, then incremental with only changed records read and diffs kept."""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, func, select

from storage.models import Customer, Invoice, InvoiceLine, RecordVersion, RunStatus, SyncRunItem
from sync_engine import queue
from tests.engine.helpers import connect, run_now, sandbox_query


def test_customer_import_brings_every_customer_with_versions(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
    run = run_now(engine, connection_id, "customer_import")
    expected = sandbox_query(sandbox, "CUSTOMER", ["RECORDNO", "CUSTOMERID", "NAME", "TOTALDUE"])
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.created_count == len(expected) > 0
    with Session(engine) as session:
        customers = {c.intacct_recordno: c for c in session.exec(select(Customer))}
        assert set(customers) == {r["RECORDNO"] for r in expected}
        for record in expected:
            assert customers[record["RECORDNO"]].name == record["NAME"]
            assert customers[record["RECORDNO"]].balance == Decimal(record["TOTALDUE"] or "0")
        versions = session.exec(select(func.count()).select_from(RecordVersion)).one()
        assert versions == len(expected)


def test_invoice_import_brings_outstanding_invoices_with_lines(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
    run = run_now(engine, connection_id, "invoice_import")
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    outstanding = [r for r in sandbox_query(sandbox, "ARINVOICE", ["RECORDNO", "RECORDID", "TOTALDUE", "TOTALENTERED"])
                   if Decimal(r["TOTALDUE"] or "0") > 0]
    with Session(engine) as session:
        invoices = {i.intacct_recordno: i for i in session.exec(select(Invoice))}
        assert set(invoices) == {r["RECORDNO"] for r in outstanding}
        for record in outstanding:
            invoice = invoices[record["RECORDNO"]]
            assert invoice.balance == Decimal(record["TOTALDUE"])
            lines = session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).all()
            assert lines and sum(line.amount for line in lines) == Decimal(record["TOTALENTERED"])
        # invoices bring the customers they need
        assert session.exec(select(func.count()).select_from(Customer)).one() >= 1


def test_incremental_sync_reads_only_changes_and_records_diffs(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, write_invoices=False, write_payments=False)
    first = run_now(engine, connection_id, "accounting_sync")
    assert first.status == RunStatus.SUCCEEDED, first.error_message
    assert first.created_count > 0

    customer = sandbox_query(sandbox, "CUSTOMER", ["RECORDNO", "CUSTOMERID", "NAME"])[0]
    reply = sandbox.call(f'<function controlid="edit"><update><CUSTOMER><CUSTOMERID>{customer["CUSTOMERID"]}'
                         "</CUSTOMERID><NAME>Renamed &amp; Sons</NAME></CUSTOMER></update></function>")
    assert reply.findtext(".//result/status") == "success"
    sandbox.reset_stats()

    second = run_now(engine, connection_id, "accounting_sync")
    assert second.status == RunStatus.SUCCEEDED, second.error_message
    assert second.updated_count == 1 and second.created_count == 0
    with Session(engine) as session:
        items = session.exec(select(SyncRunItem).where(SyncRunItem.run_id == second.id)).all()
        assert [(i.label, i.action) for i in items] == [(f"Customer {customer['CUSTOMERID']}", "updated")]
        local = session.exec(select(Customer).where(Customer.intacct_recordno == customer["RECORDNO"])).one()
        latest = session.exec(select(RecordVersion).where(RecordVersion.record_id == local.id,
                                                          RecordVersion.record_type == "customer")
                              .order_by(RecordVersion.version.desc())).first()
        assert latest.run_id == second.id
        assert latest.changes == {"name": [customer["NAME"], "Renamed & Sons"]}
    # The window is bounded: the second run read one changed customer, not the whole company.
    stats = sandbox.stats()
    assert stats["total"] <= 8, stats


def test_failed_invoice_import_step_keeps_the_watermark(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, write_invoices=False, write_payments=False)
    assert run_now(engine, connection_id, "accounting_sync").status == RunStatus.SUCCEEDED
    from storage.models import SyncCursor

    with Session(engine) as session:
        before = {c.object_name: c.watermark for c in session.exec(select(SyncCursor))}
    sandbox.set_faults({"faults": [{"kind": "http_503", "every": 1}]})
    failed = run_now(engine, connection_id, "accounting_sync")
    sandbox.clear_faults()
    assert failed.status == RunStatus.FAILED
    assert failed.error_message.startswith("customers: The Intacct gateway is temporarily unavailable (HTTP 503)")
    assert failed.error_category == "transient"
    with Session(engine) as session:
        after = {c.object_name: c.watermark for c in session.exec(select(SyncCursor))}
    assert after == before
    with Session(engine) as session:
        assert queue.recent_runs(session=session)[0].id == failed.id


def test_payment_made_in_intacct_reaches_the_ledger_invoice(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, write_invoices=False, write_payments=False)
    assert run_now(engine, connection_id, "accounting_sync").status == RunStatus.SUCCEEDED
    with Session(engine) as session:
        invoice = session.exec(select(Invoice).where(Invoice.balance > 0).order_by(Invoice.id)).first()
        customer = session.get(Customer, invoice.customer_id)
        old_balance = invoice.balance
    reply = sandbox.call(
        '<function controlid="pay"><create_arpayment>'
        f"<customerid>{customer.number}</customerid><paymentamount>1.00</paymentamount>"
        "<undepfundsacct>1210</undepfundsacct><refid>IN-INTACCT</refid>"
        "<datereceived><year>2026</year><month>11</month><day>20</day></datereceived>"
        "<paymentmethod>Cash</paymentmethod>"
        f"<arpaymentitem><invoicekey>{invoice.intacct_recordno}</invoicekey><amount>1.00</amount></arpaymentitem>"
        "</create_arpayment></function>")
    assert reply.findtext(".//result/status") == "success", reply.findtext(".//description2")
    second = run_now(engine, connection_id, "accounting_sync")
    assert second.status == RunStatus.SUCCEEDED, second.error_message
    with Session(engine) as session:
        updated = session.get(Invoice, invoice.id)
        assert updated.balance == old_balance - Decimal("1.00")
        assert updated.status == "partially_paid"
        version = session.exec(select(RecordVersion).where(
            RecordVersion.record_type == "invoice", RecordVersion.record_id == invoice.id, RecordVersion.run_id == second.id)).one()
        assert version.changes["balance"] == [f"{old_balance:.2f}", f"{old_balance - Decimal('1.00'):.2f}"]


def test_preview_changes_nothing_and_lists_what_would_happen(engine, sandbox) -> None:
    from tests.engine.helpers import ledger_invoice, ledger_payment, sandbox_query

    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        invoice = ledger_invoice(session, customer_number="P-1", invoice_number="PREVIEW-1", amounts=["12.00"])
        ledger_payment(session, invoice, "12.00", "PREVIEW-PAY")
    run = run_now(engine, connection_id, "accounting_sync", preview=True)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.created_count > 2
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Customer)).one() == 1  # only our ledger customer
        assert session.exec(select(func.count()).select_from(RecordVersion)).one() == 0
        labels = {i.label: i.message for i in session.exec(select(SyncRunItem).where(SyncRunItem.run_id == run.id))}
        assert "Would send create_invoice" in labels["Invoice PREVIEW-1"]
        assert "Would send create_payment" in labels["Payment PREVIEW-PAY (P-1)"]  # its invoice would exist by then
    assert sandbox_query(sandbox, "ARINVOICE", ["RECORDNO"], "RECORDID = 'PREVIEW-1'") == []
    real = run_now(engine, connection_id, "accounting_sync")
    assert real.status == RunStatus.SUCCEEDED and real.created_count == run.created_count
