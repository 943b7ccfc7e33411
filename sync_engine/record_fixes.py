"""Correcting a ledger record where it failed: a line's account label, the customer of an invoice, the invoice
a payment is applied to, a payment's method.

Only records that start in our ledger and are not in Intacct yet can be corrected (a posted record is voided or
reversed instead), and not while a write of them is unconfirmed in the journal (it may be in Intacct already).
Each correction is a RecordVersion (source "edit") with who made it, puts a failed record back in line
(`not_synced`), and is then retried alone with `queue.retry_records` or by the next sync.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from storage.models import (Customer, Invoice, InvoiceLine, JournalState, Origin, Payment, PaymentApplication,
                            SyncState, WriteJournal)
from storage.types import utcnow
from sync_engine import intacct_lists
from sync_engine.ledger import TRACKED_FIELDS, as_text, record_version
from sync_engine.ledger_entry import refresh_invoice_amounts
from sync_engine.settings import get_connection
from sync_engine.write_rules import METHODS

_OPEN_JOURNAL = (JournalState.PENDING, JournalState.SENT, JournalState.UNCERTAIN)


class FixError(ValueError):
    """The correction was refused; the message says why and what to do instead."""


def can_fix(*, session: Session, record_type: str, record: Any) -> str | None:
    """Why this record cannot be corrected here, or None when it can."""
    if record.origin != Origin.LEDGER:
        return f"This {record_type} came from Intacct: correct it there; the next sync reads the change."
    if record.intacct_recordno:
        return f"This {record_type} is already in Intacct: it can no longer be changed here."
    open_write = session.exec(select(WriteJournal.id).where(
        WriteJournal.record_type == record_type, WriteJournal.record_id == record.id,
        WriteJournal.state.in_(_OPEN_JOURNAL))).first()
    if record.sync_state == SyncState.PENDING or open_write is not None:
        return (f"A write of this {record_type} to Intacct is not confirmed yet: the next sync checks Intacct "
                "first. Correct it after that sync if it is still not there.")
    return None


def _check(session: Session, record_type: str, record: Any) -> None:
    refusal = can_fix(session=session, record_type=record_type, record=record)
    if refusal:
        raise FixError(refusal)


def _version(session: Session, record_type: str, record: Any, changes: dict[str, list[str | None]], actor: str) -> None:
    if record.sync_state == SyncState.FAILED:
        changes["sync_state"] = [record.sync_state, SyncState.NOT_SYNCED]
        record.sync_state = SyncState.NOT_SYNCED
    record.updated_at = utcnow()
    session.add(record)
    snap = {name: as_text(getattr(record, name)) for name in TRACKED_FIELDS[record_type] if hasattr(record, name)}
    record_version(session=session, record_type=record_type, record_id=record.id, source="edit", run_id=None,
                   changes=changes, snapshot_values=snap, changed_by=actor)


def set_line_account_label(*, session: Session, line_id: int, account_label: str | None, actor: str) -> str:
    """Give one invoice line its own account label (empty: the item override or the mapping's)."""
    line = session.get(InvoiceLine, line_id)
    if line is None:
        raise FixError("That invoice line no longer exists.")
    invoice = session.get(Invoice, line.invoice_id)
    assert invoice is not None
    _check(session, "invoice", invoice)
    label = (account_label or "").strip() or None
    issue = intacct_lists.problem(session=session, connection_id=invoice.connection_id or _connection_id(session),
                                  list_name="account_labels", value=label)
    if issue:
        raise FixError(issue)
    if label == line.account_label:
        return f"Line {line.line_no} already posts to {label or 'the mapped label'}."
    old = line.account_label
    line.account_label = label
    session.add(line)
    _version(session, "invoice", invoice, {f"line {line.line_no} account label": [old, label]}, actor)
    session.commit()
    return f"Line {line.line_no} of invoice {invoice.number} now posts to {label or 'the mapped label'}."


def set_invoice_customer(*, session: Session, invoice_id: int, customer_id: int, actor: str) -> str:
    invoice = session.get(Invoice, invoice_id)
    customer = session.get(Customer, customer_id)
    if invoice is None or customer is None:
        raise FixError("That invoice or customer no longer exists.")
    _check(session, "invoice", invoice)
    if session.exec(select(PaymentApplication.id).where(PaymentApplication.invoice_id == invoice.id)).first():
        raise FixError("Payments are applied to this invoice: apply them elsewhere before changing its customer.")
    old = session.get(Customer, invoice.customer_id)
    invoice.customer_id = customer.id  # type: ignore[assignment]
    _version(session, "invoice", invoice, {"customer": [old.number if old else None, customer.number]}, actor)
    session.commit()
    return f"Invoice {invoice.number} is now on customer {customer.number} ({customer.name})."


def set_payment_invoice(*, session: Session, payment_id: int, old_invoice_id: int, new_invoice_id: int,
                        actor: str) -> str:
    """Move what a payment applies to one invoice onto another open invoice of the same customer."""
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise FixError("That payment no longer exists.")
    _check(session, "payment", payment)
    application = session.exec(select(PaymentApplication).where(
        PaymentApplication.payment_id == payment_id, PaymentApplication.invoice_id == old_invoice_id)).first()
    new = session.get(Invoice, new_invoice_id)
    if application is None or new is None:
        raise FixError("That invoice is no longer part of this payment.")
    if new.customer_id != payment.customer_id:
        raise FixError(f"Invoice {new.number} belongs to another customer.")
    if session.exec(select(PaymentApplication.id).where(PaymentApplication.payment_id == payment_id,
                                                        PaymentApplication.invoice_id == new.id)).first():
        raise FixError(f"The payment is already applied to invoice {new.number}.")
    if application.amount > new.balance:
        raise FixError(f"Invoice {new.number}'s open balance ({new.balance:,.2f}) is less than the "
                       f"{application.amount:,.2f} applied.")
    old = session.get(Invoice, old_invoice_id)
    assert old is not None
    application.invoice_id = new.id  # type: ignore[assignment]
    session.add(application)
    refresh_invoice_amounts(session, [old.id, new.id], actor)  # type: ignore[list-item]
    _version(session, "payment", payment, {"applied to": [old.number, new.number]}, actor)
    session.commit()
    return f"{application.amount:,.2f} of payment {payment.reference} now applies to invoice {new.number}."


def set_payment_method(*, session: Session, payment_id: int, method: str, actor: str) -> str:
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise FixError("That payment no longer exists.")
    _check(session, "payment", payment)
    if method not in METHODS:
        raise FixError(f"Choose one of Intacct's payment methods: {', '.join(METHODS)}.")
    old = payment.method
    payment.method = method
    _version(session, "payment", payment, {"method": [old, method]}, actor)
    session.commit()
    return f"Payment {payment.reference} is now recorded as {method}."


def applied_amount(*, session: Session, payment_id: int) -> Decimal:
    return sum((a.amount for a in session.exec(select(PaymentApplication).where(
        PaymentApplication.payment_id == payment_id))), Decimal("0"))


def _connection_id(session: Session) -> int:
    connection = get_connection(session=session)
    return connection.id if connection else 0  # type: ignore[return-value]
