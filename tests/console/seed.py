"""A small, realistic ledger and run history written straight to storage, for console tests and screenshots."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine

from storage.db import read_session
from storage.models import (
    Customer,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentApplication,
    RecordVersion,
    SyncRun,
    SyncRunItem,
)
from storage.types import utcnow
from sync_engine.services.settings import ConnectionForm, MappingForm, save_connection, save_mapping

DEMO_FORM = ConnectionForm(endpoint_url="http://127.0.0.1:8765/ia/xml/xmlgw.phtml", company_id="DEMO-AR",
                           user_id="ws_console", sender_id="ar-console-sender", user_password="sandbox-user-pw",
                           sender_password="sandbox-sender-pw")


def seed_connection(engine: Engine) -> int:
    with read_session(engine) as session:
        connection = save_connection(session=session, form=DEMO_FORM, actor="admin-user")
        save_mapping(session=session, connection_id=connection.id, actor="admin-user",
                     form=MappingForm(item_account_label="Sales", undeposited_funds_account="1010"))
        return connection.id  # type: ignore[return-value]


def seed_ledger(engine: Engine) -> dict[str, int]:
    """A connection, two customers, three invoices, a payment, two runs (one partly failed) and a diff."""
    connection_id = seed_connection(engine)
    now = utcnow()
    with read_session(engine) as session:
        acme = Customer(connection_id=connection_id, number="C-100", name="Acme Corp", email="ap@acme.example",
                        balance=Decimal("12500.00"), origin="intacct", intacct_customer_id="C-100",
                        intacct_recordno="11", sync_state="synced")
        globex = Customer(connection_id=connection_id, number="C-200", name="Globex GmbH", currency="EUR",
                          balance=Decimal("800.50"), sync_state="failed",
                          sync_error="Customer 'C-200' could not be created: the term 'Net 45' is not valid")
        session.add_all([acme, globex])
        session.flush()
        inv1 = Invoice(connection_id=connection_id, number="INV-1001", customer_id=acme.id,
                       invoice_date=date.today() - timedelta(days=50), due_date=date.today() - timedelta(days=20),
                       total=Decimal("10000.00"), balance=Decimal("10000.00"), origin="intacct",
                       intacct_recordno="501", sync_state="synced")
        inv2 = Invoice(connection_id=connection_id, number="INV-1002", customer_id=acme.id,
                       invoice_date=date.today() - timedelta(days=5), due_date=date.today() + timedelta(days=25),
                       total=Decimal("3500.00"), amount_paid=Decimal("1000.00"), balance=Decimal("2500.00"),
                       status="partially_paid", sync_state="synced", intacct_recordno="502")
        inv3 = Invoice(connection_id=connection_id, number="INV-2001", customer_id=globex.id, currency="EUR",
                       invoice_date=date.today() - timedelta(days=100), due_date=date.today() - timedelta(days=95),
                       total=Decimal("800.50"), balance=Decimal("800.50"), sync_state="failed",
                       sync_error="BL03000018 Location 'L10' is not valid for account 4000")
        session.add_all([inv1, inv2, inv3])
        session.flush()
        session.add(InvoiceLine(invoice_id=inv2.id, line_no=1, description="Consulting, March",
                                quantity=Decimal("10"), unit_price=Decimal("350.00"), amount=Decimal("3500.00"),
                                account_label="Sales"))
        pay = Payment(connection_id=connection_id, customer_id=acme.id, reference="CHK-7781",
                      received_on=date.today() - timedelta(days=2), amount=Decimal("1000.00"), sync_state="pending")
        session.add(pay)
        session.flush()
        session.add(PaymentApplication(payment_id=pay.id, invoice_id=inv2.id, amount=Decimal("1000.00")))
        good = SyncRun(connection_id=connection_id, kind="accounting_sync", trigger="auto", status="succeeded",
                       queued_at=now - timedelta(days=1, minutes=5), started_at=now - timedelta(days=1, minutes=5),
                       finished_at=now - timedelta(days=1, minutes=4), created_count=2, unchanged_count=7,
                       window_from=now - timedelta(days=2), window_to=now - timedelta(days=1))
        bad = SyncRun(connection_id=connection_id, kind="accounting_sync", trigger="manual", requested_by="admin-user",
                      status="partly_failed", queued_at=now - timedelta(minutes=30),
                      started_at=now - timedelta(minutes=30), finished_at=now - timedelta(minutes=28),
                      updated_count=1, failed_count=1, error_message="1 record failed: see below.")
        imported = SyncRun(connection_id=connection_id, kind="customer_import", requested_by="admin-user",
                           status="succeeded", queued_at=now - timedelta(days=3), started_at=now - timedelta(days=3),
                           finished_at=now - timedelta(days=3) + timedelta(seconds=42), created_count=2,
                           notification_status="Emailed the result to ar-team@example.com")
        session.add_all([imported, good, bad])
        session.flush()
        session.add_all([
            SyncRunItem(run_id=bad.id, step="customers", record_type="customer", record_id=acme.id,
                        label="Customer C-100",
                        action="updated", intacct_key="11"),
            SyncRunItem(run_id=bad.id, step="invoice_writes", record_type="invoice", record_id=inv3.id,
                        label="Invoice INV-2001", action="failed", error_category="record", errorno="BL03000018",
                        message="Location 'L10' is not valid for account 4000",
                        correction="Pick a location that belongs to the entity, or clear it on the mapping."),
        ])
        session.add_all([
            RecordVersion(record_type="customer", record_id=acme.id, version=1, run_id=good.id, source="import",
                          changes={"name": [None, "Acme Corporation"]}, snapshot={"name": "Acme Corporation"}),
            RecordVersion(record_type="customer", record_id=acme.id, version=2, run_id=bad.id, source="import",
                          changes={"name": ["Acme Corporation", "Acme Corp"], "email": [None, "ap@acme.example"]},
                          snapshot={"name": "Acme Corp", "email": "ap@acme.example"}),
        ])
        session.commit()
        return {"connection": connection_id, "acme": acme.id, "inv3": inv3.id, "pay": pay.id, "good_run": good.id,
                "bad_run": bad.id}
