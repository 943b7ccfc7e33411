"""Bulk work at small scale: many writes go out in few requests, each record still settled on its own; a first
import's records carry version 1 of the run that created them; an interrupted batch leaves nothing behind."""
from __future__ import annotations

from sqlmodel import Session, func, select

from storage.models import Customer, Invoice, JournalState, RecordVersion, RunStatus, SyncRunItem, WriteJournal
from sync_engine.history import record_history
from tests.engine.helpers import connect, ledger_invoice, run_now, sandbox_query

WRITES_ONLY = {"read_customers": False, "read_invoices": False}


def test_many_invoices_go_out_a_hundred_functions_per_request_each_settled_on_its_own(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, **WRITES_ONLY)
        for n in range(1, 131):
            ledger_invoice(session, customer_number="BULK-1", invoice_number=f"B-{n:03d}",
                           amounts=["0.00" if n == 77 else f"{n}.25"])  # a zero invoice Intacct refuses
    sandbox.reset_stats()
    run = run_now(engine, connection_id, "accounting_sync")
    stats = sandbox.stats()
    assert stats["functions"]["create_invoice"] == 130
    # 130 invoices in 2 requests (+ the customer, sign-in and the mapping check), not 13 requests of 10.
    assert stats["total"] <= 8, stats
    remote = {r["RECORDID"] for r in sandbox_query(sandbox, "ARINVOICE", ["RECORDID"], "CUSTOMERID = 'BULK-1'")}
    with Session(engine) as session:
        entries = session.exec(select(WriteJournal).where(WriteJournal.operation == "create_invoice")).all()
        assert len(entries) == 130 and len({e.controlid for e in entries}) == 130
        confirmed = {e.record_id for e in entries if e.state == JournalState.CONFIRMED}
        invoices = {i.id: i for i in session.exec(select(Invoice))}
        assert {invoices[i].number for i in confirmed} == remote
        for entry in entries:  # every record settled on its own: key stored, or its own failure kept
            invoice = invoices[entry.record_id]
            if entry.state == JournalState.CONFIRMED:
                assert invoice.intacct_recordno == entry.intacct_key and invoice.sync_state == "synced"
            else:
                assert entry.state == JournalState.FAILED and invoice.sync_state == "failed" and invoice.sync_error
        items = session.exec(select(SyncRunItem).where(SyncRunItem.run_id == run.id,
                                                       SyncRunItem.record_type == "invoice")).all()
        assert sorted(i.label for i in items) == sorted(f"Invoice {i.number}" for i in invoices.values())
    second = run_now(engine, connection_id, "accounting_sync")
    assert second.created_count == 0  # nothing sent twice
    assert len(sandbox_query(sandbox, "ARINVOICE", ["RECORDID"], "CUSTOMERID = 'BULK-1'")) == len(remote)


def test_imported_records_say_which_run_created_them_and_later_changes_keep_the_old_values(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
    first = run_now(engine, connection_id, "customer_import")
    assert first.status == RunStatus.SUCCEEDED, first.error_message
    with Session(engine) as session:
        customer = session.exec(select(Customer).order_by(Customer.id)).first()
        assert customer is not None
        count = session.exec(select(func.count()).select_from(RecordVersion).where(
            RecordVersion.run_id == first.id, RecordVersion.version == 1)).one()
        assert count == first.created_count == session.exec(select(func.count()).select_from(Customer)).one()
        [created] = record_history(session=session, record_type="customer", record_id=customer.id)  # type: ignore[arg-type]
        assert (created.version, created.run_id, created.source) == (1, first.id, "import")
        old_name = customer.name
    sandbox.call(f'<function controlid="u"><update><CUSTOMER><CUSTOMERID>{customer.number}</CUSTOMERID>'
                 f"<NAME>Renamed Bulk Co</NAME></CUSTOMER></update></function>")
    sandbox.advance_clock(5)
    later = run_now(engine, connection_id, "accounting_sync")
    with Session(engine) as session:
        history = record_history(session=session, record_type="customer", record_id=customer.id)  # type: ignore[arg-type]
    assert [(v.version, v.run_id) for v in history] == [(2, later.id), (1, first.id)]
    assert {(c.field, c.old, c.new) for c in history[0].changes} >= {("name", old_name, "Renamed Bulk Co")}
