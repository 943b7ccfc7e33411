"""Customers' and Invoices' totals say what they count (drafts and voided invoices owe nothing), and the aging
chart shows the invoices the list's search and filters pick."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from console import state
from storage.db import read_session
from storage.models import Invoice
from sync_engine.services.history import invoice_aging, invoice_totals
from tests.console.conftest import texts
from tests.console.seed import seed_ledger


def _draft_and_voided(db, customer_id: int, connection_id: int) -> None:
    with read_session(db) as session:
        for number, status in (("INV-D1", "draft"), ("INV-V1", "voided")):
            session.add(Invoice(connection_id=connection_id, number=number, customer_id=customer_id,
                                invoice_date=date.today(), due_date=date.today() - timedelta(days=40),
                                total=Decimal("5000.00"), balance=Decimal("5000.00"), status=status))
        session.commit()


def _acme(db) -> int:
    with read_session(db) as session:
        return session.exec(Invoice.__table__.select().where(Invoice.number == "INV-1001")).first().customer_id


def test_the_invoices_open_balance_leaves_out_drafts_and_voided_and_says_so(app_as, db) -> None:
    ids = seed_ledger(db)
    _draft_and_voided(db, _acme(db), ids["connection"])
    with read_session(db) as session:
        totals = invoice_totals(session=session)
    assert totals.count == 5 and totals.counted == 3 and totals.left_out == {"draft": 1, "voided": 1}
    assert totals.amounts == {"USD": Decimal("12500.00"), "EUR": Decimal("800.50")}
    at = app_as("viewer", state.INVOICES)
    shown = texts(at)
    assert "Open balance of 3 open or partly paid invoices (1 draft, 1 voided excluded" in shown
    assert {m.label: m.value for m in at.metric}["Open balance (USD)"] == "12,500.00"


def test_customers_say_their_balance_is_what_intacct_reported(app_as, db) -> None:
    seed_ledger(db)
    at = app_as("viewer", state.CUSTOMERS)
    assert "Open balance of 2 customers as Intacct last reported it" in texts(at)


def test_the_aging_chart_follows_the_search(app_as, db) -> None:
    ids = seed_ledger(db)
    _draft_and_voided(db, _acme(db), ids["connection"])
    with read_session(db) as session:
        everything = invoice_aging(session=session)
        globex = invoice_aging(session=session, search="Globex")
        drafts = invoice_aging(session=session, status="draft")
    assert {b.currency for b in everything if b.invoices} == {"USD", "EUR"}
    assert {b.currency for b in globex if b.invoices} == {"EUR"}
    assert sum(b.amount for b in globex) == Decimal("800.50")
    assert not any(b.invoices for b in drafts)  # a draft owes nothing, so it never ages
    at = app_as("viewer", state.INVOICES)
    at.text_input(key="inv_search").input("Globex").run()
    assert "Open balance by age** (days past due) · of the invoices matching the filters" in texts(at)
    chart = next(el for el in at.main if getattr(el, "type", "") == "vega_lite_chart")
    data = b"".join(d.data.data for d in chart.proto.datasets)
    assert b"EUR" in data and b"USD" not in data  # Acme's dollars are not in a chart of Globex's invoices
