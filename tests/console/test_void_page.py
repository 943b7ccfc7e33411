"""Void on a record's page: accountants void ledger invoices and payments with a reason; viewers cannot; the page
lists the payments applied to an invoice from either side."""
from __future__ import annotations

from sqlmodel import select

from console import state
from storage.db import read_session
from storage.models import AuditEvent, Invoice
from tests.console.conftest import texts
from tests.console.seed import seed_ledger


def _open(app_as, role: str, kind: str, record_id: int):  # type: ignore[no-untyped-def]
    at = app_as(role, query={"type": kind, "id": str(record_id)})
    at.switch_page(state.RECORD_DETAIL).run()
    return at


def test_accountant_voids_an_invoice_with_a_reason_and_a_viewer_cannot(app_as, db) -> None:
    ids = seed_ledger(db)
    assert "Void" not in [b.label for b in _open(app_as, "viewer", "invoice", ids["inv3"]).button]
    at = _open(app_as, "accountant", "invoice", ids["inv3"])
    next(b for b in at.button if b.label == "Void").click().run()
    assert "Say why" in texts(at)
    with read_session(db) as session:
        assert session.get(Invoice, ids["inv3"]).status != "voided"
    at.text_input(key="void_reason").input("Entered twice")
    next(b for b in at.button if b.label == "Void").click().run()
    assert not at.exception
    assert "is voided; it will not be sent to Intacct" in texts(at)
    with read_session(db) as session:
        assert session.get(Invoice, ids["inv3"]).status == "voided"
        [event] = session.exec(select(AuditEvent).where(AuditEvent.entity == "invoice",
                                                        AuditEvent.entity_id == ids["inv3"])).all()
        assert (event.actor, event.note) == ("accountant-user", "Entered twice")


def test_invoice_page_lists_its_payments_and_an_unconfirmed_payment_cannot_be_voided(app_as, db) -> None:
    ids = seed_ledger(db)
    with read_session(db) as session:
        paid = session.exec(select(Invoice).where(Invoice.number == "INV-1002")).one()
    at = _open(app_as, "accountant", "invoice", paid.id)
    payments = next(df.value for df in at.dataframe if "Reference" in df.value.columns)
    assert list(payments["Reference"]) == ["CHK-7781"]
    at = _open(app_as, "admin", "payment", ids["pay"])
    at.text_input(key="void_reason").input("bounced")
    next(b for b in at.button if b.label == "Void").click().run()
    assert "not confirmed yet" in texts(at)
