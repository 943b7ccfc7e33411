"""Payments made in Intacct (ARPYMT) into the ledger, incrementally, with the invoices they are applied to.

A payment we wrote comes back as itself (known by its key within the connection, or by customer, reference
and amount while its create is unconfirmed in the journal) and is unchanged unless Intacct reversed it,
which voids it here. A payment made in Intacct becomes a ledger payment of origin Intacct, applied to the
ledger invoices it pays (ours or Intacct's); its applications are read from the payment itself (`read`,
which returns the ARPYMTDETAIL lines), only for payments that are new or changed. What an invoice shows as
paid comes from the invoice read (TOTALPAID), so these records never move invoice amounts on their own.
Unapplied remainders (records with a PARENTPAYMENTKEY) belong to their payment and are not imported apart.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from storage.models import Customer, Invoice, ItemAction, Origin, Payment, PaymentApplication, SyncState
from storage.sql import one_of
from storage.types import utcnow
from sync_engine.intacct import filters
from sync_engine.sync import amounts, objects, windows
from sync_engine.sync.imports import (
    BATCH,
    customers_by_intacct_id,
    ensure_customers,
    modified_at,
    seen_before,
    store_customers,
    store_invoices,
)
from sync_engine.sync.journal import adopt_in_flight
from sync_engine.sync.ledger import diff, record_version, snapshot
from sync_engine.sync.record_values import (
    UnreadableRecord,
    amount_of,
    batches,
    date_of,
    left_out,
    read_again,
    required,
)
from sync_engine.sync.run_context import RunContext

KEYS_PER_QUERY = 1000
REVERSED_STATES = {"v", "reversed", "voided"}
DRAFT_STATES = {"d", "draft"}


def _is_reversed(record: dict[str, Any]) -> bool:
    return (record.get("STATE") or "").strip().lower() in REVERSED_STATES


def _applications(record: dict[str, Any]) -> dict[str, Decimal]:
    """Invoice key -> amount applied, from a payment read with its ARPYMTDETAIL lines."""
    details = record.get("ARPYMTDETAILS") or []
    if isinstance(details, dict):
        details = details.get("ARPYMTDETAIL") or details.get("arpymtdetail") or [details]
    if isinstance(details, dict):
        details = [details]
    applied: dict[str, Decimal] = {}
    for detail in details:
        if not isinstance(detail, dict):
            continue
        if (detail.get("STATE") or "").strip().lower() in REVERSED_STATES:
            continue
        key = detail.get("RECORDKEY")
        amount = amount_of(detail, "TRX_PAYMENTAMOUNT") or amount_of(detail, "PAYMENTAMOUNT")
        if key and amount:
            applied[str(key)] = applied.get(str(key), Decimal("0")) + amount
    return applied


def payment_values(record: dict[str, Any], customer_id: int) -> dict[str, Any]:
    required(record, "RECORDNO", "CUSTOMERID")
    return {
        "customer_id": customer_id,
        "reference": record.get("DOCNUMBER") or record.get("RECORDID") or f"ARPYMT-{record['RECORDNO']}",
        "received_on": date_of(record, "RECEIPTDATE") or date_of(record, "WHENCREATED"),
        "amount": amount_of(record, "TOTALENTERED"),
        "method": record.get("PAYMENTMETHOD") or "Unknown",
        "currency": record.get("CURRENCY") or "USD",
        "intacct_recordno": record["RECORDNO"],
    }


def _applied_text(applications: dict[str, Decimal], numbers: dict[str, str]) -> str:
    return "; ".join(f"{numbers.get(key, 'Intacct invoice ' + key)}: {amount:.2f}"
                     for key, amount in sorted(applications.items()))


def _match_unconfirmed(session: Session, ctx: RunContext, record: dict[str, Any],
                       customer: Customer | None) -> Payment | None:
    """A ledger payment of the same customer, reference and amount whose create is unconfirmed: it is this one."""
    if customer is None:
        return None
    reference = record.get("DOCNUMBER")
    candidates = session.exec(select(Payment).where(
        Payment.customer_id == customer.id, Payment.reference == reference, Payment.origin == Origin.LEDGER,
        col(Payment.intacct_recordno).is_(None)))
    for payment in candidates:
        if payment.amount == amount_of(record, "TOTALENTERED") and adopt_in_flight(
                session, connection_id=ctx.connection_id, record_type="payment", record_id=payment.id,  # type: ignore[arg-type]
                key=record["RECORDNO"]):
            return payment
    return None


def _update_ours(session: Session, ctx: RunContext, payment: Payment, record: dict[str, Any], label: str) -> None:
    """A ledger payment we wrote: Intacct owns only its key and whether it was reversed there."""
    before = snapshot("payment", payment.model_dump())
    payment.intacct_recordno, payment.connection_id = record["RECORDNO"], ctx.connection_id
    if payment.sync_state != SyncState.SKIPPED:
        payment.sync_state, payment.sync_error = SyncState.SYNCED, None
    payment.intacct_modified_at = modified_at(ctx, record) or payment.intacct_modified_at
    if _is_reversed(record):
        payment.voided, payment.reversed_in_intacct = True, True
        payment.voided_at = payment.voided_at or utcnow()
    after = snapshot("payment", payment.model_dump())
    changes = diff(before, after)
    session.add(payment)
    read_again(session, ctx, record_type="payment", record=payment, label=label, changes=changes, after=after,
               intacct_key=record["RECORDNO"],
               message="Reversed in Intacct: voided in the ledger." if _is_reversed(record) else None)


def _upsert_intacct_payment(session: Session, ctx: RunContext, record: dict[str, Any], existing: Payment | None,
                            customer: Customer, applications: dict[str, Decimal], invoices: dict[str, Invoice],
                            label: str) -> None:
    values = payment_values(record, customer.id)  # type: ignore[arg-type]
    values["voided"] = _is_reversed(record)
    numbers = {key: inv.number for key, inv in invoices.items()}
    applied_here = {key: amount for key, amount in applications.items() if key in invoices}
    text = _applied_text(applied_here, numbers)  # what the ledger shows: applications to invoices it holds
    payment = existing or Payment(connection_id=ctx.connection_id, origin=Origin.INTACCT,
                                  sync_state=SyncState.SYNCED, **values)
    before = ({} if existing is None else
              {**snapshot("payment", existing.model_dump()), "applied_to": _current_applied_text(session, existing)})
    for key, value in values.items():
        setattr(payment, key, value)
    if payment.voided:
        payment.reversed_in_intacct = True
        payment.voided_at = payment.voided_at or utcnow()
    payment.intacct_modified_at = modified_at(ctx, record)
    payment.connection_id = ctx.connection_id
    session.add(payment)
    session.flush()
    after = {**snapshot("payment", payment.model_dump()), "applied_to": text or None}
    changes = diff(before, after) if existing is not None else {k: [None, v] for k, v in after.items() if v is not None}
    if existing is not None and not changes:
        ctx.item(session, record_type="payment", label=label, action=ItemAction.UNCHANGED)
        return
    for old in session.exec(select(PaymentApplication).where(PaymentApplication.payment_id == payment.id)):
        session.delete(old)
    session.flush()
    for key, amount in applied_here.items():
        session.add(PaymentApplication(payment_id=payment.id, invoice_id=invoices[key].id, amount=amount))  # type: ignore[arg-type]
    payment.updated_at = utcnow()
    record_version(session=session, record_type="payment", record_id=payment.id, run_id=ctx.run_id,  # type: ignore[arg-type]
                   source="import", changes=changes, snapshot_values=after, new_record=existing is None)
    unknown = sorted(set(applications) - set(invoices))
    ctx.item(session, record_type="payment", label=label,
             action=ItemAction.CREATED if existing is None else ItemAction.UPDATED, record_id=payment.id,
             intacct_key=record["RECORDNO"],
             message=(f"Also applied to Intacct invoice {', '.join(unknown)}, which the ledger does not hold "
                      "(paid before it was imported)." if unknown else None))


def _current_applied_text(session: Session, payment: Payment) -> str | None:
    rows = list(session.exec(select(col(Invoice.intacct_recordno), col(Invoice.number), col(PaymentApplication.amount))
                             .join(PaymentApplication, col(PaymentApplication.invoice_id) == Invoice.id)
                             .where(PaymentApplication.payment_id == payment.id)))
    applied = {str(key or number): Decimal(amount) for key, number, amount in rows}
    return _applied_text(applied, {str(key or number): number for key, number, _ in rows}) or None


def store_payments(ctx: RunContext, records: list[dict[str, Any]], *, refresh: bool = False) -> None:
    """Upsert a page of Intacct payments (top-level ones; remainders belong to their payment).

    `refresh` reads the applications of every Intacct payment in the page again, even one whose header did not
    change (an invoice it pays has just arrived in the ledger)."""
    records = [r for r in records if not r.get("PARENTPAYMENTKEY")
               and (r.get("STATE") or "").strip().lower() not in DRAFT_STATES]
    if not records:
        return
    keys = [r["RECORDNO"] for r in records if r.get("RECORDNO")]
    with Session(ctx.engine) as session:
        known = {p.intacct_recordno: p for p in session.exec(select(Payment).where(
            Payment.connection_id == ctx.connection_id, one_of(Payment.intacct_recordno, keys)))}
        ours = {key for key, p in known.items() if p.origin == Origin.LEDGER}
        fresh = [r for r in records if r.get("RECORDNO") and r["RECORDNO"] not in ours and (refresh or not (
            r["RECORDNO"] in known and _header_unchanged(ctx, known[r["RECORDNO"]], r)))]
    detailed = {str(r.get("RECORDNO")): r for r in ctx.client.read(
        objects.AR_PAYMENT.name, [r["RECORDNO"] for r in fresh], ["*"])} if fresh else {}
    customer_ids = {r["CUSTOMERID"] for r in fresh if r.get("CUSTOMERID")}
    missing_customers = ensure_customers(ctx, customer_ids)
    invoice_keys = {key for r in detailed.values() for key in _safe_applications(r)}
    with ctx.ledger_session() as session:
        if missing_customers:
            store_customers(ctx, missing_customers, session)
            ctx.advance(-len(missing_customers))
        customers = customers_by_intacct_id(session, ctx, {r["CUSTOMERID"] for r in records if r.get("CUSTOMERID")})
        known = {p.intacct_recordno: p for p in session.exec(select(Payment).where(
            Payment.connection_id == ctx.connection_id, one_of(Payment.intacct_recordno, keys)))}
        invoices = {inv.intacct_recordno: inv for inv in session.exec(select(Invoice).where(
            col(Invoice.connection_id) == ctx.connection_id, one_of(Invoice.intacct_recordno, invoice_keys)))
            if inv.intacct_recordno is not None}
        for record in records:
            key = record.get("RECORDNO") or "?"
            label = f"Payment {record.get('DOCNUMBER') or key} ({record.get('CUSTOMERID') or '?'})"
            try:
                required(record, "RECORDNO", "CUSTOMERID")
                existing = known.get(key) or _match_unconfirmed(session, ctx, record,
                                                                customers.get(record["CUSTOMERID"]))
                if existing is not None and existing.origin == Origin.LEDGER:
                    _update_ours(session, ctx, existing, record, label)
                    continue
                if existing is not None and not refresh and _header_unchanged(ctx, existing, record):
                    ctx.item(session, record_type="payment", label=label, action=ItemAction.UNCHANGED)
                    continue
                customer = customers.get(record["CUSTOMERID"])
                if customer is None:
                    ctx.item(session, record_type="payment", label=label, action=ItemAction.FAILED, intacct_key=key,
                             category="record",
                             message=f"Customer {record['CUSTOMERID']} could not be read from Intacct.")
                    continue
                full = {**record, **detailed.get(key, {})}
                _upsert_intacct_payment(session, ctx, record, existing, customer, _applications(full), invoices, label)
            except UnreadableRecord as exc:
                left_out(session, ctx, "payment", record, exc)
        # A payment voided, reversed or newly applied changes what its invoices show: derive them again now.
        session.flush()
        payment_ids = [p.id for p in session.exec(select(Payment).where(
            Payment.connection_id == ctx.connection_id, one_of(Payment.intacct_recordno, keys)))]
        if payment_ids:
            amounts.refresh_with_versions(session, session.exec(select(PaymentApplication.invoice_id).where(
                one_of(PaymentApplication.payment_id, payment_ids))).all(), run_id=ctx.run_id, source="import")
    ctx.advance(len(records))


def _header_unchanged(ctx: RunContext, payment: Payment, record: dict[str, Any]) -> bool:
    """Same stamp, amount and state: the applications we hold are this version's (see imports.seen_before)."""
    try:
        same_amount = amount_of(record, "TOTALENTERED") == payment.amount
    except UnreadableRecord:
        return False
    return same_amount and _is_reversed(record) == payment.voided and seen_before(
        ctx, payment, modified_at(ctx, record), record.get("RECORDNO") or "")


