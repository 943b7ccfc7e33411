"""The write journal settles: a create left `uncertain` (its answer was lost, e.g. the scheduler was killed) is
resolved by the next run that touches the record, whatever links it, and none stays uncertain after a
successful sync."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from storage.models import Customer, JournalState, RunStatus, WriteJournal
from sync_engine.journal import IN_FLIGHT, controlid_for
from tests.engine.helpers import connect, ledger_invoice, run_now, sandbox_query


def _lost_customer_write(session: Session, sandbox, connection_id: int, number: str) -> int:  # type: ignore[no-untyped-def]
    """What a kill -9 between sending a customer create and reading its answer leaves behind."""
    customer = session.exec(select(Customer).where(Customer.number == number)).one()
    sandbox.call(f'<function controlid="lost"><create><CUSTOMER><CUSTOMERID>{number}</CUSTOMERID>'
                 f"<NAME>{customer.name}</NAME></CUSTOMER></create></function>")
    session.add(WriteJournal(connection_id=connection_id, operation="create_customer", record_type="customer",
                             record_id=customer.id, controlid=controlid_for("create_customer", "customer", customer.id, 1),
                             payload_hash="lost", state=JournalState.UNCERTAIN, last_error="the scheduler was killed"))
    session.commit()
    return customer.id  # type: ignore[return-value]


@pytest.mark.parametrize("reads_customers", [False, True], ids=["linked-by-the-export", "linked-by-the-import"])
def test_an_uncertain_customer_create_settles_on_the_next_sync(engine, sandbox, reads_customers: bool) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, read_customers=reads_customers, read_invoices=False)
        ledger_invoice(session, customer_number="U-1", invoice_number="U-100", amounts=["25.00"])
        customer_id = _lost_customer_write(session, sandbox, connection_id, "U-1")
    run = run_now(engine, connection_id, "accounting_sync")
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    [remote] = sandbox_query(sandbox, "CUSTOMER", ["RECORDNO"], "CUSTOMERID = 'U-1'")  # exactly one
    with Session(engine) as session:
        entry = session.exec(select(WriteJournal).where(WriteJournal.record_type == "customer",
                                                        WriteJournal.record_id == customer_id)).one()
        assert (entry.state, entry.intacct_key) == (JournalState.CONFIRMED, remote["RECORDNO"])
        assert session.get(Customer, customer_id).intacct_recordno == remote["RECORDNO"]
        assert session.exec(select(WriteJournal).where(WriteJournal.state.in_(IN_FLIGHT))).all() == []
    assert len(sandbox_query(sandbox, "ARINVOICE", ["RECORDNO"], "RECORDID = 'U-100'")) == 1


def test_many_syncs_in_a_row_leave_nothing_uncertain(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, read_customers=True, read_invoices=True)
        for n in range(3):
            ledger_invoice(session, customer_number=f"M-{n}", invoice_number=f"M-{n}00", amounts=["10.00"])
            _lost_customer_write(session, sandbox, connection_id, f"M-{n}")
    for _ in range(3):
        assert run_now(engine, connection_id, "accounting_sync").status == RunStatus.SUCCEEDED
        with Session(engine) as session:
            assert session.exec(select(WriteJournal).where(WriteJournal.state.in_(IN_FLIGHT))).all() == []
    for n in range(3):
        assert len(sandbox_query(sandbox, "CUSTOMER", ["RECORDNO"], f"CUSTOMERID = 'M-{n}'")) == 1
        assert len(sandbox_query(sandbox, "ARINVOICE", ["RECORDNO"], f"RECORDID = 'M-{n}00'")) == 1


def test_a_lost_payment_write_adopted_later_leaves_the_invoice_balance_equal_to_intacct(engine, sandbox) -> None:
    """The payment reached Intacct but its answer was lost; the invoice was read meanwhile (Intacct's TOTALPAID
    already counts the payment). When the next sync links the payment, the invoice must not count it twice."""
    from decimal import Decimal

    from storage.models import AccountMapping, Invoice, Payment
    from sync_engine.intacct import functions
    from tests.engine.helpers import ledger_payment

    with Session(engine) as session:
        connection_id = connect(session, sandbox, write_payments=False)
        invoice_id = ledger_invoice(session, customer_number="P-1", invoice_number="P-100", amounts=["100.00"]).id
    assert run_now(engine, connection_id, "accounting_sync").status == RunStatus.SUCCEEDED  # invoice in Intacct
    with Session(engine) as session:
        invoice = session.get(Invoice, invoice_id)
        payment = ledger_payment(session, invoice, "40.00", "CHK-LOST")
        controlid = controlid_for("create_payment", "payment", payment.id, 1)
        lost = functions.create_arpayment(
            customer_id="P-1", amount=Decimal("40.00"), undeposited_account="1210", ref_id="CHK-LOST",
            date_received=payment.received_on, payment_method=payment.method, controlid=controlid,
            applications=[functions.PaymentApplication(invoice_key=invoice.intacct_recordno, amount=Decimal("40.00"))])
        sandbox.call(lost.to_xml().decode(), uniqueid=True)
        session.add(WriteJournal(connection_id=connection_id, operation="create_payment", record_type="payment",
                                 record_id=payment.id, controlid=controlid, payload_hash="lost",
                                 state=JournalState.UNCERTAIN))
        session.commit()
        payment_id = payment.id
    with Session(engine) as session:
        mapping = session.exec(select(AccountMapping)).one()
        mapping.write_payments = True
        session.add(mapping)
        session.commit()
    for _ in range(2):  # the first sync settles it, the second must change nothing
        assert run_now(engine, connection_id, "accounting_sync").status == RunStatus.SUCCEEDED
        [remote] = sandbox_query(sandbox, "ARINVOICE", ["TOTALDUE", "TOTALPAID"], "RECORDID = 'P-100'")
        with Session(engine) as session:
            ours = session.get(Invoice, invoice_id)
            assert (ours.amount_paid, ours.balance) == (Decimal(remote["TOTALPAID"]), Decimal(remote["TOTALDUE"]))
            assert ours.balance == Decimal("60.00")
            assert session.get(Payment, payment_id).intacct_recordno is not None
            assert session.exec(select(WriteJournal).where(WriteJournal.state.in_(IN_FLIGHT))).all() == []
    assert len(sandbox_query(sandbox, "ARPYMT", ["RECORDNO"], "DOCNUMBER = 'CHK-LOST'")) == 1
