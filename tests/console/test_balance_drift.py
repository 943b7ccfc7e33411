"""Balances vs Intacct: customers whose open ledger invoices do not add up to Intacct's balance, per currency."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from console import state
from storage.models import Customer, Invoice
from sync_engine.services.history import balance_drift
from tests.console.conftest import texts
from tests.console.seed import seed_ledger


def _customer(session: Session, number: str, balance: str, *, known: bool = True, currency: str = "USD") -> Customer:
    customer = Customer(number=number, name=f"Customer {number}", currency=currency, balance=Decimal(balance),
                        origin="intacct" if known else "ledger", intacct_customer_id=number if known else None)
    session.add(customer)
    session.flush()
    return customer


def _invoice(session: Session, customer: Customer, number: str, balance: str, *, status: str = "open",
             currency: str = "USD") -> None:
    session.add(Invoice(number=number, customer_id=customer.id, invoice_date=date(2026, 1, 5), currency=currency,
                        total=Decimal(balance), balance=Decimal(balance), status=status))


def test_drift_lists_only_customers_that_differ_with_the_difference(engine) -> None:
    with Session(engine) as session:
        matching = _customer(session, "M-1", "150.10")
        _invoice(session, matching, "M-INV-1", "100.05")
        _invoice(session, matching, "M-INV-2", "50.05", status="partially_paid")
        _invoice(session, matching, "M-INV-3", "999.00", status="paid")
        paid_here = _customer(session, "P-1", "500.00")  # a ledger payment not yet synced took 200.00 off
        _invoice(session, paid_here, "P-INV-1", "300.00", status="partially_paid")
        _customer(session, "G-1", "75.00")  # Intacct still has a balance, no open invoice here
        mixed = _customer(session, "X-1", "10.00")
        _invoice(session, mixed, "X-INV-1", "10.00")
        _invoice(session, mixed, "X-INV-2", "20.00", currency="EUR")
        unknown = _customer(session, "L-1", "0.00", known=False)
        _invoice(session, unknown, "L-INV-1", "40.00")
        session.commit()
        rows = [(d.customer.number, d.currency, d.ledger_open, d.intacct_balance, d.difference, d.open_invoices)
                for d in balance_drift(session=session)]
    assert rows == [
        ("P-1", "USD", Decimal("300.00"), Decimal("500.00"), Decimal("-200.00"), 1),
        ("G-1", "USD", Decimal("0.00"), Decimal("75.00"), Decimal("-75.00"), 0),
        ("X-1", "EUR", Decimal("20.00"), Decimal("0.00"), Decimal("20.00"), 1),
    ]
    assert all(isinstance(r[4], Decimal) for r in rows)


def test_customers_page_shows_the_drift_section(app_as, db) -> None:
    seed_ledger(db)
    at = app_as("viewer", state.CUSTOMERS)
    assert "Balances vs Intacct" in [s.value for s in at.subheader]
    assert "Every customer known in Intacct matches" in texts(at)
    assert "not yet synced shows as drift until the next sync" in texts(at)
    with Session(db) as session:
        acme = session.exec(select(Customer).where(Customer.number == "C-100")).one()
        acme.balance = Decimal("13000.00")
        session.add(acme)
        session.commit()
    at.run()
    table = next(df.value for df in at.dataframe if "Difference" in df.value.columns)
    assert table.to_dict("records") == [{
        "Number": "C-100", "Name": "Acme Corp", "Currency": "USD", "Open in our ledger": "12,500.00",
        "Balance in Intacct": "13,000.00", "Difference": "-500.00", "Open invoices": 2}]
