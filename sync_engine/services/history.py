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

from sqlalchemy import BigInteger, case, cast, exists, literal, or_
from sqlmodel import Session, col, func, select

from storage.models import (
    Customer,
    Invoice,
    InvoiceLine,
    ItemAction,
    Payment,
    PaymentApplication,
    RecordVersion,
    SyncRun,
    SyncRunItem,
    SyncState,
)
from storage.types import utcnow
from sync_engine.sync.error_catalogue import Cause
from sync_engine.sync.error_catalogue import cause as catalogue_cause
from sync_engine.sync.ledger import RECORD_MODELS

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


@dataclass
class ListTotals:
    """What a filtered ledger list adds up to over every matching row (not only the page shown)."""

    count: int
    amounts: dict[str, Decimal]  # per currency, never summed across currencies
    failing: int
    counted: int | None = None  # how many of `count` the amounts cover (None: all of them)
    left_out: dict[str, int] = field(default_factory=dict)  # status → matching rows the amounts leave out


def _customer_filters(search: str, origin: str | None, sync_state: str | None, active_only: bool) -> list[Any]:
    conditions: list[Any] = []
    if search.strip():
        like = _like(search)
        conditions.append(or_(col(Customer.name).ilike(like), col(Customer.number).ilike(like),
                              col(Customer.email).ilike(like), col(Customer.intacct_customer_id).ilike(like)))
    if origin:
        conditions.append(Customer.origin == origin)
    if sync_state:
        conditions.append(Customer.sync_state == sync_state)
    if active_only:
        conditions.append(Customer.active == True)  # noqa: E712
    return conditions


def list_customers(*, session: Session, search: str = "", origin: str | None = None,
                   sync_state: str | None = None, active_only: bool = False, limit: int = 1000,
                   offset: int = 0) -> list[Customer]:
    """One page of customers by name; `search` matches name, number, email or Intacct ID."""
    query = (select(Customer).where(*_customer_filters(search, origin, sync_state, active_only))
             .order_by(col(Customer.name), col(Customer.id)).limit(limit).offset(offset))
    return list(session.exec(query).all())


def customer_totals(*, session: Session, search: str = "", origin: str | None = None,
                    sync_state: str | None = None, active_only: bool = False) -> ListTotals:
    """How many customers match, their balance per currency and how many fail to sync: SQL aggregates."""
    conditions = _customer_filters(search, origin, sync_state, active_only)
    amounts: dict[str, Decimal] = {}
    count = failing = 0
    for currency, n, total, failed in session.exec(
            select(Customer.currency, func.count(), func.sum(cents(Customer.balance)),
                   func.sum(case((col(Customer.sync_state) == SyncState.FAILED, 1), else_=0)))
            .where(*conditions).group_by(Customer.currency)):
        amounts[currency] = _money(total)
        count, failing = count + int(n), failing + int(failed or 0)
    return ListTotals(count, amounts, failing)


def _invoice_filters(search: str, status: str | None, origin: str | None, sync_state: str | None,
                     open_only: bool) -> list[Any]:
    conditions: list[Any] = []
    if search.strip():
        like = _like(search)
        conditions.append(or_(col(Invoice.number).ilike(like), col(Customer.name).ilike(like),
                              col(Customer.number).ilike(like),
                              col(Invoice.po_number).ilike(like), col(Invoice.intacct_recordno).ilike(like)))
    if status:
        conditions.append(Invoice.status == status)
    if open_only:
        conditions.append(col(Invoice.status).in_(OPEN_INVOICE_STATUSES))
    if origin:
        conditions.append(Invoice.origin == origin)
    if sync_state:
        conditions.append(Invoice.sync_state == sync_state)
    return conditions


def list_invoices(*, session: Session, search: str = "", status: str | None = None, origin: str | None = None,
                  sync_state: str | None = None, open_only: bool = False, limit: int = 1000,
                  offset: int = 0) -> list[InvoiceRow]:
    """One page of invoices, newest first, with their customer; `search` matches invoice number, customer or PO."""
    query = (select(Invoice, col(Customer.name), col(Customer.number))
             .join(Customer, col(Customer.id) == col(Invoice.customer_id))
             .where(*_invoice_filters(search, status, origin, sync_state, open_only))
             .order_by(col(Invoice.invoice_date).desc(), col(Invoice.id).desc()).limit(limit).offset(offset))
    return [InvoiceRow(inv, name, number) for inv, name, number in session.exec(query).all()]


