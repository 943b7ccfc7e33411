"""The ledger tables keep exact money, aware timestamps and unique Intacct keys on both backends."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Float, inspect
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, SQLModel, select

from storage.models import Customer, Invoice, InvoiceLine, Payment, PaymentApplication
from storage.types import Money

MONEY_NAMES = ("amount", "total", "balance", "paid", "price")
NOT_MONEY = {"progress_total"}  # a count of records, not an amount


def _customer(session: Session, number: str = "C-1") -> Customer:
    customer = Customer(number=number, name="Acme Tools")
    session.add(customer)
    session.flush()
    return customer


def test_money_round_trips_exactly(engine) -> None:
    with Session(engine) as session:
        customer = _customer(session)
        invoice = Invoice(number="INV-1", customer_id=customer.id, invoice_date=date(2026, 11, 1),
                          total=Decimal("1679615.93"), balance=Decimal("0.10") + Decimal("0.20"))
        session.add(invoice)
        session.flush()
        session.add(InvoiceLine(invoice_id=invoice.id, line_no=1, amount=Decimal("1679615.93"),
                                quantity=Decimal("2.5"), unit_price=Decimal("671846.372")))
        session.commit()
    with Session(engine) as session:
        invoice = session.exec(select(Invoice)).one()
        line = session.exec(select(InvoiceLine)).one()
        assert invoice.total == Decimal("1679615.93") and isinstance(invoice.total, Decimal)
        assert invoice.balance == Decimal("0.30")
        assert line.unit_price == Decimal("671846.37")  # money is kept to the cent
        assert line.quantity == Decimal("2.5")


def test_float_money_is_refused(engine) -> None:
    with Session(engine) as session:
        customer = _customer(session)
        session.add(Payment(customer_id=customer.id, reference="CHK-1", received_on=date(2026, 11, 2), amount=10.1))
        with pytest.raises(StatementError, match="not a float"):
            session.flush()


def test_timestamps_come_back_aware_utc(engine) -> None:
    stamp = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    with Session(engine) as session:
        customer = _customer(session)
        customer.intacct_modified_at = stamp
        session.commit()
    with Session(engine) as session:
        got = session.exec(select(Customer)).one()
        assert got.intacct_modified_at == stamp and got.intacct_modified_at.tzinfo is not None
        assert got.created_at.tzinfo is not None


def test_intacct_keys_and_invoice_numbers_are_unique(engine) -> None:
    with Session(engine) as session:
        customer = _customer(session)
        session.add(Invoice(number="INV-9", customer_id=customer.id, invoice_date=date(2026, 1, 1)))
        session.commit()
        session.add(Invoice(number="INV-9", customer_id=customer.id, invoice_date=date(2026, 1, 2)))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        session.add(Customer(number="C-2", name="B", intacct_recordno="77", connection_id=None))
        session.commit()


def test_payment_application_links_payment_and_invoice(engine) -> None:
    with Session(engine) as session:
        customer = _customer(session)
        invoice = Invoice(number="INV-2", customer_id=customer.id, invoice_date=date(2026, 1, 1), total=Decimal("100"))
        payment = Payment(customer_id=customer.id, reference="W-1", received_on=date(2026, 1, 5), amount=Decimal("40"))
        session.add_all([invoice, payment])
        session.flush()
        session.add(PaymentApplication(payment_id=payment.id, invoice_id=invoice.id, amount=Decimal("40.00")))
        session.commit()
        session.add(PaymentApplication(payment_id=payment.id, invoice_id=invoice.id, amount=Decimal("1.00")))
        with pytest.raises(IntegrityError):
            session.commit()


def test_no_money_column_is_a_float() -> None:
    """Every column whose name says money is Money (Decimal); no column anywhere is a float."""
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            assert not isinstance(column.type, Float), f"{table.name}.{column.name} is a float"
            if any(part in column.name for part in MONEY_NAMES) and column.name not in NOT_MONEY:
                assert isinstance(column.type, Money), f"{table.name}.{column.name} is {column.type!r}, not Money"


def test_money_columns_are_numeric_in_the_database(engine) -> None:
    inspector = inspect(engine)
    checked = 0
    for table in ("invoice", "invoice_line", "payment", "payment_application", "customer"):
        for column in inspector.get_columns(table):
            if any(part in column["name"] for part in MONEY_NAMES) and not column["name"].endswith("_id"):
                type_name = str(column["type"]).upper()
                assert type_name.startswith("NUMERIC"), f"{table}.{column['name']} is stored as {type_name}"
                checked += 1
    assert checked >= 7
