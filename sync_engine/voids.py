"""A person voids a ledger invoice or payment, with the reason kept; the next sync reverses it in Intacct.

Posted records are never edited in Intacct: a voided invoice or payment that reached Intacct is reversed
there by the next sync (`exports.reverse_voided_invoices`, `payments.reverse_voided_payments`, through the
write journal, exactly once); one that never reached Intacct simply is not sent. Voiding is refused while a
write of the record is unconfirmed (it may be in Intacct already: the next sync settles that first), for
records that came from Intacct (reverse them there; the next sync brings the reversal), and for an invoice
that still has payments applied (void those first, so balances stay explainable). Each void is an
AuditEvent with the reason and a RecordVersion, and the invoice amounts it affects are derived again.
"""
from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import Invoice, Origin, Payment, PaymentApplication, Role
from storage.types import utcnow
from sync_engine import amounts
from sync_engine.audit import record_changes
from sync_engine.ledger import diff, record_version, snapshot
from sync_engine.record_actions import RecordActionError, _load, _reason, label, write_unconfirmed

VOID_ROLES = (Role.ADMIN, Role.ACCOUNTANT)


def _check(record_type: str, record: object, role: str) -> None:
    if role not in VOID_ROLES:
        raise RecordActionError("Only an accountant or an administrator can void records.")
    if record.origin != Origin.LEDGER:
        raise RecordActionError(f"This {record_type} came from Intacct: reverse it in Intacct; the next sync then "
                                "shows it voided here.")


def _record(session: Session, record_type: str, record: Invoice | Payment, before: dict, reason: str, actor: str) -> None:
    after = snapshot(record_type, record.model_dump())
    changes = diff(before, after)
    record_changes(session=session, actor=actor, entity=record_type, entity_id=record.id,
                   old={"voided": "no"}, new={"voided": "yes"}, note=reason)
    record_version(session=session, record_type=record_type, record_id=record.id, run_id=None, source="edit",  # type: ignore[arg-type]
                   changes=changes, snapshot_values=after, changed_by=actor)


def void_invoice(*, session: Session, invoice_id: int, reason: str, actor: str, role: str) -> str:
    """Void a ledger invoice; returns what happens next in plain words (RecordActionError when refused)."""
    reason = _reason(reason)
    invoice = _load(session, "invoice", invoice_id)
    _check("invoice", invoice, role)
    if invoice.status == "voided":
        raise RecordActionError("This invoice is already voided.")
    if write_unconfirmed(session, "invoice", invoice):
        raise RecordActionError("A write of this invoice to Intacct is not confirmed yet: the next sync checks "
                                "Intacct first. Void it after that sync.")
    applied = session.exec(select(Payment.reference).join(PaymentApplication, col(PaymentApplication.payment_id) == Payment.id)
                           .where(PaymentApplication.invoice_id == invoice.id, col(Payment.voided).is_(False))).all()
    if applied:
        raise RecordActionError(f"Payment {', '.join(sorted(applied))} is applied to this invoice: void the payment "
                                "first, then the invoice.")
    before = snapshot("invoice", invoice.model_dump())
    invoice.status, invoice.voided_at, invoice.updated_at = "voided", utcnow(), utcnow()
    session.add(invoice)
    session.flush()
    amounts.refresh_invoices(session, [invoice.id])  # type: ignore[list-item]
    _record(session, "invoice", invoice, before, reason, actor)
    session.commit()
    if invoice.intacct_recordno:
        return f"{label('invoice', invoice)} is voided; the next sync reverses it in Intacct."
    return f"{label('invoice', invoice)} is voided; it will not be sent to Intacct."


def void_payment(*, session: Session, payment_id: int, reason: str, actor: str, role: str) -> str:
    """Void a ledger payment (its invoices open again); returns what happens next in plain words."""
    reason = _reason(reason)
    payment = _load(session, "payment", payment_id)
    _check("payment", payment, role)
    if payment.voided:
        raise RecordActionError("This payment is already voided.")
    if write_unconfirmed(session, "payment", payment):
        raise RecordActionError("A write of this payment to Intacct is not confirmed yet: the next sync checks "
                                "Intacct first. Void it after that sync.")
    before = snapshot("payment", payment.model_dump())
    payment.voided, payment.voided_at, payment.updated_at = True, utcnow(), utcnow()
    session.add(payment)
    _record(session, "payment", payment, before, reason, actor)
    session.flush()
    invoice_ids = list(session.exec(select(PaymentApplication.invoice_id).where(
        PaymentApplication.payment_id == payment.id)))
    befores = {inv.id: snapshot("invoice", inv.model_dump())
               for inv in session.exec(select(Invoice).where(col(Invoice.id).in_(invoice_ids)))}
    for invoice in amounts.refresh_invoices(session, invoice_ids):
        after = snapshot("invoice", invoice.model_dump())
        record_version(session=session, record_type="invoice", record_id=invoice.id, run_id=None, source="edit",  # type: ignore[arg-type]
                       changes=diff(befores[invoice.id], after), snapshot_values=after, changed_by=actor)
    session.commit()
    if payment.intacct_recordno:
        return f"{label('payment', payment)} is voided; the next sync reverses it in Intacct."
    return f"{label('payment', payment)} is voided; it will not be sent to Intacct."