def invoice_totals(*, session: Session, search: str = "", status: str | None = None, origin: str | None = None,
                   sync_state: str | None = None, open_only: bool = False) -> ListTotals:
    """How many invoices match, their open balance per currency and how many fail to sync: SQL aggregates."""
    conditions = _invoice_filters(search, status, origin, sync_state, open_only)
    # The open balance counts open and partly paid invoices only: a draft's balance is not owed yet, a voided one
    # is not owed at all. What it leaves out is counted per status so the screen can say so.
    # sqlmodel's select() is typed for up to four columns; this one has five.
    query = select(Invoice.currency, Invoice.status, func.count(), func.sum(cents(Invoice.balance)),  # type: ignore[call-overload]
                   func.sum(case((col(Invoice.sync_state) == SyncState.FAILED, 1), else_=0)))
    if search.strip():
        query = query.join(Customer, col(Customer.id) == col(Invoice.customer_id))
    amounts: dict[str, Decimal] = {}
    left_out: dict[str, int] = {}
    count = failing = counted = 0
    for currency, state, n, total, failed in session.exec(
            query.where(*conditions).group_by(Invoice.currency, Invoice.status)):
        count, failing = count + int(n), failing + int(failed or 0)
        if state in OPEN_INVOICE_STATUSES:
            amounts[currency] = amounts.get(currency, Decimal("0.00")) + _money(total)
            counted += int(n)
        else:
            amounts.setdefault(currency, Decimal("0.00"))
            left_out[state] = left_out.get(state, 0) + int(n)
    return ListTotals(count, amounts, failing, counted, left_out)


def list_payments(*, session: Session, search: str = "", origin: str | None = None, sync_state: str | None = None,
                  limit: int = 1000, offset: int = 0) -> list[PaymentRow]:
    """One page of payments, newest first, with their customer and the invoices they pay."""
    query = (select(Payment, col(Customer.name)).join(Customer, col(Customer.id) == col(Payment.customer_id))
             .order_by(col(Payment.received_on).desc(), col(Payment.id).desc()).limit(limit).offset(offset))
    if search.strip():
        like = _like(search)
        query = query.where(or_(col(Payment.reference).ilike(like), col(Customer.name).ilike(like),
                                col(Payment.intacct_recordno).ilike(like)))
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
                .join(Invoice, col(Invoice.id) == col(PaymentApplication.invoice_id))
                .where(col(PaymentApplication.payment_id).in_(ids))):
            applied[payment_id].append(number)
    return [PaymentRow(p, name, applied.get(p.id, [])) for p, name in rows]  # type: ignore[arg-type]


@dataclass
class AppliedPayment:
    payment: Payment
    amount: Decimal  # applied to this invoice


def invoice_payments(*, session: Session, invoice_id: int) -> list[AppliedPayment]:
    """Every payment applied to an invoice, from either side (ledger or Intacct), oldest first."""
    rows = session.exec(select(Payment, col(PaymentApplication.amount))
                        .join(PaymentApplication, col(PaymentApplication.payment_id) == col(Payment.id))
                        .where(PaymentApplication.invoice_id == invoice_id)
                        .order_by(col(Payment.received_on), col(Payment.id))).all()
    return [AppliedPayment(payment, amount) for payment, amount in rows]


def payment_invoices(*, session: Session, payment_id: int) -> list[tuple[Invoice, Decimal]]:
    """The invoices a payment pays, with the amount applied to each."""
    return [(invoice, amount) for invoice, amount in session.exec(
        select(Invoice, col(PaymentApplication.amount)).join(PaymentApplication,
                                                             col(PaymentApplication.invoice_id) == col(Invoice.id))
        .where(PaymentApplication.payment_id == payment_id).order_by(Invoice.number)).all()]


@dataclass
class AgingBucket:
    currency: str
    bucket: str
    amount: Decimal
    invoices: int


def cents(column: Any) -> Any:
    """A money column as whole cents: SQLite keeps NUMERIC as a binary number, so sums are exact only in cents."""
    return cast(func.round(column * 100), BigInteger)


def _money(total_cents: Any) -> Decimal:
    return (Decimal(int(total_cents or 0)) / 100).quantize(Decimal("0.01"))


