"""Records Intacct sends in a form we cannot take are left out one by one, each with a clear reason; the rest land."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import Session, select

from storage.models import Customer, SyncRun, SyncRunItem
from sync_engine.services import settings
from sync_engine.sync import imports
from sync_engine.sync.run_context import RunContext


def _context(engine) -> RunContext:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as session:
        connection = settings.save_connection(session=session, actor="t", form=settings.ConnectionForm(
            endpoint_url="http://127.0.0.1:9/ia/xml/xmlgw.phtml", company_id="C", user_id="u", user_password="p",
            sender_id="s", sender_password="sp"))
        run = SyncRun(connection_id=connection.id, kind="customer_import", status="running")
        session.add(run)
        session.commit()
        mapping = settings.get_mapping(session=session, connection_id=connection.id)
    return RunContext(engine=engine, run_id=run.id, client=None, connection=connection, mapping=mapping,  # type: ignore[arg-type]
                      started_at=datetime.now(UTC), options={})


def _customer(recordno: str, customer_id: str | None, totaldue: str | None = "10.00") -> dict[str, str | None]:
    return {"RECORDNO": recordno, "CUSTOMERID": customer_id, "NAME": f"Name {recordno}", "STATUS": "active",
            "TOTALDUE": totaldue, "WHENMODIFIED": "11/01/2026 10:00:00"}


def test_unreadable_customers_fail_alone(engine) -> None:
    ctx = _context(engine)
    records = [_customer("1", "C-1"), _customer("2", None), _customer("3", "C-3", "12abc"),
               _customer("4", "C-4", "1e40"), _customer("5", "C-5", "-7.25")]
    imports._store_customers(ctx, records)
    with Session(engine) as session:
        stored = {c.number: c.balance for c in session.exec(select(Customer))}
        failed = {i.label: i.message for i in session.exec(select(SyncRunItem).where(SyncRunItem.action == "failed"))}
    assert stored == {"C-1": Decimal("10.00"), "C-5": Decimal("-7.25")}
    assert set(failed) == {"Customer #2", "Customer C-3", "Customer C-4"}
    assert "CUSTOMERID missing" in failed["Customer #2"]
    assert "'12abc', not an amount" in failed["Customer C-3"]
    assert "too large" in failed["Customer C-4"]
    assert all("the rest of the run went on" in message for message in failed.values())
    assert ctx.counts["failed"] == 3 and ctx.counts["created"] == 2


class _CannedLines:
    """Stands in for the Intacct client's line reads (the hostile values cannot come from the sandbox)."""

    requests_sent = 0

    def __init__(self, lines: list[dict[str, str]]) -> None:
        self.lines = lines

    def iter_records(self, obj: str, fields, filter=None, **_paging):  # type: ignore[no-untyped-def]
        return iter(self.lines if obj == "ARINVOICEITEM" else [])


def _invoice(recordno: str, number: str, **overrides: str) -> dict[str, str]:
    return {"RECORDNO": recordno, "RECORDID": number, "CUSTOMERID": "C-1", "STATE": "Posted",
            "WHENCREATED": "11/01/2026", "WHENDUE": "12/01/2026", "TOTALENTERED": "100", "TOTALPAID": "0",
            "TOTALDUE": "100", "CURRENCY": "USD", "WHENMODIFIED": "11/02/2026 08:00:00", **overrides}


def test_unreadable_invoices_and_lines_fail_alone(engine) -> None:
    ctx = _context(engine)
    imports._store_customers(ctx, [_customer("1", "C-1")])
    ctx.client = _CannedLines([
        {"RECORDNO": "11", "RECORDKEY": "101", "LINE_NO": "1", "AMOUNT": "100", "ACCOUNTNO": "4000"},
        {"RECORDNO": "12", "RECORDKEY": "102", "LINE_NO": "1", "AMOUNT": "lots", "ACCOUNTNO": "4000"},
        {"RECORDNO": "13", "RECORDKEY": "103", "LINE_NO": "1", "AMOUNT": "100", "ACCOUNTNO": "4000"},
    ])  # type: ignore[assignment]
    imports._store_invoices(ctx, [_invoice("101", "OK-1"), _invoice("102", "BAD-LINE"),
                                  _invoice("103", "BAD-DATE", WHENCREATED="2026-11-01")], outstanding_only=True)
    from storage.models import Invoice

    with Session(engine) as session:
        assert [i.number for i in session.exec(select(Invoice))] == ["OK-1"]
        failed = {i.label: i.message for i in session.exec(select(SyncRunItem).where(SyncRunItem.action == "failed"))}
    assert "'lots', not an amount" in failed["Invoice BAD-LINE"]
    assert "not a date" in failed["Invoice BAD-DATE"]


def test_the_largest_amount_taken_is_stored_to_the_cent_and_a_larger_one_is_left_out(engine) -> None:
    ctx = _context(engine)
    imports._store_customers(ctx, [_customer("1", "C-1", "9999999999999.99"),
                                   _customer("2", "C-2", "-9999999999999.99"),
                                   _customer("3", "C-3", "10000000000000.01")])
    with Session(engine) as session:
        stored = {c.number: c.balance for c in session.exec(select(Customer))}
        failed = [i.label for i in session.exec(select(SyncRunItem).where(SyncRunItem.action == "failed"))]
    assert stored == {"C-1": Decimal("9999999999999.99"), "C-2": Decimal("-9999999999999.99")}
    assert failed == ["Customer C-3"]
