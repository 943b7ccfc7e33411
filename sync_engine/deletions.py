"""Invoices and payments deleted in Intacct: found by a periodic sweep and shown as voided in the ledger.

An incremental read never sees a deleted record (it has no WHENMODIFIED any more). So about once a day
(`DELETION_SWEEP_EVERY`, or when a run asks with `options={"deletion_sweep": True}`) an accounting sync asks
Intacct which of the keys the ledger holds for open records still exist: one keys-only query per 1,000 keys.
A record Intacct no longer has is voided here with its balance effects (its invoice amounts derived again),
a RecordVersion and an item saying why. The sweep's last time is kept like a watermark; the first one is due
a day after the connection's first sync, so a new connection's syncs stay cheap.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from storage.models import Invoice, ItemAction, Payment, PaymentApplication
from storage.types import utcnow
from sync_engine import amounts, windows
from sync_engine.imports import _batches
from sync_engine.intacct import filters
from sync_engine.ledger import diff, record_version, snapshot
from sync_engine.objects import AR_INVOICE, AR_PAYMENT, IntacctObject
from sync_engine.run_context import RunContext

DELETION_SWEEP_EVERY = timedelta(hours=24)
SWEEP = IntacctObject(name="DELETION_SWEEP", key_field="RECORDNO", id_field=None, modified_field="WHENMODIFIED",
                      fields=())
KEYS_PER_QUERY = 1000


def _due(ctx: RunContext) -> bool:
    if ctx.options.get("deletion_sweep"):
        return True
    last = windows.watermark(ctx, SWEEP)
    if last is None:
        windows.advance(ctx, SWEEP, ctx.started_at)  # the first sweep is due a day from now
        return False
    return ctx.started_at - last >= DELETION_SWEEP_EVERY


def _existing(ctx: RunContext, obj: IntacctObject, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _batches(keys, KEYS_PER_QUERY):
        for record in ctx.client.iter_records(obj.name, ["RECORDNO"], filter=filters.in_("RECORDNO", chunk)):
            found.add(str(record["RECORDNO"]))
    return found


def _void(session: Session, ctx: RunContext, record_type: str, record: Any, label: str) -> None:
    before = snapshot(record_type, record.model_dump())
    if record_type == "invoice":
        record.status, record.intacct_state = "voided", "Deleted"
    else:
        record.voided = True
    record.reversed_in_intacct, record.voided_at, record.updated_at = True, record.voided_at or utcnow(), utcnow()
    session.add(record)
    after = snapshot(record_type, record.model_dump())
    record_version(session=session, record_type=record_type, record_id=record.id, run_id=ctx.run_id,
                   source="import", changes=diff(before, after), snapshot_values=after)
    ctx.item(session, record_type=record_type, label=label, action=ItemAction.UPDATED, record_id=record.id,
             intacct_key=record.intacct_recordno, message="Deleted in Intacct: voided in the ledger.")


def sweep_deleted(ctx: RunContext) -> None:
    """Void ledger records whose Intacct invoice or payment was deleted there (when a sweep is due)."""
    if not _due(ctx):
        return
    with Session(ctx.engine) as session:
        invoice_keys = [k for k in session.exec(select(Invoice.intacct_recordno).where(
            Invoice.connection_id == ctx.connection_id, col(Invoice.intacct_recordno).is_not(None),
            Invoice.status != "voided")) if k]
        payment_keys = [k for k in session.exec(select(Payment.intacct_recordno).where(
            Payment.connection_id == ctx.connection_id, col(Payment.intacct_recordno).is_not(None),
            col(Payment.voided).is_(False))) if k]
    ctx.begin_step("deletion_sweep", total=len(invoice_keys) + len(payment_keys))
    gone_invoices = set(invoice_keys) - _existing(ctx, AR_INVOICE, invoice_keys)
    gone_payments = set(payment_keys) - _existing(ctx, AR_PAYMENT, payment_keys)
    with ctx.ledger_session() as session:
        touched: list[int] = []
        for payment in session.exec(select(Payment).where(
                Payment.connection_id == ctx.connection_id, col(Payment.intacct_recordno).in_(gone_payments))):
            _void(session, ctx, "payment", payment, f"Payment {payment.reference}")
            touched += session.exec(select(PaymentApplication.invoice_id).where(
                PaymentApplication.payment_id == payment.id)).all()
        for invoice in session.exec(select(Invoice).where(
                Invoice.connection_id == ctx.connection_id, col(Invoice.intacct_recordno).in_(gone_invoices))):
            _void(session, ctx, "invoice", invoice, f"Invoice {invoice.number}")
            invoice.intacct_total_paid, invoice.intacct_total_due = amounts.ZERO, amounts.ZERO
            touched.append(invoice.id)  # type: ignore[arg-type]
        session.flush()
        amounts.refresh_invoices(session, touched)
    ctx.advance(len(invoice_keys) + len(payment_keys))
    windows.advance(ctx, SWEEP, ctx.started_at)
