"""Ledger lists and run pages read one page at a time: pages cover every row once, totals and aging are exact
SQL aggregates over every matching row, and a run's failures come first however its items are paged."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import random

from sqlmodel import Session

from storage.models import Customer, Invoice, RecordVersion, SyncRun, SyncRunItem
from sync_engine.history import (changed_fields, invoice_aging, invoice_totals, list_customers, list_invoices,
                                 run_change_counts, run_changes, run_item_counts, run_items_page)
from tests.console.seed import seed_connection


def _ledger(session: Session, amounts: list[Decimal]) -> Customer:
    customer = Customer(number="C-1", name="Big Customer", intacct_customer_id="C-1", origin="intacct")
    session.add(customer)
    session.flush()
    start = date(2026, 1, 1)
    session.add_all([Invoice(number=f"INV-{n:04d}", customer_id=customer.id, invoice_date=start + timedelta(days=n % 40),
                             due_date=start + timedelta(days=n % 40), total=amount, balance=amount,
                             currency="EUR" if n % 3 == 0 else "USD", sync_state="failed" if n % 7 == 0 else "synced")
                     for n, amount in enumerate(amounts)])
    session.commit()
    return customer


def test_invoice_pages_cover_every_invoice_once_and_totals_count_them_all(engine) -> None:
    amounts = [Decimal(f"{n}.{n % 100:02d}") for n in range(1, 451)]
    with Session(engine) as session:
        _ledger(session, amounts)
        pages = [list_invoices(session=session, limit=100, offset=offset) for offset in range(0, 500, 100)]
        numbers = [row.invoice.number for page in pages for row in page]
        assert len(numbers) == 450 == len(set(numbers))
        assert [len(p) for p in pages] == [100, 100, 100, 100, 50]
        dates = [row.invoice.invoice_date for page in pages for row in page]
        assert dates == sorted(dates, reverse=True)
        totals = invoice_totals(session=session)
        assert totals.count == 450
        assert totals.failing == sum(1 for n in range(450) if n % 7 == 0)
        assert totals.amounts == {"EUR": sum(a for n, a in enumerate(amounts) if n % 3 == 0),
                                  "USD": sum(a for n, a in enumerate(amounts) if n % 3)}
        assert invoice_totals(session=session, search="INV-000").count == 10
        assert len(list_customers(session=session, limit=1)) == 1


def test_aging_adds_up_to_the_exact_cent(sqlite_engine) -> None:
    # SQLite keeps NUMERIC as binary floating point: sums of many cents drift unless added up as whole cents.
    rng = random.Random(10)
    amounts = [Decimal(rng.randrange(1, 10_000_000)) / 100 for _ in range(3000)] + [Decimal("0.10")] * 999
    with Session(sqlite_engine) as session:
        _ledger(session, amounts)
        aging = invoice_aging(session=session, today=date(2026, 3, 1))
    by_currency: dict[str, Decimal] = {}
    for bucket in aging:
        by_currency[bucket.currency] = by_currency.get(bucket.currency, Decimal("0.00")) + bucket.amount
        assert isinstance(bucket.amount, Decimal)
    assert by_currency == {"EUR": sum(a for n, a in enumerate(amounts) if n % 3 == 0),
                           "USD": sum(a for n, a in enumerate(amounts) if n % 3)}
    assert sum(b.invoices for b in aging) == len(amounts)


def test_a_runs_failures_come_first_on_every_page_and_changes_page_updates_first(engine) -> None:
    connection_id = seed_connection(engine)
    with Session(engine) as session:
        run = SyncRun(connection_id=connection_id, kind="invoice_import", status="partly_failed")
        session.add(run)
        session.flush()
        for n in range(250):
            action = "failed" if n % 50 == 49 else "created" if n < 200 else "updated"
            session.add(SyncRunItem(run_id=run.id, step="invoices", record_type="invoice", record_id=n,  # type: ignore[arg-type]
                                    label=f"Invoice {n:03d}", action=action))
            session.add(RecordVersion(record_type="invoice", record_id=n, version=1 if n < 200 else 2, run_id=run.id,
                                      source="import", changes={"balance": ["1.00", "2.00"]} if n >= 200 else {}))
        session.commit()
        counts = run_item_counts(session=session, run_id=run.id)
        assert counts == {"created": 196, "updated": 49, "failed": 5}
        actions = ["failed", "created", "updated"]
        pages = [run_items_page(session=session, run_id=run.id, actions=actions, limit=3, offset=o)
                 for o in range(0, 250, 3)]
        flat = [i for p in pages for i in p]
        assert len(flat) == 250 and len({i.id for i in flat}) == 250
        assert [i.action for i in flat[:5]] == ["failed"] * 5 and "failed" not in {i.action for i in flat[5:]}
        assert [i.id for i in flat[5:]] == sorted(i.id for i in flat[5:])
        only_updates = run_items_page(session=session, run_id=run.id, actions=["updated"], limit=500)
        assert {i.action for i in only_updates} == {"updated"} and len(only_updates) == 49
        assert run_change_counts(session=session, run_id=run.id) == (50, 200)
        first = run_changes(session=session, run_id=run.id, limit=60)
        assert [c.created for c in first] == [False] * 50 + [True] * 10
        assert first[0].label == "Invoice 200"
        assert len(run_changes(session=session, run_id=run.id, limit=60, updates_only=True)) == 50
        assert changed_fields(session=session, run_id=run.id, keys=[("invoice", 210), ("invoice", 5)]) == {
            ("invoice", 210): ["balance"]}