DETAIL_FIELDS = ["RECORDNO", "PAYMENTKEY", "RECORDKEY", "STATE"]


def attach_payments(ctx: RunContext, invoice_keys: list[str]) -> None:
    """Bring in, with their invoices, the payments behind a TOTALPAID that moved (new, applied or reversed).

    The invoice page was stored just before; reading the payment lines (ARPYMTDETAIL) of those invoices and the
    payments they name keeps every invoice's paid amount equal to the payments the ledger shows applied to it,
    also for a one-time import, an invoice that arrives after its payments, or a sync stopped before its payment
    read. Costs nothing when no paid amount moved."""
    payment_keys: set[str] = set()
    for chunk in batches(invoice_keys, KEYS_PER_QUERY):
        for detail in ctx.client.iter_records("ARPYMTDETAIL", DETAIL_FIELDS, filter=filters.in_("RECORDKEY", chunk)):
            if detail.get("PAYMENTKEY"):
                payment_keys.add(str(detail["PAYMENTKEY"]))
    headers: list[dict[str, Any]] = []
    for chunk in batches(sorted(payment_keys), KEYS_PER_QUERY):
        headers += ctx.client.iter_records(objects.AR_PAYMENT.name, list(objects.AR_PAYMENT.fields),
                                           filter=filters.in_("RECORDNO", chunk))
    for batch in batches(headers, BATCH):
        store_payments(ctx, batch, refresh=True)
        ctx.advance(-len(batch))  # this step's progress counts invoices


