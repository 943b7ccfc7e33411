"""The README's demo flow as a new user walks it, then the next two syncs (issue 8: day two must work too).

Connect the demo company, map, upload `samples/ledger_invoices.csv` and `samples/ledger_payments.csv`, Sync
Now; the second sync must find nothing to do; a payment an Intacct user then makes on one of our invoices
must reach the ledger at the third sync. Every call is what the console's screens call; the sync runs as the
scheduler runs it (enqueue, claim, execute).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from storage.models import Invoice, Payment, PaymentApplication, RunStatus, SyncRunItem
from sync_engine import connection, history, ledger_csv, settings
from storage.types import utcnow
from tests.engine.helpers import run_now
from tests.engine.model.intacct_side import IntacctSide
from tests.fixtures.sandbox import start_sandbox
from tests.scheduler.helpers import wait_for

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture
def demo_company(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A demo-seeded sandbox of this test's own (the session's demo sandbox is read-only)."""
    handle = start_sandbox(tmp_path / "demo", seed="demo")
    try:
        yield handle
    finally:
        handle.stop()


def _failures(engine, run_id: int) -> str:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        items = session.exec(select(SyncRunItem).where(SyncRunItem.run_id == run_id, SyncRunItem.action == "failed"))
        return "; ".join(f"{i.label}: {i.message}" for i in items) or "none"


def _drift(engine) -> list[tuple[str, Decimal, Decimal]]:  # type: ignore[no-untyped-def]
    """Balances vs Intacct: (customer, ledger open, Intacct balance) per customer that does not add up."""
    with Session(engine) as session:
        return [(d.customer.number, d.ledger_open, d.intacct_balance) for d in history.balance_drift(session=session)]


def _a_moment_later(run) -> None:  # type: ignore[no-untyped-def]
    """A person clicks Sync Now again later, not within the second the last sync started in."""
    wait_for(lambda: utcnow().replace(microsecond=0) > run.finished_at, timeout=5, what="the next second")


def _set_up(engine, sandbox) -> int:  # type: ignore[no-untyped-def]
    """Connection (Use the local demo company, Save, Test connection), Account mapping (Validate), Upload CSV."""
    with Session(engine) as session:
        saved = settings.save_connection(session=session, actor="admin", form=settings.ConnectionForm(
            endpoint_url=sandbox.url, company_id=sandbox.company_id, user_id=sandbox.user_id,
            user_password=sandbox.user_password, sender_id=sandbox.sender_id, sender_password=sandbox.sender_password))
        assert connection.test_connection(session=session).ok
        settings.save_mapping(session=session, connection_id=saved.id, actor="admin", form=settings.MappingForm(
            item_account_label="Services Revenue", undeposited_funds_account="1210"))
        validation = connection.validate_mapping(session=session)
        assert validation.ok, validation.problems
        invoices = ledger_csv.import_invoices_csv(session=session, actor="admin",
                                                  data=(SAMPLES / "ledger_invoices.csv").read_bytes())
        assert invoices.ok and invoices.created == ["AR-2001", "AR-2002", "AR-2003"], invoices.problems
        payments = ledger_csv.import_payments_csv(session=session, actor="admin",
                                                  data=(SAMPLES / "ledger_payments.csv").read_bytes())
        assert payments.ok and len(payments.created) == 2, payments.problems
        return saved.id  # type: ignore[return-value]


def test_the_readme_demo_flow_twice_then_a_payment_from_intacct(engine, demo_company) -> None:
    connection_id = _set_up(engine, demo_company)

    first = run_now(engine, connection_id, "accounting_sync")
    assert first.status == RunStatus.SUCCEEDED, _failures(engine, first.id)
    intacct = IntacctSide(demo_company)
    remote = {r["RECORDID"]: r for r in intacct.invoices() if r["RECORDID"] in ("AR-2001", "AR-2002", "AR-2003")}
    assert sorted(remote) == ["AR-2001", "AR-2002", "AR-2003"]

    _a_moment_later(first)
    second = run_now(engine, connection_id, "accounting_sync")
    assert second.status == RunStatus.SUCCEEDED, _failures(engine, second.id)
    assert (second.failed_count, second.created_count, second.updated_count) == (0, 0, 0), _failures(engine, second.id)
    assert _drift(engine) == []

    # An Intacct user records a cheque against AR-2003 (Økologisk Gård AS, 450.00 open, nothing paid yet).
    ar_2003 = remote["AR-2003"]
    assert Decimal(ar_2003["TOTALDUE"]) == Decimal("450.00")
    payment_key = intacct.pay(ar_2003["CUSTOMERID"], "CHK-INTACCT-1", [(ar_2003["RECORDNO"], Decimal("200.00"))],
                              date(2026, 11, 28))

    _a_moment_later(second)
    third = run_now(engine, connection_id, "accounting_sync")
    assert third.status == RunStatus.SUCCEEDED, _failures(engine, third.id)
    with Session(engine) as session:
        invoice = session.exec(select(Invoice).where(Invoice.number == "AR-2003")).one()
        assert (invoice.amount_paid, invoice.balance, invoice.status) == (Decimal("200.00"), Decimal("250.00"),
                                                                          "partially_paid")
        payment = session.exec(select(Payment).where(Payment.intacct_recordno == payment_key)).first()
        assert payment is not None, "the payment made in Intacct is not on Payments"
        assert (payment.origin, payment.reference, payment.amount) == ("intacct", "CHK-INTACCT-1", Decimal("200.00"))
        [applied] = session.exec(select(PaymentApplication).where(PaymentApplication.payment_id == payment.id))
        assert (applied.invoice_id, applied.amount) == (invoice.id, Decimal("200.00"))
    assert _drift(engine) == []