def invoice_aging(*, session: Session, today: date | None = None, search: str = "", status: str | None = None,
                  origin: str | None = None, sync_state: str | None = None) -> list[AgingBucket]:
    """Open balance per currency by days past due (the usual A/R aging buckets): one SQL aggregate, exact cents.

    Takes the invoice list's filters, so the chart shows the invoices the list does."""
    today = today or utcnow().date()
    due = func.coalesce(Invoice.due_date, Invoice.invoice_date)
    # Days late as date comparisons (portable across SQLite and PostgreSQL): 0 not due, then 1-30, 31-60, 61-90, 90+.
    bucket = case((due >= today, 0), (due >= today - timedelta(days=30), 1), (due >= today - timedelta(days=60), 2),
                  (due >= today - timedelta(days=90), 3), else_=4)
    totals: dict[tuple[str, str], tuple[Decimal, int]] = {}
    query = select(Invoice.currency, bucket, func.sum(cents(Invoice.balance)), func.count())
    if search.strip():
        query = query.join(Customer, col(Customer.id) == col(Invoice.customer_id))
    for currency, index, amount, count in session.exec(
            query.where(col(Invoice.status).in_(OPEN_INVOICE_STATUSES), col(Invoice.balance) != 0,
                        *_invoice_filters(search, status, origin, sync_state, False))
            .group_by(Invoice.currency, bucket)):
        totals[(currency, AGING_BUCKETS[int(index)])] = (_money(amount), int(count))
    return [AgingBucket(currency, bucket_name, *totals.get((currency, bucket_name), (Decimal("0.00"), 0)))
            for currency in sorted({c for c, _ in totals}) for bucket_name in AGING_BUCKETS]


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


def balance_drift(*, session: Session, limit: int = 500) -> list[BalanceDrift]:
    """Customers known in Intacct whose ledger open-invoice total differs from Intacct's balance, biggest first.

    Compared per currency: Intacct's balance is in the customer's currency, so open invoices in another currency
    are a difference of their own (Intacct's side counted as zero there), never converted. Two SQL aggregates
    (open invoices per customer and currency; customers with a balance and no open invoice in their currency);
    only the `limit` biggest differences are loaded as customers.
    """
    is_open = col(Invoice.status).in_(OPEN_INVOICE_STATUSES)
    known = col(Customer.intacct_customer_id).is_not(None)
    open_cents = func.sum(cents(Invoice.balance))
    own_currency = col(Invoice.currency) == col(Customer.currency)
    # customer id, currency, ledger cents, Intacct cents, invoices
    rows: list[tuple[int | None, str, int, int, int]] = []
    # sqlmodel's select() is typed for up to four columns; this one has five.
    for customer_id, currency, ledger, intacct, count in session.exec(
            select(col(Customer.id), col(Invoice.currency), open_cents,  # type: ignore[call-overload]
                   case((own_currency, cents(col(Customer.balance))), else_=literal(0)), func.count())
            .join(Customer, Customer.id == Invoice.customer_id)
            .where(known, is_open)
            .group_by(Customer.id, Invoice.currency, Customer.currency, Customer.balance)
            .having(open_cents != case((own_currency, cents(col(Customer.balance))), else_=literal(0)))):
        rows.append((customer_id, currency, int(ledger or 0), int(intacct or 0), int(count)))
    none_open = ~exists().where(col(Invoice.customer_id) == col(Customer.id),
                                col(Invoice.currency) == col(Customer.currency), is_open)
    for customer_id, currency, intacct in session.exec(
            select(Customer.id, Customer.currency, cents(Customer.balance))
            .where(known, Customer.balance != 0, none_open)):
        rows.append((customer_id, currency, 0, int(intacct), 0))
    if not rows:
        return []
    rows.sort(key=lambda r: -abs(r[2] - r[3]))
    biggest = rows[:limit]
    customers = {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_({r[0] for r in biggest})))}
    drift = [BalanceDrift(customers[cid], currency, _money(ledger), _money(intacct), count)
             for cid, currency, ledger, intacct, count in biggest]
    return sorted(drift, key=lambda d: (-abs(d.difference), d.customer.name, d.currency))


# --- one record and its history -------------------------------------------------------------------------


@dataclass
class FieldChange:
    field: str
    old: str | None
    new: str | None


# Fields whose values point at a customer: by ledger id (an import's snapshot) or by number (a fix on the record).
_CUSTOMER_BY_ID, _CUSTOMER_BY_NUMBER = ("customer_id",), ("customer",)


