"""Records we wrote come back as themselves; payments made in Intacct arrive; the ledger and Intacct agree after
every sync (both directions on, as users run it), on SQLite and PostgreSQL against the sandbox over HTTP."""
from __future__ import annotations

from decimal import Decimal

import pytest
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


def _reverse_in_intacct(sandbox, function: str, key: str) -> None:  # type: ignore[no-untyped-def]
    reply = sandbox.call(f'<function controlid="rev"><{function} key="{key}">'
                         "<datereversed><year>2026</year><month>11</month><day>28</day></datereversed>"
                         f"</{function}></function>")
    assert reply.findtext(".//result/status") == "success", reply.findtext(".//description2")


def test_voids_in_the_ledger_are_reversed_in_intacct_once(engine, sandbox) -> None:
    from sync_engine import voids

    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        paid = ledger_invoice(session, customer_number="VD-1", invoice_number="VD-INV-1", amounts=["300.00"])
        payment = ledger_payment(session, paid, "300.00", "CHK-VD")
        lone = ledger_invoice(session, customer_number="VD-1", invoice_number="VD-INV-2", amounts=["80.00"])
        paid_id, payment_id, lone_id = paid.id, payment.id, lone.id
    assert run_now(engine, connection_id, "accounting_sync").status == RunStatus.SUCCEEDED
    with Session(engine) as session:
        try:
            voids.void_invoice(session=session, invoice_id=paid_id, reason="wrong customer", actor="ann", role="accountant")
        except voids.RecordActionError as refused:
            assert "CHK-VD" in str(refused)  # a paid invoice's payment is voided first
        else:
            raise AssertionError("voiding an invoice with a payment applied must be refused")
        with pytest.raises(voids.RecordActionError):
            voids.void_payment(session=session, payment_id=payment_id, reason="x", actor="val", role="viewer")
        assert "reverses it in Intacct" in voids.void_payment(
            session=session, payment_id=payment_id, reason="cheque bounced", actor="ann", role="accountant")
        assert session.get(Invoice, paid_id).balance == Decimal("300.00")  # open again in the ledger at once
        voids.void_invoice(session=session, invoice_id=lone_id, reason="duplicate", actor="ann", role="admin")
    for _ in range(2):
        run = run_now(engine, connection_id, "accounting_sync")
        assert run.status == RunStatus.SUCCEEDED, _failed(engine, run.id)
    [reversed_payment] = sandbox_query(sandbox, "ARPYMT", ["RECORDNO", "STATE"], "DOCNUMBER = 'CHK-VD'")
    assert reversed_payment["STATE"] in ("V", "Reversed", "Voided")
    assert _intacct_invoice(sandbox, "VD-INV-2")["STATE"] == "Reversed"
    remote = _intacct_invoice(sandbox, "VD-INV-1")
    with Session(engine) as session:
        again = session.get(Invoice, paid_id)
        assert (again.amount_paid, again.balance) == (Decimal(remote["TOTALPAID"]), Decimal(remote["TOTALDUE"]))
        assert again.balance == Decimal("300.00")
        assert session.get(Payment, payment_id).reversed_in_intacct
        assert session.get(Invoice, lone_id).reversed_in_intacct
        assert history.balance_drift(session=session) == []


def test_reversals_and_deletions_in_intacct_void_the_ledger_records(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        invoice = ledger_invoice(session, customer_number="IV-1", invoice_number="IV-INV-1", amounts=["500.00"])
        gone = ledger_invoice(session, customer_number="IV-1", invoice_number="IV-INV-2", amounts=["70.00"])
        invoice_id, gone_id = invoice.id, gone.id
    assert run_now(engine, connection_id, "accounting_sync").status == RunStatus.SUCCEEDED
    key = _intacct_invoice(sandbox, "IV-INV-1")["RECORDNO"]
    _pay_in_intacct(sandbox, "IV-1", key, "200.00", "PAY-IV")
    assert run_now(engine, connection_id, "accounting_sync").status == RunStatus.SUCCEEDED
    with Session(engine) as session:
        intacct_payment = session.exec(select(Payment).where(Payment.reference == "PAY-IV")).one()
        assert session.get(Invoice, invoice_id).balance == Decimal("300.00")
    _reverse_in_intacct(sandbox, "reverse_arpayment", intacct_payment.intacct_recordno)
    reply = sandbox.call(f'<function controlid="del"><delete_invoice key="{_intacct_invoice(sandbox, "IV-INV-2")["RECORDNO"]}"/>'
                         "</function>")
    assert reply.findtext(".//result/status") == "success", reply.findtext(".//description2")
    run = run_now(engine, connection_id, "accounting_sync", deletion_sweep=True)
    assert run.status == RunStatus.SUCCEEDED, _failed(engine, run.id)
    with Session(engine) as session:
        assert session.get(Payment, intacct_payment.id).voided
        assert session.get(Invoice, invoice_id).balance == Decimal("500.00")
        deleted = session.get(Invoice, gone_id)
        assert (deleted.status, deleted.balance) == ("voided", Decimal("0.00"))
    _reverse_in_intacct(sandbox, "reverse_invoice", key)
    assert run_now(engine, connection_id, "accounting_sync").status == RunStatus.SUCCEEDED
    with Session(engine) as session:
        reversed_here = session.get(Invoice, invoice_id)
        assert (reversed_here.status, reversed_here.balance, reversed_here.reversed_in_intacct) == (
            "voided", Decimal("0.00"), True)
        assert history.balance_drift(session=session) == []
