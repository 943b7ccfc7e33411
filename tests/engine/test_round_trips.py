"""Records we wrote come back as themselves; payments made in Intacct arrive; the ledger and Intacct agree after
every sync (both directions on, as users run it), on SQLite and PostgreSQL against the sandbox over HTTP."""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, select

from storage.models import Customer, Invoice, Origin, Payment, RecordVersion, RunStatus, SyncCursor, SyncRunItem
from sync_engine import history, settings
from tests.engine.helpers import connect, ledger_invoice, ledger_payment, run_now, sandbox_query


def _intacct_invoice(sandbox, number: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    [found] = sandbox_query(sandbox, "ARINVOICE", ["RECORDNO", "TOTALPAID", "TOTALDUE", "STATE"], f"RECORDID = '{number}'")
    return found


def _pay_in_intacct(sandbox, customer: str, invoice_key: str, amount: str, ref: str) -> None:  # type: ignore[no-untyped-def]
    reply = sandbox.call(
        '<function controlid="pay"><create_arpayment>'
        f"<customerid>{customer}</customerid><paymentamount>{amount}</paymentamount>"
        f"<undepfundsacct>1210</undepfundsacct><refid>{ref}</refid>"
        "<datereceived><year>2026</year><month>11</month><day>25</day></datereceived>"
        "<paymentmethod>Cash</paymentmethod>"
        f"<arpaymentitem><invoicekey>{invoice_key}</invoicekey><amount>{amount}</amount></arpaymentitem>"
        "</create_arpayment></function>")
    assert reply.findtext(".//result/status") == "success", reply.findtext(".//description2")


def _failed(engine, run_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return [f"{i.label}: {i.message}" for i in session.exec(
            select(SyncRunItem).where(SyncRunItem.run_id == run_id, SyncRunItem.action == "failed"))]


def test_records_we_wrote_come_back_unchanged_and_intacct_payments_arrive(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        invoice = ledger_invoice(session, customer_number="RT-1", invoice_number="RT-INV-1", amounts=["600.00", "400.00"])
        ledger_payment(session, invoice, "250.00", "WIRE-RT")
        invoice_id = invoice.id
    first = run_now(engine, connection_id, "accounting_sync")
    assert first.status == RunStatus.SUCCEEDED, _failed(engine, first.id)
    remote = _intacct_invoice(sandbox, "RT-INV-1")
    with Session(engine) as session:
        ours = session.get(Invoice, invoice_id)
        assert ours.connection_id == connection_id and ours.intacct_recordno == remote["RECORDNO"]
        assert (ours.amount_paid, ours.balance, ours.status) == (Decimal("250.00"), Decimal("750.00"), "partially_paid")
        assert ours.intacct_state == remote["STATE"] == "Partially Paid"
        customer = session.exec(select(Customer).where(Customer.number == "RT-1")).one()
        assert customer.connection_id == connection_id and customer.sync_state == "synced"
        assert customer.balance == Decimal("750.00")  # read back after the writes
        assert history.balance_drift(session=session) == []

    for _ in range(3):  # our own records come back through the incremental reads: nothing fails or changes
        again = run_now(engine, connection_id, "accounting_sync")
        assert again.status == RunStatus.SUCCEEDED, _failed(engine, again.id)
        assert (again.created_count, again.updated_count, again.failed_count) == (0, 0, 0)
        with Session(engine) as session:
            assert session.exec(select(RecordVersion).where(RecordVersion.run_id == again.id)).all() == []

    _pay_in_intacct(sandbox, "RT-1", remote["RECORDNO"], "100.00", "CASH-IN-INTACCT")
    third = run_now(engine, connection_id, "accounting_sync")
    assert third.status == RunStatus.SUCCEEDED, _failed(engine, third.id)
    with Session(engine) as session:
        ours = session.get(Invoice, invoice_id)
        assert (ours.amount_paid, ours.balance) == (Decimal("350.00"), Decimal("650.00"))
        arrived = session.exec(select(Payment).where(Payment.origin == Origin.INTACCT)).one()
        assert (arrived.reference, arrived.amount, arrived.connection_id) == ("CASH-IN-INTACCT", Decimal("100.00"),
                                                                                connection_id)
        assert history.balance_drift(session=session) == []


def test_ledger_payment_waiting_for_its_invoice_is_not_overwritten_by_a_read(engine, sandbox) -> None:
    """An Intacct read between a ledger payment and its write keeps what the ledger received."""
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        invoice = ledger_invoice(session, customer_number="RT-2", invoice_number="RT-INV-2", amounts=["1000.00"])
        invoice_id = invoice.id
    assert run_now(engine, connection_id, "accounting_sync").status == RunStatus.SUCCEEDED
    with Session(engine) as session:
        # payments wait: their writes switched off for one sync
        form = settings.MappingForm(item_account_label="Services Revenue", undeposited_funds_account="1210",
                                    write_payments=False)
        settings.save_mapping(session=session, connection_id=connection_id, form=form, actor="t")
        ledger_payment(session, session.get(Invoice, invoice_id), "400.00", "CHK-WAIT")
    remote = _intacct_invoice(sandbox, "RT-INV-2")
    _pay_in_intacct(sandbox, "RT-2", remote["RECORDNO"], "100.00", "CASH-2")  # the invoice changes in Intacct
    waiting = run_now(engine, connection_id, "accounting_sync")
    assert waiting.status == RunStatus.SUCCEEDED, _failed(engine, waiting.id)
    with Session(engine) as session:
        ours = session.get(Invoice, invoice_id)
        assert (ours.amount_paid, ours.balance) == (Decimal("500.00"), Decimal("500.00"))  # 100 Intacct + 400 ours
        settings.save_mapping(session=session, connection_id=connection_id, actor="t", form=settings.MappingForm(
            item_account_label="Services Revenue", undeposited_funds_account="1210"))
    sent = run_now(engine, connection_id, "accounting_sync")
    assert sent.status == RunStatus.SUCCEEDED, _failed(engine, sent.id)
    remote = _intacct_invoice(sandbox, "RT-INV-2")
    with Session(engine) as session:
        ours = session.get(Invoice, invoice_id)
        assert (ours.amount_paid, ours.balance) == (Decimal(remote["TOTALPAID"]), Decimal(remote["TOTALDUE"]))
        assert ours.amount_paid == Decimal("500.00")


def test_a_one_time_import_sets_the_watermark_and_a_quiet_sync_costs_one_request_per_object(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
    assert run_now(engine, connection_id, "customer_import").status == RunStatus.SUCCEEDED
    assert run_now(engine, connection_id, "invoice_import").status == RunStatus.SUCCEEDED
    with Session(engine) as session:
        marks = {c.object_name for c in session.exec(select(SyncCursor)) if c.watermark is not None}
    assert {"CUSTOMER", "ARINVOICE", "ARPYMT"} <= marks
    quiet = run_now(engine, connection_id, "accounting_sync")
    assert quiet.status == RunStatus.SUCCEEDED
    assert (quiet.created_count, quiet.updated_count, quiet.failed_count) == (0, 0, 0)
    # sign-in, then one query each for customers, invoices and payments; nothing to write or read back
    assert quiet.api_requests == 4, quiet.api_requests