def name_customers(*, session: Session, change_lists: list[list[FieldChange]]) -> None:
    """Replace the customer ids and numbers in these diffs by 'Name (number)', with one query per kind."""
    ids = {int(v) for changes in change_lists for c in changes if c.field in _CUSTOMER_BY_ID
           for v in (c.old, c.new) if v and v.isdigit()}
    numbers = {v for changes in change_lists for c in changes if c.field in _CUSTOMER_BY_NUMBER
               for v in (c.old, c.new) if v}
    by_id: dict[str, str] = {}
    by_number: dict[str, str] = {}
    id_list, number_list = sorted(ids), sorted(numbers)
    for start in range(0, len(id_list), 900):
        for cid, name, number in session.exec(select(Customer.id, Customer.name, Customer.number)
                                              .where(col(Customer.id).in_(id_list[start:start + 900]))):
            by_id[str(cid)] = f"{name} ({number})"
    for start in range(0, len(number_list), 900):
        for name, number in session.exec(select(Customer.name, Customer.number)
                                         .where(col(Customer.number).in_(number_list[start:start + 900]))):
            by_number[number] = f"{name} ({number})"
    for changes in change_lists:
        for c in changes:
            names = by_id if c.field in _CUSTOMER_BY_ID else by_number if c.field in _CUSTOMER_BY_NUMBER else None
            if names is not None:
                c.old = names.get(c.old or "", c.old)
                c.new = names.get(c.new or "", c.new)


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
                             .order_by(col(InvoiceLine.line_no))).all())


def record_history(*, session: Session, record_type: str, record_id: int) -> list[VersionDiff]:
    """Every stored version of a record, newest first, each as the list of fields it changed (old → new)."""
    versions = session.exec(select(RecordVersion).where(RecordVersion.record_type == record_type,
                                                        RecordVersion.record_id == record_id)
                            .order_by(col(RecordVersion.version).desc())).all()
    history = [VersionDiff(v.version, v.changed_at, v.source, v.run_id, v.changed_by, _field_changes(v.changes))
               for v in versions]
    name_customers(session=session, change_lists=[h.changes for h in history])
    return history


def record_activity(*, session: Session, record_type: str, record_id: int, limit: int = 50) -> list[SyncRunItem]:
    """What syncs and imports did to this record, newest first."""
    return list(session.exec(select(SyncRunItem).where(SyncRunItem.record_type == record_type,
                                                       SyncRunItem.record_id == record_id)
                             .order_by(col(SyncRunItem.id).desc()).limit(limit)).all())


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
    query = select(SyncRun).where(col(SyncRun.queued_at) >= since, col(SyncRun.finished_at).is_not(None))
    if kinds:
        query = query.where(col(SyncRun.kind).in_(kinds))
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
            rows = session.exec(select(col(model.id)).where(col(model.id).in_(ids),
                                                            col(model.sync_state) == SyncState.SKIPPED))
            skipped |= {(record_type, rid) for rid in rows if rid is not None}
    return skipped


def preview_run_ids(*, session: Session) -> set[int]:
    """Ids of preview (dry-run) runs: what they report never happened, so it is no record's real outcome."""
    ids = session.exec(select(col(SyncRun.id)).where(col(SyncRun.preview) == True))  # noqa: E712
    return {run_id for run_id in ids if run_id is not None}


def open_failures(*, session: Session, limit: int = 500) -> list[SyncRunItem]:
    """The latest real outcome of each record when it is a failure (previews left out), newest first."""
    previews = preview_run_ids(session=session)
    real = select(SyncRunItem.record_type, SyncRunItem.label, func.max(SyncRunItem.id).label("last_id"))
    if previews:
        real = real.where(col(SyncRunItem.run_id).notin_(previews))
    latest = real.group_by(SyncRunItem.record_type, SyncRunItem.label).subquery()
    query = (select(SyncRunItem).join(latest, col(SyncRunItem.id) == latest.c.last_id)
             .where(col(SyncRunItem.action) == ItemAction.FAILED).order_by(col(SyncRunItem.id).desc()).limit(limit))
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


def field_changes(raw: dict | None) -> list[FieldChange]:
    """{field: [old, new]} as FieldChange rows, sorted by field."""
    return _field_changes(raw)


def _field_changes(raw: dict | None) -> list[FieldChange]:
    changes = []
    for name, pair in sorted((raw or {}).items()):
        old, new = (list(pair) + [None, None])[:2] if isinstance(pair, (list, tuple)) else (None, pair)
        changes.append(FieldChange(name, None if old is None else str(old), None if new is None else str(new)))
    return changes


