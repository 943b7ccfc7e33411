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
from sync_engine.intacct import filters
from sync_engine.intacct.values import parse_decimal
from sync_engine.sync import amounts, windows
from sync_engine.sync.ledger import diff, record_version, snapshot
from sync_engine.sync.objects import AR_INVOICE, AR_PAYMENT, IntacctObject
from sync_engine.sync.record_values import batches
from sync_engine.sync.run_context import RunContext

DELETION_SWEEP_EVERY = timedelta(hours=24)
SWEEP = IntacctObject(name="DELETION_SWEEP", key_field="RECORDNO", modified_field="WHENMODIFIED",
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
    for chunk in batches(keys, KEYS_PER_QUERY):
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
        amounts.refresh_with_versions(session, touched, run_id=ctx.run_id, source="import")
    ctx.advance(len(invoice_keys) + len(payment_keys))
    windows.advance(ctx, SWEEP, ctx.started_at)


def _undo_voids_paid_in_intacct(ctx: RunContext, paid: list[Any], records: list[Any]) -> list[Any]:
    """Intacct recorded a payment on invoices voided here before they were reversed: money received in Intacct
    wins, so the void is undone (a paid invoice cannot be reversed), with an item saying what to do instead."""
    if not paid:
        return records
    with ctx.ledger_session() as session:
        for record in paid:
            row = session.get(Invoice, record.id)
            before = snapshot("invoice", row.model_dump())  # type: ignore[union-attr]
            row.status, row.voided_at = "open", None  # type: ignore[union-attr]
            session.add(row)
            session.flush()
            amounts.refresh_invoices(session, [row.id])  # type: ignore[union-attr,list-item]
            after = snapshot("invoice", row.model_dump())  # type: ignore[union-attr]
            record_version(session=session, record_type="invoice", record_id=row.id, run_id=ctx.run_id,  # type: ignore[union-attr,arg-type]
                           source="import", changes=diff(before, after), snapshot_values=after)
            ctx.item(session, record_type="invoice", label=f"Invoice {row.number} (void)",  # type: ignore[union-attr]
                     action=ItemAction.FAILED, record_id=row.id, intacct_key=row.intacct_recordno,  # type: ignore[union-attr]
                     category="validation",
                     message="A payment was recorded on this invoice in Intacct after it was voided here, so it "
                             "cannot be reversed: the void is undone. To void it, reverse that payment in Intacct "
                             "first, then void the invoice again.")
    return [r for r in records if r not in paid]


def still_to_reverse(ctx: RunContext, obj: IntacctObject, records: list[Any]) -> list[Any]:
    """Of ledger records voided here and waiting to be reversed in Intacct, those Intacct still holds unreversed.

    One look (a keys-only query per 1,000) before the reversals go out: a record someone already reversed in
    Intacct, or deleted there, needs no reversal (sending one would only be refused); it is marked done here,
    with an item saying what Intacct already did. Nothing is marked in a preview.
    """
    if not records:
        return []
    state: dict[str, str] = {}
    paid: set[str] = set()
    fields = ["RECORDNO", "STATE", "TOTALPAID"] if obj is AR_INVOICE else ["RECORDNO", "STATE"]
    for chunk in batches([r.intacct_recordno for r in records], KEYS_PER_QUERY):
        for found in ctx.client.iter_records(obj.name, fields, filter=filters.in_("RECORDNO", chunk)):
            state[str(found["RECORDNO"])] = (found.get("STATE") or "").strip().lower()
            if obj is AR_INVOICE and (parse_decimal(found.get("TOTALPAID")) or 0) > 0:
                paid.add(str(found["RECORDNO"]))
    records = _undo_voids_paid_in_intacct(ctx, [r for r in records if r.intacct_recordno in paid], records)
    done = [r for r in records if state.get(r.intacct_recordno, "deleted") in ("deleted", "v", "reversed", "voided")]
    if done:
        record_type = "invoice" if obj is AR_INVOICE else "payment"
        with ctx.ledger_session() as session:
            for record in done:
                row = session.get(type(record), record.id)
                assert row is not None  # read a moment ago in this run
                gone = record.intacct_recordno not in state
                row.reversed_in_intacct, row.updated_at = True, utcnow()
                if record_type == "invoice":
                    row.intacct_state = "Deleted" if gone else "Reversed"
                    row.intacct_total_paid, row.intacct_total_due = amounts.ZERO, amounts.ZERO
                session.add(row)
                name = f"Invoice {row.number}" if record_type == "invoice" else f"Payment {row.reference}"
                ctx.item(session, record_type=record_type, label=f"{name} (void)", action=ItemAction.UPDATED,
                         record_id=row.id, intacct_key=row.intacct_recordno,
                         message=("Already deleted in Intacct" if gone else "Already reversed in Intacct")
                         + ": nothing to reverse.")
            session.flush()
            invoice_ids = ([r.id for r in done] if record_type == "invoice" else list(session.exec(
                select(PaymentApplication.invoice_id).where(
                    col(PaymentApplication.payment_id).in_([r.id for r in done])))))
            amounts.refresh_with_versions(session, invoice_ids, run_id=ctx.run_id, source="import")
    return [r for r in records if r not in done]
