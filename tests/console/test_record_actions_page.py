"""Don't sync / Sync again on a record's history page, as an accountant sees it (and a viewer does not)."""
from __future__ import annotations

from sqlmodel import select

from console import state
from storage.db import read_session
from storage.models import Invoice
from tests.console.conftest import texts
from tests.console.seed import seed_ledger


def _open(app_as, role: str, kind: str, record_id: int):  # type: ignore[no-untyped-def]
    at = app_as(role, query={"type": kind, "id": str(record_id)})
    at.switch_page(state.RECORD_DETAIL).run()
    return at


def _buttons(at) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.label for b in at.button]


def test_accountant_marks_an_invoice_dont_sync_with_a_reason_then_sends_it_again(app_as, db) -> None:
    ids = seed_ledger(db)
    at = _open(app_as, "accountant", "invoice", ids["inv3"])
    assert "Don't sync" in _buttons(at)
    next(b for b in at.button if b.label == "Don't sync").click().run()
    assert "Say why" in texts(at)
    with read_session(db) as session:
        assert session.get(Invoice, ids["inv3"]).sync_state == "failed"

    at.text_input(key="sync_reason").input("Customer disputes it; credit note coming")
    next(b for b in at.button if b.label == "Don't sync").click().run()
    assert not at.exception
    shown = texts(at)
    assert "Invoice INV-2001 will not be sent to Intacct" in shown
    assert "Marked don't sync" in shown and "Customer disputes it" in shown
    assert at.text_input(key="sync_reason").value == ""
    log = next(df.value for df in at.dataframe if "Reason" in df.value.columns)
    assert list(log["Change"]) == ["Failed → Don't sync"] and list(log["Who"]) == ["accountant-user"]
    with read_session(db) as session:
        assert session.get(Invoice, ids["inv3"]).sync_state == "skipped"

    at.text_input(key="sync_reason").input("Dispute settled")
    next(b for b in at.button if b.label == "Sync again").click().run()
    assert "goes to Intacct with the next sync" in texts(at)
    with read_session(db) as session:
        assert session.get(Invoice, ids["inv3"]).sync_state == "not_synced"


def test_no_dont_sync_for_viewers_or_records_already_in_intacct(app_as, db) -> None:
    ids = seed_ledger(db)
    assert "Don't sync" not in _buttons(_open(app_as, "viewer", "invoice", ids["inv3"]))
    with read_session(db) as session:
        imported = session.exec(select(Invoice).where(Invoice.number == "INV-1001")).one()
    assert "Don't sync" not in _buttons(_open(app_as, "admin", "invoice", imported.id))


def test_a_failing_group_is_marked_dont_sync_from_accounting_sync(app_as, db) -> None:
    ids = seed_ledger(db)
    at = app_as("accountant", state.ACCOUNTING_SYNC)
    assert "Records still failing" in texts(at)
    next(b for b in at.button if b.label == "Don't sync these 1").click().run()
    assert "Say why" in texts(at)
    at.text_input(key="group_reason").input("Globex account closed")
    next(b for b in at.button if b.label == "Don't sync these 1").click().run()
    assert not at.exception
    assert "1 marked don't sync" in texts(at)
    assert "Records still failing" not in texts(at) and "No record is failing" in texts(at)
    with read_session(db) as session:
        assert session.get(Invoice, ids["inv3"]).sync_state == "skipped"


def test_a_failed_invoice_is_fixed_on_its_page_and_retried_alone(app_as, db) -> None:
    from decimal import Decimal

    from storage.models import IntacctListItem, InvoiceLine, SyncRun

    ids = seed_ledger(db)
    with read_session(db) as session:
        connection_id = session.get(Invoice, ids["inv3"]).connection_id
        session.add(InvoiceLine(invoice_id=ids["inv3"], line_no=1, amount=Decimal("800.50"),
                                unit_price=Decimal("800.50"), account_label="Legacy Revenue"))
        for value, active in (("Sales", True), ("Legacy Revenue", False)):
            session.add(IntacctListItem(connection_id=connection_id, list_name="account_labels", value=value,
                                        active=active))
        session.commit()
    assert "Retry this record" not in _buttons(_open(app_as, "viewer", "invoice", ids["inv3"]))
    at = _open(app_as, "accountant", "invoice", ids["inv3"])
    assert "Fix and retry" in texts(at)
    picker = next(s for s in at.selectbox if str(s.key).startswith("fix_label_"))
    assert "Legacy Revenue" in picker.options and picker.value == "Legacy Revenue"
    picker.set_value("Sales").run()
    next(b for b in at.button if b.label == "Save label").click().run()
    assert "Line 1 of invoice INV-2001 now posts to Sales" in texts(at)
    next(b for b in at.button if b.label == "Retry this record").click().run()
    assert "queued to be written to Intacct on its own" in texts(at)
    with read_session(db) as session:
        invoice = session.get(Invoice, ids["inv3"])
        assert invoice.sync_state == "not_synced"
        line = session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == ids["inv3"])).one()
        assert line.account_label == "Sales"
        run = session.exec(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run.options == {"only": [["invoice", ids["inv3"]]]} and run.status == "queued"