def run_changes(*, session: Session, run_id: int, limit: int = 2000, offset: int = 0,
                updates_only: bool = False) -> list[RecordChange]:
    """One page of the record versions a run wrote, updates first, each with its field-by-field diff and label.

    A first version (the run created the record) is marked `created`; its diff is every field from empty.
    Only the page's versions and their labels are read, so a 100,000-record import costs one page.
    """
    base = select(RecordVersion).where(RecordVersion.run_id == run_id)
    # Two index range scans (run_id, version) instead of sorting every version of the run.
    versions = list(session.exec(base.where(col(RecordVersion.version) > 1).order_by(col(RecordVersion.id))
                                 .limit(limit).offset(offset)))
    if not updates_only and len(versions) < limit:
        skip = max(0, offset - run_change_counts(session=session, run_id=run_id)[0])
        versions += list(session.exec(base.where(col(RecordVersion.version) == 1).order_by(col(RecordVersion.id))
                                      .limit(limit - len(versions)).offset(skip)))
    labels: dict[tuple[str, int], str] = {}
    for record_type in {v.record_type for v in versions}:
        ids = [v.record_id for v in versions if v.record_type == record_type]
        for rid, label in session.exec(select(SyncRunItem.record_id, SyncRunItem.label).where(
                SyncRunItem.run_id == run_id, SyncRunItem.record_type == record_type,
                col(SyncRunItem.record_id).in_(ids))):
            if rid is not None:
                labels.setdefault((record_type, rid), label)
    out = []
    for v in versions:
        label = labels.get((v.record_type, v.record_id)) or f"{v.record_type.capitalize()} #{v.record_id}"
        out.append(RecordChange(v.record_type, v.record_id, label, v.version, v.version == 1, v.changed_at,
                                _field_changes(v.changes)))
    name_customers(session=session, change_lists=[c.changes for c in out])
    return sorted(out, key=lambda c: (c.created, c.label))


def run_change_counts(*, session: Session, run_id: int) -> tuple[int, int]:
    """(records updated, records created) by a run, counted from its record versions."""
    first = col(RecordVersion.version) == 1
    updated, created = session.exec(select(func.sum(case((first, 0), else_=1)), func.sum(case((first, 1), else_=0)))
                                    .where(RecordVersion.run_id == run_id)).one()
    return int(updated or 0), int(created or 0)


def changed_fields(*, session: Session, run_id: int, keys: list[tuple[str, int]]) -> dict[tuple[str, int], list[str]]:
    """The fields a run changed on each of the given records (updates only; a created record has none listed)."""
    out: dict[tuple[str, int], list[str]] = {}
    for record_type in {t for t, _ in keys}:
        ids = [rid for t, rid in keys if t == record_type]
        for rid, changes in session.exec(select(RecordVersion.record_id, RecordVersion.changes).where(
                RecordVersion.run_id == run_id, RecordVersion.record_type == record_type,
                col(RecordVersion.record_id).in_(ids), col(RecordVersion.version) > 1)):
            out.setdefault((record_type, rid), []).extend(sorted(changes or {}))
    return out


def run_item_counts(*, session: Session, run_id: int) -> dict[str, int]:
    """How many items of each action a run recorded (one indexed GROUP BY)."""
    return {action: int(n) for action, n in session.exec(
        select(SyncRunItem.action, func.count()).where(SyncRunItem.run_id == run_id).group_by(SyncRunItem.action))}


def run_items_page(*, session: Session, run_id: int, actions: list[str] | tuple[str, ...], limit: int = 200,
                   offset: int = 0) -> list[SyncRunItem]:
    """One page of a run's items with the given actions: failures first, then in the order they happened."""
    failed = ItemAction.FAILED in actions
    others = [a for a in actions if a != ItemAction.FAILED]
    page: list[SyncRunItem] = []
    if failed:
        page = list(session.exec(select(SyncRunItem).where(
            SyncRunItem.run_id == run_id, SyncRunItem.action == ItemAction.FAILED)
            .order_by(col(SyncRunItem.id)).limit(limit).offset(offset)))
    if others and len(page) < limit:
        skip = max(0, offset - (run_item_counts(session=session, run_id=run_id).get(ItemAction.FAILED, 0)
                                if failed else 0))
        page += list(session.exec(select(SyncRunItem).where(
            col(SyncRunItem.run_id) == run_id, col(SyncRunItem.action).in_(others))
            .order_by(col(SyncRunItem.id)).limit(limit - len(page)).offset(skip)))
    return page


def run_failed_items(*, session: Session, run_id: int, limit: int = 5000) -> list[SyncRunItem]:
    """A run's failed items (for grouping by cause)."""
    return list(session.exec(select(SyncRunItem).where(
        col(SyncRunItem.run_id) == run_id,
        col(SyncRunItem.action) == ItemAction.FAILED).order_by(col(SyncRunItem.id)).limit(limit)))


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
