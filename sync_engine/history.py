"""Read-side views for the console: ledger lists, a record's field-by-field history, run statistics,
open failures grouped by cause, and whether the scheduler is alive.

Nothing here writes or calls Intacct; every function takes the session explicitly and returns plain
dataclasses the pages turn into tables and charts. Amounts stay Decimal.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, func, select

from storage.models import (Customer, Invoice, InvoiceLine, ItemAction, Payment, PaymentApplication,
                            RecordVersion, SyncRun, SyncRunItem, SyncState)
from storage.types import utcnow
from sync_engine.error_catalogue import Cause
from sync_engine.error_catalogue import cause as catalogue_cause
from sync_engine.ledger import RECORD_MODELS

OPEN_INVOICE_STATUSES = ("open", "partially_paid")
AGING_BUCKETS = ("Not yet due", "1–30 days", "31–60 days", "61–90 days", "Over 90 days")


# --- ledger lists --------------------------------------------------------------------------------------


@dataclass
class InvoiceRow:
    invoice: Invoice
    customer_name: str
    customer_number: str


@dataclass
class PaymentRow:
    payment: Payment
    customer_name: str
    applied_to: list[str]


def _like(term: str) -> str:
    return f"%{term.strip()}%"


def list_customers(*, session: Session, search: str = "", origin: str | None = None,
                   sync_state: str | None = None, active_only: bool = False, limit: int = 1000) -> list[Customer]:
    """Customers by name; `search` matches name, number, email or Intacct ID."""
    query = select(Customer).order_by(Customer.name).limit(limit)
    if search.strip():
        like = _like(search)
        query = query.where(or_(Customer.name.ilike(like), Customer.number.ilike(like),
                                Customer.email.ilike(like), Customer.intacct_customer_id.ilike(like)))
    if origin:
        query = query.where(Customer.origin == origin)
    if sync_state:
        query = query.where(Customer.sync_state == sync_state)
    if active_only:
        query = query.where(Customer.active == True)  # noqa: E712
    return list(session.exec(query).all())


def list_invoices(*, session: Session, search: str = "", status: str | None = None, origin: str | None = None,
                  sync_state: str | None = None, open_only: bool = False, limit: int = 1000) -> list[InvoiceRow]:
    """Invoices newest first with their customer; `search` matches invoice number, customer or PO."""
    query = (select(Invoice, Customer.name, Customer.number).join(Customer, Customer.id == Invoice.customer_id)
             .order_by(Invoice.invoice_date.desc(), Invoice.id.desc()).limit(limit))
    if search.strip():
        like = _like(search)
        query = query.where(or_(Invoice.number.ilike(like), Customer.name.ilike(like), Customer.number.ilike(like),
                                Invoice.po_number.ilike(like), Invoice.intacct_recordno.ilike(like)))
    if status:
        query = query.where(Invoice.status == status)
    if open_only:
        query = query.where(Invoice.status.in_(OPEN_INVOICE_STATUSES))
    if origin:
        query = query.where(Invoice.origin == origin)
    if sync_state:
        query = query.where(Invoice.sync_state == sync_state)
    return [InvoiceRow(inv, name, number) for inv, name, number in session.exec(query).all()]


def list_payments(*, session: Session, search: str = "", origin: str | None = None, sync_state: str | None = None,
                  limit: int = 1000) -> list[PaymentRow]:
    """Payments newest first with their customer and the invoices they pay."""
    query = (select(Payment, Customer.name).join(Customer, Customer.id == Payment.customer_id)
             .order_by(Payment.received_on.desc(), Payment.id.desc()).limit(limit))
    if search.strip():
        like = _like(search)
        query = query.where(or_(Payment.reference.ilike(like), Customer.name.ilike(like),
                                Payment.intacct_recordno.ilike(like)))
    if origin:
        query = query.where(Payment.origin == origin)
    if sync_state:
        query = query.where(Payment.sync_state == sync_state)
    rows = session.exec(query).all()
    applied: dict[int, list[str]] = defaultdict(list)
    ids = [p.id for p, _ in rows]
    if ids:
        for payment_id, number in session.exec(
                select(PaymentApplication.payment_id, Invoice.number)
                .join(Invoice, Invoice.id == PaymentApplication.invoice_id)
                .where(PaymentApplication.payment_id.in_(ids))):
            applied[payment_id].append(number)
    return [PaymentRow(p, name, applied.get(p.id, [])) for p, name in rows]  # type: ignore[arg-type]


@dataclass
class AgingBucket:
    currency: str
    bucket: str
    amount: Decimal
    invoices: int


def invoice_aging(*, session: Session, today: date | None = None) -> list[AgingBucket]:
    """Open balance per currency by days past due (the usual A/R aging buckets), summed in Decimal."""
    today = today or utcnow().date()
    totals: dict[tuple[str, str], list] = {}
    for currency, due, inv_date, balance in session.exec(
            select(Invoice.currency, Invoice.due_date, Invoice.invoice_date, Invoice.balance)
            .where(Invoice.status.in_(OPEN_INVOICE_STATUSES), Invoice.balance != 0)):
        late = (today - (due or inv_date)).days
        bucket = AGING_BUCKETS[0 if late <= 0 else 1 if late <= 30 else 2 if late <= 60 else 3 if late <= 90 else 4]
        cell = totals.setdefault((currency, bucket), [Decimal("0.00"), 0])
        cell[0] += balance
        cell[1] += 1
    return [AgingBucket(currency, bucket, *totals.get((currency, bucket), (Decimal("0.00"), 0)))
            for currency in sorted({c for c, _ in totals}) for bucket in AGING_BUCKETS]


@dataclass
class BalanceDrift:
    """A customer whose open invoices in our ledger do not add up to the balance last read from Intacct."""

    customer: Customer
    currency: str
    ledger_open: Decimal  # sum of Invoice.balance over the customer's open invoices in this currency
    intacct_balance: Decimal  # Customer.balance: Intacct's TOTALDUE at the last read
    open_invoices: int

    @property
    def difference(self) -> Decimal:
        """Ledger minus Intacct: positive when our ledger says more is owed than Intacct does."""
        return self.ledger_open - self.intacct_balance


def balance_drift(*, session: Session) -> list[BalanceDrift]:
    """Customers known in Intacct whose ledger open-invoice total differs from Intacct's balance, biggest first.

    Compared per currency: Intacct's balance is in the customer's currency, so open invoices in another currency
    are a difference of their own (Intacct's side counted as zero there), never converted.
    """
    customers = {c.id: c for c in session.exec(select(Customer).where(Customer.intacct_customer_id.is_not(None)))}
    if not customers:
        return []
    totals: dict[tuple[int, str], list] = {}
    for customer_id, currency, balance in session.exec(
            select(Invoice.customer_id, Invoice.currency, Invoice.balance)
            .join(Customer, Customer.id == Invoice.customer_id)  # a join, not an IN list: no parameter limit
            .where(Customer.intacct_customer_id.is_not(None), Invoice.status.in_(OPEN_INVOICE_STATUSES))):
        cell = totals.setdefault((customer_id, currency), [Decimal("0.00"), 0])
        cell[0] += balance
        cell[1] += 1
    for customer in customers.values():
        totals.setdefault((customer.id, customer.currency), [Decimal("0.00"), 0])  # type: ignore[arg-type]
    drift = []
    for (customer_id, currency), (ledger_open, count) in totals.items():
        customer = customers[customer_id]
        intacct = customer.balance if currency == customer.currency else Decimal("0.00")
        if ledger_open != intacct:
            drift.append(BalanceDrift(customer, currency, ledger_open, intacct, count))
    return sorted(drift, key=lambda d: (-abs(d.difference), d.customer.name, d.currency))


# --- one record and its history -------------------------------------------------------------------------


@dataclass
class FieldChange:
    field: str
    old: str | None
    new: str | None


@dataclass
class VersionDiff:
    version: int
    changed_at: datetime
    source: str
    run_id: int | None
    changed_by: str | None
    changes: list[FieldChange] = field(default_factory=list)


def load_record(*, session: Session, record_type: str, record_id: int) -> Any | None:
    """The customer, invoice or payment, or None when the type or id is unknown."""
    model = RECORD_MODELS.get(record_type)
    return session.get(model, record_id) if model else None


def invoice_lines(*, session: Session, invoice_id: int) -> list[InvoiceLine]:
    return list(session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
                             .order_by(InvoiceLine.line_no)).all())


def record_history(*, session: Session, record_type: str, record_id: int) -> list[VersionDiff]:
    """Every stored version of a record, newest first, each as the list of fields it changed (old → new)."""
    versions = session.exec(select(RecordVersion).where(RecordVersion.record_type == record_type,
                                                        RecordVersion.record_id == record_id)
                            .order_by(RecordVersion.version.desc())).all()
    return [VersionDiff(v.version, v.changed_at, v.source, v.run_id, v.changed_by, _field_changes(v.changes))
            for v in versions]


def record_activity(*, session: Session, record_type: str, record_id: int, limit: int = 50) -> list[SyncRunItem]:
    """What syncs and imports did to this record, newest first."""
    return list(session.exec(select(SyncRunItem).where(SyncRunItem.record_type == record_type,
                                                       SyncRunItem.record_id == record_id)
                             .order_by(SyncRunItem.id.desc()).limit(limit)).all())


# --- runs -----------------------------------------------------------------------------------------------


def run_duration(run: SyncRun, *, now: datetime | None = None) -> timedelta | None:
    """How long the run took (or has taken so far); None before it started."""
    if run.started_at is None:
        return None
    return (run.finished_at or now or utcnow()) - run.started_at


@dataclass
class DayActivity:
    day: date
    outcome: str  # succeeded | partly failed | failed | other
    runs: int
    failed_records: int


def run_activity(*, session: Session, days: int = 14, kinds: tuple[str, ...] = (),
                 now: datetime | None = None) -> list[DayActivity]:
    """Finished runs per day and outcome over the last `days` days, with the records they failed."""
    since = (now or utcnow()) - timedelta(days=days)
    query = select(SyncRun).where(SyncRun.queued_at >= since, SyncRun.finished_at.is_not(None))
    if kinds:
        query = query.where(SyncRun.kind.in_(kinds))
    grouped: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for run in session.exec(query):
        if run.is_preview:
            continue  # a preview is not a sync: it would make the chart say more syncs ran than did
        outcome = {"succeeded": "succeeded", "partly_failed": "partly failed", "failed": "failed"}.get(
            run.status, "stopped")
        cell = grouped[(run.queued_at.date(), outcome)]
        cell[0] += 1
        cell[1] += run.failed_count
    return [DayActivity(d, o, n, f) for (d, o), (n, f) in sorted(grouped.items())]


@dataclass
class FailureGroup:
    message: str
    errorno: str | None
    category: str | None
    correction: str | None
    count: int
    records: list[str]
    last_at: datetime
    last_run_id: int
    keys: list[tuple[str, int]] = field(default_factory=list)  # (record_type, record_id) of each record
    cause: str = "other"


def _skipped_keys(session: Session, items: list[SyncRunItem]) -> set[tuple[str, int]]:
    skipped: set[tuple[str, int]] = set()
    for record_type, model in RECORD_MODELS.items():
        ids = {i.record_id for i in items if i.record_type == record_type and i.record_id is not None}
        if ids:
            skipped |= {(record_type, rid) for rid in session.exec(
                select(model.id).where(model.id.in_(ids), model.sync_state == SyncState.SKIPPED))}  # type: ignore[attr-defined]
    return skipped


def preview_run_ids(*, session: Session) -> set[int]:
    """Ids of preview (dry-run) runs: what they report never happened, so it is no record's real outcome."""
    return set(session.exec(select(SyncRun.id).where(SyncRun.preview == True)))  # noqa: E712


def open_failures(*, session: Session, limit: int = 500) -> list[SyncRunItem]:
    """The latest real outcome of each record when it is a failure (previews left out), newest first."""
    previews = preview_run_ids(session=session)
    real = select(SyncRunItem.record_type, SyncRunItem.label, func.max(SyncRunItem.id).label("last_id"))
    if previews:
        real = real.where(SyncRunItem.run_id.notin_(previews))
    latest = real.group_by(SyncRunItem.record_type, SyncRunItem.label).subquery()
    query = (select(SyncRunItem).join(latest, SyncRunItem.id == latest.c.last_id)
             .where(SyncRunItem.action == ItemAction.FAILED).order_by(SyncRunItem.id.desc()).limit(limit))
    return list(session.exec(query).all())


def _cause_of(item: SyncRunItem) -> Cause:
    return catalogue_cause(item.cause, errorno=item.errorno, message=item.message, category=item.error_category)


def failure_groups(*, session: Session) -> list[FailureGroup]:
    """Records still failing, grouped by cause (the error catalogue's key), biggest group first.

    Records someone marked "don't sync" since they failed are left out: no sync will try them again.
    """
    groups: dict[str, FailureGroup] = {}
    items = open_failures(session=session)
    skipped = _skipped_keys(session, items)
    for item in items:
        if (item.record_type, item.record_id) in skipped:
            continue
        reason = _cause_of(item)
        group = groups.get(reason.key)
        if group is None:
            group = groups[reason.key] = FailureGroup(reason.title, item.errorno, item.error_category,
                                                      item.correction or reason.next_step, 1, [item.label], item.at,
                                                      item.run_id, cause=reason.key)
        else:
            group.count += 1
            group.records.append(item.label)
            if item.at > group.last_at:
                group.last_at, group.last_run_id = item.at, item.run_id
        if item.record_id is not None:
            group.keys.append((item.record_type, item.record_id))
    return sorted(groups.values(), key=lambda g: (-g.count, g.message))


def ledger_counts(*, session: Session) -> dict[str, int]:
    """How many customers, invoices and payments the ledger holds (for empty states and the sidebar)."""
    return {name: int(session.exec(select(func.count()).select_from(model)).one())
            for name, model in RECORD_MODELS.items()}


# --- one run: what it changed, and its failures by cause -------------------------------------------------

# Failures a person has to fix (the record or the mapping is wrong) versus ones the next sync retries by itself.
NEEDS_ATTENTION = ("record", "validation", "configuration")
WILL_RETRY = ("transient", "ambiguous")


def needs_attention(category: str | None) -> bool:
    """True when a failure will not clear by itself: record and validation errors (and unknown ones)."""
    return category not in WILL_RETRY


@dataclass
class RecordChange:
    """What one run changed on one ledger record: the fields it set (old → new)."""

    record_type: str
    record_id: int
    label: str
    version: int
    created: bool
    changed_at: datetime
    changes: list[FieldChange] = field(default_factory=list)


def _field_changes(raw: dict | None) -> list[FieldChange]:
    changes = []
    for name, pair in sorted((raw or {}).items()):
        old, new = (list(pair) + [None, None])[:2] if isinstance(pair, (list, tuple)) else (None, pair)
        changes.append(FieldChange(name, None if old is None else str(old), None if new is None else str(new)))
    return changes


def run_changes(*, session: Session, run_id: int, limit: int = 2000) -> list[RecordChange]:
    """The record versions a run wrote, updates first, each with its field-by-field diff and the record's label.

    A first version (the run created the record) is marked `created`; its diff is every field from empty.
    """
    labels = {(i.record_type, i.record_id): i.label for i in session.exec(
        select(SyncRunItem).where(SyncRunItem.run_id == run_id, SyncRunItem.record_id.is_not(None)))}
    versions = session.exec(select(RecordVersion).where(RecordVersion.run_id == run_id)
                            .order_by(RecordVersion.id).limit(limit)).all()
    out = []
    for v in versions:
        label = labels.get((v.record_type, v.record_id)) or f"{v.record_type.capitalize()} #{v.record_id}"
        out.append(RecordChange(v.record_type, v.record_id, label, v.version, v.version == 1, v.changed_at,
                                _field_changes(v.changes)))
    return sorted(out, key=lambda c: (c.created, c.label))


@dataclass
class RunFailureGroup:
    """The failed records of one run that share a cause (the error catalogue's key)."""

    message: str  # the cause in plain words
    errorno: str | None
    category: str | None
    correction: str | None  # the next step
    items: list[SyncRunItem] = field(default_factory=list)
    cause: str = "other"
    screen: str = "record"

    @property
    def needs_attention(self) -> bool:
        return needs_attention(self.category)


def group_run_failures(items: list[SyncRunItem]) -> list[RunFailureGroup]:
    """A run's failed items grouped by cause; groups needing attention first, biggest first."""
    groups: dict[str, RunFailureGroup] = {}
    for item in items:
        if item.action != "failed":
            continue
        reason = _cause_of(item)
        group = groups.setdefault(reason.key, RunFailureGroup(
            reason.title, item.errorno, item.error_category, reason.next_step, cause=reason.key,
            screen=reason.screen))
        group.items.append(item)
    return sorted(groups.values(), key=lambda g: (not g.needs_attention, -len(g.items), g.message))