def _reread_invoices(ctx: RunContext, invoice_keys: list[str]) -> None:
    """Intacct's current figures of invoices that payments read just now apply to (a payment made while the
    sync ran, after its invoice read), so what they show agrees with the payments applied to them."""
    for chunk in batches(invoice_keys, KEYS_PER_QUERY):
        records = list(ctx.client.iter_records(objects.AR_INVOICE.name, list(objects.AR_INVOICE.fields),
                                               filter=filters.in_("RECORDNO", chunk)))
        with ctx.quiet():
            store_invoices(ctx, records, outstanding_only=True)
        ctx.advance(-len(records))


def _safe_applications(record: dict[str, Any]) -> dict[str, Decimal]:
    try:
        return _applications(record)
    except UnreadableRecord:
        return {}


def import_payments(ctx: RunContext, *, incremental: bool) -> None:
    """Read AR payments modified in the window and bring them into the ledger."""
    records, mark = windows.read_since(ctx, objects.AR_PAYMENT, incremental=incremental, step="payments")
    for batch in batches(records, BATCH):
        ctx.check_stop()
        stale = _invoices_out_of_step(ctx, batch)
        store_payments(ctx, batch)
        if stale:
            _reread_invoices(ctx, stale)
        ctx.flush()
    windows.advance(ctx, objects.AR_PAYMENT, mark)


