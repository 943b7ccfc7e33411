"""CSV uploads against Intacct's cached lists: an account label Intacct lacks (or has inactive) is a row error,
a never-read list is a warning; a preview checks everything and saves nothing."""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, func, select

from storage.models import Customer, IntacctListItem, Invoice, Payment
from sync_engine.services.ledger_csv import import_invoices_csv, import_payments_csv
from tests.console.seed import seed_connection

HEADER = "invoice_number,customer_number,customer_name,invoice_date,amount,account_label\n"
ROWS = ("I-1,N-1,New Co,2026-11-01,100.00,REVENUE\n"
        "I-2,N-1,New Co,2026-11-01,50.00,NOSUCH\n"
        "I-3,N-1,New Co,2026-11-01,60.00,OLD\n"
        "I-4,N-1,New Co,2026-11-01,70.00,\n")


def _lists(engine, connection_id: int) -> None:
    with Session(engine) as session:
        session.add(IntacctListItem(connection_id=connection_id, list_name="account_labels", value="REVENUE"))
        session.add(IntacctListItem(connection_id=connection_id, list_name="account_labels", value="OLD", active=False))
        session.commit()


def _invoices(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Invoice)).one()


def test_labels_intacct_lacks_or_has_inactive_are_row_errors(engine) -> None:
    _lists(engine, seed_connection(engine))
    with Session(engine) as session:
        result = import_invoices_csv(session=session, data=HEADER + ROWS, actor="ann")
    assert result.created == ["I-1", "I-4"]
    problems = {(p.row, p.column): p.message for p in result.problems}
    assert set(problems) == {(3, "account_label"), (4, "account_label")}
    assert "'NOSUCH' does not exist in Intacct" in problems[(3, "account_label")]
    assert "'OLD' is inactive in Intacct" in problems[(4, "account_label")]
    assert "NOSUCH" in result.rejected_csv
    assert [w for w in result.warnings if "never been read" in w] == [], "the list was read"
    assert _invoices(engine) == 2


def test_a_list_never_read_is_a_warning_and_the_rows_are_accepted(engine) -> None:
    seed_connection(engine)
    with Session(engine) as session:
        result = import_invoices_csv(session=session, data=HEADER + ROWS, actor="ann")
    assert result.created == ["I-1", "I-2", "I-3", "I-4"] and not result.problems
    assert len([w for w in result.warnings if "never been read" in w]) == 1


def test_a_preview_lists_the_rows_and_saves_nothing(engine) -> None:
    _lists(engine, seed_connection(engine))
    with Session(engine) as session:
        preview = import_invoices_csv(session=session, data=HEADER + ROWS, actor="ann", preview=True)
    assert preview.preview and preview.created == ["I-1", "I-4"] and len(preview.problems) == 2
    assert [row["invoice_number"] for row in preview.rows] == ["I-1", "I-4"]
    assert _invoices(engine) == 0
    with Session(engine) as session:
        assert session.exec(select(Customer).where(Customer.number == "N-1")).first() is None
        added = import_invoices_csv(session=session, data=HEADER + ROWS, actor="ann")
    assert added.created == preview.created and _invoices(engine) == 2


def test_a_payment_preview_leaves_balances_and_payments_as_they_were(engine) -> None:
    seed_connection(engine)
    with Session(engine) as session:
        assert import_invoices_csv(session=session, data=HEADER + "I-1,N-1,New Co,2026-11-01,100.00,\n", actor="a").ok
    payments = ("reference,customer_number,received_on,amount,invoice_number\n"
                "CHK-1,N-1,2026-11-05,60.00,I-1\nCHK-2,N-1,2026-11-06,60.00,I-1\n")
    with Session(engine) as session:
        preview = import_payments_csv(session=session, data=payments, actor="a", preview=True)
    # the second payment is checked against the balance the first would leave
    assert preview.preview and preview.created == ["N-1/CHK-1"] and len(preview.problems) == 1
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Payment)).one() == 0
        assert session.exec(select(Invoice.balance)).one() == Decimal("100.00")
