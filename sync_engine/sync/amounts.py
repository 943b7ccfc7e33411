"""An invoice's paid amount, balance and status, derived in one place from Intacct's figures and the ledger's payments.

The rule (ARCHITECTURE.md, "Who owns which field"): for an invoice in Intacct, Intacct's TOTALPAID / TOTALDUE
as last read are the base; ledger payments whose effect has not reached Intacct yet are added on top: a
payment not yet sent (not voided) pays its applications, a payment voided here but not yet reversed in
Intacct takes them back. For an invoice not in Intacct the base is nothing paid and the whole total due. So a
read of Intacct never overwrites money the ledger already received, and once every payment is in Intacct the
ledger equals Intacct exactly.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlmodel import Session, col, func, select

from storage.models import Invoice, Origin, Payment, PaymentApplication
from storage.sql import one_of
from storage.types import utcnow
from sync_engine.sync.ledger import diff, record_version, snapshot

ZERO = Decimal("0.00")

# Ledger payments whose effect Intacct does not show yet: +1 adds their applications, -1 takes them back.
_NOT_SENT = (Payment.origin == Origin.LEDGER, col(Payment.intacct_recordno).is_(None), col(Payment.voided).is_(False))
_VOID_NOT_REVERSED = (Payment.origin == Origin.LEDGER, col(Payment.intacct_recordno).is_not(None),
                      col(Payment.voided).is_(True), col(Payment.reversed_in_intacct).is_(False))


def _applied(session: Session, invoice_ids: list[int], conditions: tuple) -> dict[int, Decimal]:
    rows = session.exec(
        select(PaymentApplication.invoice_id, func.sum(PaymentApplication.amount))
        .join(Payment, col(Payment.id) == PaymentApplication.payment_id)
        .where(one_of(PaymentApplication.invoice_id, invoice_ids), *conditions)
        .group_by(col(PaymentApplication.invoice_id)))
    return {invoice_id: Decimal(total or 0) for invoice_id, total in rows}


def pending_adjustment(session: Session, invoice_ids: list[int]) -> dict[int, Decimal]:
    """Per invoice: what ledger payments not yet reflected in Intacct add to its paid amount (may be negative)."""
    added = _applied(session, invoice_ids, _NOT_SENT)
    taken = _applied(session, invoice_ids, _VOID_NOT_REVERSED)
    return {i: added.get(i, ZERO) - taken.get(i, ZERO) for i in set(added) | set(taken)}


def derived_status(invoice: Invoice, amount_paid: Decimal, balance: Decimal) -> str:
    if invoice.status in ("voided", "draft"):
        return invoice.status
    if (invoice.intacct_state or "").lower() == "reversed":
        return "voided"
    if invoice.total > ZERO and balance <= ZERO:
        return "paid"
    return "partially_paid" if amount_paid > ZERO else "open"


def derive(invoice: Invoice, adjustment: Decimal) -> dict[str, object]:
    """amount_paid, balance and status the invoice should show, given the pending ledger adjustment."""
    if invoice.intacct_recordno and invoice.intacct_total_paid is not None:
        paid_base = invoice.intacct_total_paid
        due_base = invoice.intacct_total_due if invoice.intacct_total_due is not None else invoice.total - paid_base
    else:
        paid_base, due_base = ZERO, invoice.total
    amount_paid, balance = paid_base + adjustment, due_base - adjustment
    status = derived_status(invoice, amount_paid, balance)
    if status == "voided":
        balance = ZERO  # nothing is due on a voided invoice, whatever Intacct still shows until it is reversed
    return {"amount_paid": amount_paid, "balance": balance, "status": status}


def refresh_invoices(session: Session, invoice_ids: Iterable[int]) -> list[Invoice]:
    """Bring amount_paid, balance and status of these invoices in line with the rule; return those that changed."""
    ids = sorted({i for i in invoice_ids if i is not None})
    changed: list[Invoice] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        adjustments = pending_adjustment(session, chunk)
        for invoice in session.exec(select(Invoice).where(one_of(Invoice.id, chunk))):
            values = derive(invoice, adjustments.get(invoice.id, ZERO))  # type: ignore[arg-type]
            if any(getattr(invoice, field) != value for field, value in values.items()):
                for field, value in values.items():
                    setattr(invoice, field, value)
                invoice.updated_at = utcnow()
                session.add(invoice)
                changed.append(invoice)
    return changed


def invoices_with_pending_payments(session: Session) -> list[int]:
    """Invoices some ledger payment not yet reflected in Intacct is applied to."""
    ids: set[int] = set()
    for conditions in (_NOT_SENT, _VOID_NOT_REVERSED):
        ids.update(session.exec(
            select(PaymentApplication.invoice_id).join(Payment, col(Payment.id) == PaymentApplication.payment_id)
            .where(*conditions).distinct()))
    return sorted(ids)


def refresh_with_versions(session: Session, invoice_ids: Iterable[int], *, run_id: int | None, source: str,
                          changed_by: str | None = None) -> list[Invoice]:
    """`refresh_invoices`, recording a RecordVersion of each invoice whose shown amounts changed."""
    ids = sorted({i for i in invoice_ids if i is not None})
    before = {inv.id: snapshot("invoice", inv.model_dump())
              for start in range(0, len(ids), 500)
              for inv in session.exec(select(Invoice).where(one_of(Invoice.id, ids[start:start + 500])))}
    changed = refresh_invoices(session, ids)
    for invoice in changed:
        after = snapshot("invoice", invoice.model_dump())
        changes = diff(before[invoice.id], after)
        if changes:
            record_version(session=session, record_type="invoice", record_id=invoice.id, run_id=run_id,  # type: ignore[arg-type]
                           source=source, changes=changes, snapshot_values=after, changed_by=changed_by)
    return changed