def _invoices_out_of_step(ctx: RunContext, records: list[dict[str, Any]]) -> list[str]:
    """Keys of invoices a new or changed Intacct payment of this page applies to: known only after the payment's
    lines are read, so this returns the invoices of payments the ledger does not hold in this version yet."""
    keys = [r["RECORDNO"] for r in records if r.get("RECORDNO") and not r.get("PARENTPAYMENTKEY")]
    with Session(ctx.engine) as session:
        held = {p.intacct_recordno: p for p in session.exec(select(Payment).where(
            Payment.connection_id == ctx.connection_id, one_of(Payment.intacct_recordno, keys)))}
    changed = [r for r in records if r.get("RECORDNO") in keys and (
        r["RECORDNO"] not in held or not _header_unchanged(ctx, held[r["RECORDNO"]], r)) and (
        held.get(r["RECORDNO"]) is None or held[r["RECORDNO"]].origin == Origin.INTACCT
        or (_is_reversed(r) and not held[r["RECORDNO"]].reversed_in_intacct))]
    if not changed:
        return []
    invoice_keys: set[str] = set()
    for chunk in batches([r["RECORDNO"] for r in changed], KEYS_PER_QUERY):
        for detail in ctx.client.iter_records("ARPYMTDETAIL", DETAIL_FIELDS, filter=filters.in_("PAYMENTKEY", chunk)):
            if detail.get("RECORDKEY"):
                invoice_keys.add(str(detail["RECORDKEY"]))
    return sorted(invoice_keys)
