""""Don't sync" / "Sync again" on one record: refused where it would hide a real posting, audited with the
reason, and honoured by the next sync (nothing marked reaches Intacct; what depends on it waits)."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from storage.models import (
    AuditEvent,
    Customer,
    Invoice,
    JournalState,
    Payment,
    RecordVersion,
    RunStatus,
    SyncRunItem,
    WriteJournal,
)
from sync_engine.services.history import record_history
from sync_engine.services.record_actions import (
    RecordActionError,
    resume_record,
    skip_record,
    skip_records,
    sync_actions,
)
from tests.engine.helpers import connect, ledger_invoice, ledger_payment, run_now, sandbox_query

WRITES_ONLY = {"read_customers": False, "read_invoices": False}


def _remote(sandbox, number: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return sandbox_query(sandbox, "ARINVOICE", ["RECORDNO", "RECORDID"], f"RECORDID = '{number}'")


def test_skip_and_resume_are_audited_with_the_reason(engine) -> None:
    with Session(engine) as session:
        invoice = ledger_invoice(session, customer_number="L-1", invoice_number="INV-1", amounts=["100.00"])
        message = skip_record(session=session, record_type="invoice", record_id=invoice.id,
                              reason="Duplicate of INV-0", actor="ann")
        assert message.startswith("Invoice INV-1 will not be sent")
        assert session.get(Invoice, invoice.id).sync_state == "skipped"
        with pytest.raises(RecordActionError, match="already marked"):
            skip_record(session=session, record_type="invoice", record_id=invoice.id, reason="again", actor="ann")
        resume_record(session=session, record_type="invoice", record_id=invoice.id, reason="Not a duplicate after all",
                      actor="bob")
        assert session.get(Invoice, invoice.id).sync_state == "not_synced"
        actions = sync_actions(session=session, record_type="invoice", record_id=invoice.id)
        assert [(a.actor, a.old_value, a.new_value, a.note) for a in actions] == [
            ("bob", "skipped", "not_synced", "Not a duplicate after all"),
            ("ann", "not_synced", "skipped", "Duplicate of INV-0")]
        history = record_history(session=session, record_type="invoice", record_id=invoice.id)
        assert [(v.source, v.changed_by, [(c.field, c.old, c.new) for c in v.changes]) for v in history] == [
            ("edit", "bob", [("sync_state", "skipped", "not_synced")]),
            ("edit", "ann", [("sync_state", "not_synced", "skipped")])]
        with pytest.raises(RecordActionError, match="not marked"):
            resume_record(session=session, record_type="invoice", record_id=invoice.id, reason="x", actor="bob")


def test_refusals_say_what_to_do_instead(engine) -> None:
    with Session(engine) as session:
        posted = ledger_invoice(session, customer_number="L-1", invoice_number="INV-P", amounts=["100.00"])
        posted.intacct_recordno, posted.sync_state = "77", "synced"
        imported = ledger_invoice(session, customer_number="L-1", invoice_number="INV-I", amounts=["5.00"])
        imported.origin = "intacct"
        session.add_all([posted, imported])
        session.commit()
        cases = [
            (("invoice", posted.id, "why"), "already in Intacct: void it instead"),
            (("invoice", imported.id, "why"), "came from Intacct"),
            (("invoice", posted.id, "   "), "Say why"),
            (("invoice", 999_999, "why"), "There is no invoice"),
            (("refund", 1, "why"), "Unknown record type"),
        ]
        for (kind, record_id, reason), expected in cases:
            with pytest.raises(RecordActionError, match=expected):
                skip_record(session=session, record_type=kind, record_id=record_id, reason=reason, actor="ann")
        session.rollback()
        assert session.get(Invoice, posted.id).sync_state == "synced"
        assert session.exec(select(AuditEvent).where(AuditEvent.field == "sync_state")).all() == []
        assert session.exec(select(RecordVersion)).all() == []


def test_an_unconfirmed_write_cannot_be_skipped(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, **WRITES_ONLY)
        invoice = ledger_invoice(session, customer_number="L-1", invoice_number="INV-U", amounts=["5.00"])
        session.add(WriteJournal(connection_id=connection_id, operation="create_invoice", record_type="invoice",
                                 record_id=invoice.id, controlid="create_invoice-invoice-u-a1", payload_hash="h",
                                 state=JournalState.UNCERTAIN))
        session.commit()
        with pytest.raises(RecordActionError, match="not confirmed yet"):
            skip_record(session=session, record_type="invoice", record_id=invoice.id, reason="why", actor="ann")


def test_a_sync_leaves_marked_records_out_and_what_needs_them_waits(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, **WRITES_ONLY)
        ledger_invoice(session, customer_number="L-1", invoice_number="KEEP-1", amounts=["10.00"])
        held = ledger_invoice(session, customer_number="L-1", invoice_number="HOLD-1", amounts=["20.00"])
        paid_held = ledger_payment(session, held, "20.00", "CHK-H")
        other = ledger_invoice(session, customer_number="L-2", invoice_number="CUST-HOLD-1", amounts=["30.00"])
        held_id, payment_id, other_customer = held.id, paid_held.id, other.customer_id
        skip_record(session=session, record_type="invoice", record_id=held_id, reason="Sent by mistake", actor="ann")
        skip_record(session=session, record_type="customer", record_id=other_customer, reason="Test account",
                    actor="ann")
    run = run_now(engine, connection_id, "accounting_sync")
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert len(_remote(sandbox, "KEEP-1")) == 1
    assert _remote(sandbox, "HOLD-1") == [] and _remote(sandbox, "CUST-HOLD-1") == []
    assert sandbox_query(sandbox, "CUSTOMER", ["CUSTOMERID"], "CUSTOMERID = 'L-2'") == []
    with Session(engine) as session:
        items = {i.label: (i.action, i.message) for i in session.exec(
            select(SyncRunItem).where(SyncRunItem.run_id == run.id))}
        waiting = items["Invoice CUST-HOLD-1"]
        assert waiting[0] == "skipped" and "L-2 is marked don't sync" in waiting[1]
        assert items["Payment CHK-H (L-1)"][0] == "skipped"
        assert "HOLD-1 is marked don't sync" in items["Payment CHK-H (L-1)"][1]
        assert "Invoice HOLD-1" not in items
        assert session.get(Payment, payment_id).intacct_recordno is None
        resume_record(session=session, record_type="invoice", record_id=held_id, reason="Confirmed real", actor="bob")
        resume_record(session=session, record_type="customer", record_id=other_customer, reason="Real customer",
                      actor="bob")
    again = run_now(engine, connection_id, "accounting_sync")
    assert again.status == RunStatus.SUCCEEDED, again.error_message
    assert len(_remote(sandbox, "HOLD-1")) == 1 and len(_remote(sandbox, "CUST-HOLD-1")) == 1
    with Session(engine) as session:
        assert session.get(Payment, payment_id).sync_state == "synced"
        assert session.get(Customer, other_customer).sync_state == "synced"


def test_bulk_skip_reports_each_refusal_and_marks_the_rest(engine) -> None:
    with Session(engine) as session:
        first = ledger_invoice(session, customer_number="L-1", invoice_number="B-1", amounts=["1.00"])
        posted = ledger_invoice(session, customer_number="L-1", invoice_number="B-2", amounts=["2.00"])
        posted.intacct_recordno = "9"
        session.add(posted)
        session.commit()
        result = skip_records(session=session, records=[("invoice", first.id), ("invoice", posted.id)],
                              reason="Customer cancelled", actor="ann")
        assert len(result.skipped) == 1 and result.refused == [
            "Invoice B-2: This invoice is already in Intacct: void it instead (the next sync reverses it there)."]
        assert session.get(Invoice, first.id).sync_state == "skipped"
        assert session.get(Invoice, posted.id).sync_state == "not_synced"
