"""Helpers for engine tests: a ledger connected to a sandbox, runs executed synchronously, sandbox look-ups."""
from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

from lxml import etree
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.models import Customer, Invoice, InvoiceLine, Payment, PaymentApplication, SyncRun
from sync_engine.schedule import queue
from sync_engine.services import settings
from sync_engine.sync import leases, runs

HOLDER = "test-scheduler"


def connect(session: Session, sandbox, **mapping) -> int:  # type: ignore[no-untyped-def]
    """Save a connection to `sandbox` and a valid mapping; return the connection id."""
    connection = settings.save_connection(session=session, actor="tester", form=settings.ConnectionForm(
        endpoint_url=sandbox.url, company_id=sandbox.company_id, user_id=sandbox.user_id,
        user_password=sandbox.user_password, sender_id=sandbox.sender_id, sender_password=sandbox.sender_password))
    form = settings.MappingForm(item_account_label="Services Revenue", undeposited_funds_account="1210")
    for key, value in mapping.items():
        setattr(form, key, value)
    settings.save_mapping(session=session, connection_id=connection.id, form=form, actor="tester")
    return connection.id  # type: ignore[return-value]


def run_now(engine: Engine, connection_id: int, kind: str, **options) -> SyncRun:  # type: ignore[no-untyped-def]
    """Enqueue a run, claim it and execute it here; return the finished run."""
    with Session(engine) as session:
        queued = queue.enqueue_run(session=session, connection_id=connection_id, kind=kind, requested_by="tester",
                                   options=options)
    claimed = leases.claim_next_run(engine=engine, holder=HOLDER)
    assert claimed is not None and claimed.id == queued.id
    runs.execute_run(engine=engine, run_id=claimed.id, holder=HOLDER, stop=threading.Event())
    leases.release_lease(engine=engine, holder=HOLDER, run_id=claimed.id)
    with Session(engine) as session:
        return session.get(SyncRun, claimed.id)  # type: ignore[return-value]


def ledger_invoice(session: Session, *, customer_number: str, invoice_number: str, amounts: list[str],
                   customer_name: str = "Ledger Customer", label: str | None = None) -> Invoice:
    customer = session.exec(select(Customer).where(Customer.number == customer_number)).first()
    if customer is None:
        customer = Customer(number=customer_number, name=customer_name, email="ap@example.test")
        session.add(customer)
        session.flush()
    total = sum((Decimal(a) for a in amounts), Decimal("0"))
    invoice = Invoice(number=invoice_number, customer_id=customer.id, invoice_date=date(2026, 11, 2),
                      due_date=date(2026, 12, 2), total=total, balance=total, description="Consulting")
    session.add(invoice)
    session.flush()
    for i, amount in enumerate(amounts, start=1):
        session.add(InvoiceLine(invoice_id=invoice.id, line_no=i, description=f"Line {i}", amount=Decimal(amount),
                                unit_price=Decimal(amount), account_label=label))
    session.commit()
    return invoice


def ledger_payment(session: Session, invoice: Invoice, amount: str, reference: str) -> Payment:
    payment = Payment(customer_id=invoice.customer_id, reference=reference, received_on=date(2026, 11, 20),
                      amount=Decimal(amount), method="EFT")
    session.add(payment)
    session.flush()
    session.add(PaymentApplication(payment_id=payment.id, invoice_id=invoice.id, amount=Decimal(amount)))
    session.commit()
    return payment


def sandbox_query(sandbox, obj: str, fields: list[str], where: str = "") -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """Read records straight from the sandbox (readByQuery), bypassing our client."""
    response = sandbox.call(
        f'<function controlid="probe"><readByQuery><object>{obj}</object><fields>{",".join(fields)}</fields>'
        f"<query>{_escape(where)}</query><pagesize>1000</pagesize></readByQuery></function>")
    data = response.find(".//result/data")
    assert data is not None, etree.tostring(response).decode()
    return [{child.tag.upper(): (child.text or "") for child in record} for record in data]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
