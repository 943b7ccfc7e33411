"""Customers and outstanding invoices from Intacct into the ledger: one-time imports and incremental reads.

Incremental reads cover WHENMODIFIED from (watermark - overlap) up to the run's start; the watermark moves
to the run's start only after the whole window was read and committed. Upserts are keyed by the Intacct
key, so the overlap is harmless: unchanged records are counted, not rewritten. Every change becomes a
RecordVersion of the run. The originator wins: for records that started in our ledger, only the fields
Intacct owns (balances, payment state, keys) are taken from Intacct.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from storage.db import write_session
from storage.models import Customer, Invoice, InvoiceLine, ItemAction, Origin, SyncCursor, SyncState
from storage.types import utcnow
from sync_engine import objects
from sync_engine.intacct import filters
from sync_engine.intacct.values import format_timestamp, parse_date, parse_decimal, parse_timestamp
from sync_engine.ledger import diff, record_version, snapshot
from sync_engine.run_context import RunContext

DEFAULT_OVERLAP = timedelta(hours=1)
BATCH = 500
ZERO = Decimal("0.00")

CUSTOMER_INTACCT_OWNED = ("balance", "intacct_customer_id", "intacct_recordno")
INVOICE_INTACCT_OWNED = ("amount_paid", "balance", "status", "intacct_state", "intacct_recordno")


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


# --- windows and cursors --------------------------------------------------------------------------------


def _cursor(session: Session, ctx: RunContext, object_name: str) -> SyncCursor | None:
    return session.exec(select(SyncCursor).where(
        SyncCursor.connection_id == ctx.connection_id, SyncCursor.object_name == object_name)).first()


def read_window(ctx: RunContext, object_name: str, *, incremental: bool) -> tuple[datetime | None, datetime]:
    """(from, to) for this read: from = watermark - overlap (None = everything), to = the run's start."""
    if not incremental:
        return None, ctx.started_at
    with Session(ctx.engine) as session:
        cursor = _cursor(session, ctx, object_name)
    overlap = timedelta(minutes=int(ctx.options.get("overlap_minutes", DEFAULT_OVERLAP.total_seconds() / 60)))
    if cursor is None or cursor.watermark is None:
        return None, ctx.started_at
    return cursor.watermark - overlap, ctx.started_at


def advance_cursor(ctx: RunContext, object_name: str, watermark: datetime) -> None:
    if ctx.preview:
        return
    with write_session(ctx.engine) as session:
        cursor = _cursor(session, ctx, object_name) or SyncCursor(connection_id=ctx.connection_id, object_name=object_name)
        if cursor.watermark is None or watermark > cursor.watermark:
            cursor.watermark = watermark
        cursor.last_run_id = ctx.run_id
        cursor.updated_at = utcnow()
        session.add(cursor)


def _window_filter(ctx: RunContext, window_from: datetime | None, window_to: datetime) -> filters.Filter:
    tz = ZoneInfo(ctx.connection.intacct_timezone or "UTC")
    upper = filters.lt("WHENMODIFIED", format_timestamp(window_to, tz))
    if window_from is None:
        return upper
    return filters.and_(filters.ge("WHENMODIFIED", format_timestamp(window_from, tz)), upper)


def _note_window(ctx: RunContext, window_from: datetime | None, window_to: datetime) -> None:
    from storage.models import SyncRun

    with write_session(ctx.engine) as session:
        run = session.get(SyncRun, ctx.run_id)
        assert run is not None
        if run.window_from is None or (window_from is not None and window_from < run.window_from):
            run.window_from = window_from
        run.window_to = window_to
        session.add(run)


MAX_AMOUNT = Decimal("1e15")  # what our Numeric(18, 2) columns hold, with room to add up


class UnreadableRecord(ValueError):
    """Intacct sent a record we cannot take as it is (a missing key, a value that is not what its field holds)."""


def _amount(record: dict[str, Any], field: str) -> Decimal:
    try:
        value = parse_decimal(record.get(field)) or ZERO
    except ValueError:
        raise UnreadableRecord(f"{field} is {record.get(field)!r}, not an amount") from None
    if abs(value) >= MAX_AMOUNT:
        raise UnreadableRecord(f"{field} is {record.get(field)!r}, too large to be a real amount")
    return value


def _required(record: dict[str, Any], *fields: str) -> None:
    missing = [field for field in fields if not (record.get(field) or "").strip()]
    if missing:
        raise UnreadableRecord(f"{', '.join(missing)} missing")


def _date_of(record: dict[str, Any], field: str) -> date | None:
    try:
        return parse_date(record.get(field))
    except ValueError:
        raise UnreadableRecord(f"{field} is {record.get(field)!r}, not a date") from None


def _unreadable(session: Session, ctx: RunContext, record_type: str, record: dict[str, Any], exc: ValueError) -> None:
    key = record.get("RECORDNO") or "?"
    ident = record.get("CUSTOMERID" if record_type == "customer" else "RECORDID") or f"#{key}"
    ctx.item(session, record_type=record_type, label=f"{record_type.title()} {ident}", action=ItemAction.FAILED,
             intacct_key=record.get("RECORDNO"), category="record",
             message=f"Intacct sent this {record_type} in a form we cannot read ({exc}); it was left out and "
                     "the rest of the run went on. Check the record in Intacct.")


# --- customers ------------------------------------------------------------------------------------------


def customer_values(record: dict[str, Any]) -> dict[str, Any]:
    """Ledger fields of a customer from an Intacct CUSTOMER record (UnreadableRecord if it cannot be taken)."""
    _required(record, "RECORDNO", "CUSTOMERID")
    status = (record.get("STATUS") or "active").lower()
    return {
        "number": record["CUSTOMERID"],
        "name": record.get("NAME") or record["CUSTOMERID"],
        "email": record.get("DISPLAYCONTACT.EMAIL1"),
        "phone": record.get("DISPLAYCONTACT.PHONE1"),
        "address1": record.get("DISPLAYCONTACT.MAILADDRESS.ADDRESS1"),
        "city": record.get("DISPLAYCONTACT.MAILADDRESS.CITY"),
        "state": record.get("DISPLAYCONTACT.MAILADDRESS.STATE"),
        "postal_code": record.get("DISPLAYCONTACT.MAILADDRESS.ZIP"),
        "country": record.get("DISPLAYCONTACT.MAILADDRESS.COUNTRY"),
        "currency": record.get("CURRENCY") or "USD",
        "payment_terms": record.get("TERMNAME"),
        "active": status in ("active", "t", "true"),
        "balance": _amount(record, "TOTALDUE"),
        "intacct_customer_id": record["CUSTOMERID"],
        "intacct_recordno": record["RECORDNO"],
    }


def _upsert_customer(session: Session, ctx: RunContext, record: dict[str, Any], existing: Customer | None,
                     by_number: dict[str, Customer], created: list[tuple[Customer, dict[str, Any]]]) -> Customer:
    """Update a known customer in place (with a version when it changed) or stage a new one in `created`."""
    values = customer_values(record)
    modified = parse_timestamp(record.get("WHENMODIFIED"), ZoneInfo(ctx.connection.intacct_timezone or "UTC"))
    label = f"Customer {values['number']}"
    if existing is None:
        clash = by_number.get(values["number"])
        if clash is not None and clash.intacct_recordno is None:
            existing = clash  # our own customer, created in Intacct earlier: link it
        elif clash is not None:
            ctx.item(session, record_type="customer", label=label, action=ItemAction.FAILED, record_id=clash.id,
                     intacct_key=values["intacct_recordno"], category="record",
                     message=f"Customer number {values['number']} is already used by another customer in the ledger.")
            return clash
    if existing is None:
        customer = Customer(connection_id=ctx.connection_id, origin=Origin.INTACCT, sync_state=SyncState.SYNCED,
                            intacct_modified_at=modified, **values)
        session.add(customer)
        by_number[customer.number] = customer
        created.append((customer, values))
        return customer
    if existing.origin == Origin.LEDGER:
        values = {k: values[k] for k in CUSTOMER_INTACCT_OWNED}
    before = snapshot("customer", existing.model_dump())
    after = {**before, **snapshot("customer", values)}
    changes = diff(before, after)
    existing.intacct_modified_at = modified or existing.intacct_modified_at
    if not changes:
        ctx.item(session, record_type="customer", label=label, action=ItemAction.UNCHANGED)
        return existing
    for key, value in values.items():
        setattr(existing, key, value)
    existing.updated_at = utcnow()
    if existing.sync_state in (SyncState.NOT_SYNCED, SyncState.FAILED) and existing.origin == Origin.INTACCT:
        existing.sync_state = SyncState.SYNCED
    session.add(existing)
    record_version(session=session, record_type="customer", record_id=existing.id, run_id=ctx.run_id,  # type: ignore[arg-type]
                   source="import", changes=changes, snapshot_values=after)
    ctx.item(session, record_type="customer", label=label, action=ItemAction.UPDATED, record_id=existing.id,
             intacct_key=values.get("intacct_recordno", existing.intacct_recordno))
    return existing


def _store_customers(ctx: RunContext, records: list[dict[str, Any]], session: Session | None = None) -> None:
    """Upsert a page of customers, in the given session or in a ledger session of their own."""
    if session is None:
        with ctx.ledger_session() as own:
            _store_customers(ctx, records, own)
        return
    keys = [r.get("RECORDNO") for r in records]
    known = {c.intacct_recordno: c for c in session.exec(select(Customer).where(
        Customer.connection_id == ctx.connection_id, Customer.intacct_recordno.in_(keys)))}
    by_number = {c.number: c for c in session.exec(select(Customer).where(
        Customer.number.in_([r.get("CUSTOMERID") for r in records])))}
    created: list[tuple[Customer, dict[str, Any]]] = []
    for record in records:
        try:
            _upsert_customer(session, ctx, record, known.get(record.get("RECORDNO")), by_number, created)
        except UnreadableRecord as exc:
            _unreadable(session, ctx, "customer", record, exc)
    session.flush()  # one flush gives every new customer its id
    for customer, values in created:
        snap = snapshot("customer", values)
        record_version(session=session, record_type="customer", record_id=customer.id, run_id=ctx.run_id,  # type: ignore[arg-type]
                       source="import", changes={k: [None, v] for k, v in snap.items() if v is not None},
                       snapshot_values=snap, new_record=True)
        ctx.item(session, record_type="customer", label=f"Customer {customer.number}", action=ItemAction.CREATED,
                 record_id=customer.id, intacct_key=customer.intacct_recordno)
    session.flush()
    ctx.advance(len(records))


def import_customers(ctx: RunContext, *, incremental: bool, active_only: bool = False) -> None:
    """Read customers (all, or modified in the window) and upsert them into the ledger."""
    window_from, window_to = read_window(ctx, objects.CUSTOMER.name, incremental=incremental)
    _note_window(ctx, window_from, window_to)
    condition = _window_filter(ctx, window_from, window_to)
    if active_only:
        condition = filters.and_(condition, filters.eq("STATUS", "active"))
    ctx.begin_step("customers", total=ctx.client.count(objects.CUSTOMER.name, condition))
    records = ctx.client.iter_records(objects.CUSTOMER.name, list(objects.CUSTOMER.fields), filter=condition)
    for batch in _batches(records, BATCH):
        ctx.check_stop()
        _store_customers(ctx, batch)
        ctx.flush()
    if incremental or not active_only:
        advance_cursor(ctx, objects.CUSTOMER.name, window_to)


def _read_customers(ctx: RunContext, customer_ids: set[str]) -> list[dict[str, Any]]:
    """Customer records for the given CUSTOMERIDs (for invoices whose customer the ledger lacks)."""
    records: list[dict[str, Any]] = []
    for chunk in _batches(sorted(customer_ids), 100):
        records += ctx.client.iter_records(objects.CUSTOMER.name, list(objects.CUSTOMER.fields),
                                           filter=filters.in_("CUSTOMERID", chunk))
    return records


# --- invoices -------------------------------------------------------------------------------------------


def _status(state: str | None) -> str:
    return objects.INVOICE_STATUS_BY_STATE.get((state or "").lower(), "open")


def _lines_text(lines: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{line['line_no']}: {line.get('account_label') or line.get('gl_account_no') or '?'} "
        f"{line['amount']:.2f} {line.get('description') or ''}".rstrip()
        for line in lines
    )


def invoice_values(record: dict[str, Any], customer_id: int) -> dict[str, Any]:
    """Ledger fields of an invoice from an Intacct ARINVOICE record (UnreadableRecord if it cannot be taken)."""
    _required(record, "RECORDNO", "WHENCREATED")
    return {
        "number": record.get("RECORDID") or f"INTACCT-{record['RECORDNO']}",
        "customer_id": customer_id,
        "invoice_date": _date_of(record, "WHENCREATED"),
        "due_date": _date_of(record, "WHENDUE"),
        "currency": record.get("CURRENCY") or "USD",
        "description": record.get("DESCRIPTION"),
        "po_number": record.get("DOCNUMBER"),
        "total": _amount(record, "TOTALENTERED"),
        "amount_paid": _amount(record, "TOTALPAID"),
        "balance": _amount(record, "TOTALDUE"),
        "status": _status(record.get("STATE")),
        "intacct_state": record.get("STATE"),
        "intacct_recordno": record["RECORDNO"],
    }


def line_values(record: dict[str, Any]) -> dict[str, Any]:
    amount = _amount(record, "AMOUNT")
    return {
        "line_no": int(record["LINE_NO"]) if (record.get("LINE_NO") or "").isdigit() else 0,
        "description": record.get("ENTRYDESCRIPTION"),
        "quantity": Decimal("1"),
        "unit_price": amount,
        "amount": amount,
        "account_label": record.get("ACCOUNTLABEL"),
        "gl_account_no": record.get("ACCOUNTNO"),
        "location_id": record.get("LOCATIONID"),
        "department_id": record.get("DEPARTMENTID"),
        "intacct_line_recordno": record.get("RECORDNO"),
    }


def _fetch_lines(ctx: RunContext, invoice_keys: list[str], bad_lines: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Lines per invoice key; an unreadable line is noted in `bad_lines` so its invoice is left out whole."""
    lines: dict[str, list[dict[str, Any]]] = {key: [] for key in invoice_keys}
    for record in ctx.client.iter_records(objects.AR_INVOICE_ITEM.name, list(objects.AR_INVOICE_ITEM.fields),
                                          filter=filters.in_("RECORDKEY", invoice_keys)):
        try:
            lines.setdefault(record["RECORDKEY"], []).append(line_values(record))
        except UnreadableRecord as exc:
            bad_lines[record["RECORDKEY"]] = f"line {record.get('LINE_NO') or record.get('RECORDNO')}: {exc}"
    for key in lines:
        lines[key].sort(key=lambda line: line["line_no"])
        for position, line in enumerate(lines[key], start=1):
            line["line_no"] = line["line_no"] or position
    return lines


def _replace_lines(session: Session, invoice: Invoice, lines: list[dict[str, Any]]) -> None:
    for old in session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)):
        session.delete(old)
    for line in lines:
        session.add(InvoiceLine(invoice_id=invoice.id, **line))  # type: ignore[arg-type]


def _upsert_invoice(
    session: Session, ctx: RunContext, record: dict[str, Any], existing: Invoice | None,
    customers: dict[str, Customer], lines: list[dict[str, Any]], outstanding_only: bool,
    by_number: dict[str, Invoice], created: list[tuple[Invoice, dict[str, Any], list[dict[str, Any]]]],
) -> None:
    """Update a known invoice in place (with a version when it changed) or stage a new one in `created`."""
    _required(record, "RECORDNO", "CUSTOMERID")
    customer = customers.get(record["CUSTOMERID"])
    label = f"Invoice {record.get('RECORDID') or record['RECORDNO']}"
    if customer is None:
        ctx.item(session, record_type="invoice", label=label, action=ItemAction.FAILED,
                 intacct_key=record["RECORDNO"], category="record",
                 message=f"Customer {record['CUSTOMERID']} could not be read from Intacct.")
        return
    values = invoice_values(record, customer.id)  # type: ignore[arg-type]
    modified = parse_timestamp(record.get("WHENMODIFIED"), ZoneInfo(ctx.connection.intacct_timezone or "UTC"))
    if existing is None:
        if outstanding_only and values["balance"] <= ZERO:
            return  # a paid or reversed invoice we never had: nothing outstanding to import
        clash = by_number.get(values["number"])
        if clash is not None:
            ctx.item(session, record_type="invoice", label=label, action=ItemAction.FAILED, record_id=clash.id,
                     intacct_key=record["RECORDNO"], category="record",
                     message=f"Invoice number {values['number']} is already used by another invoice in the ledger.")
            return
        invoice = Invoice(connection_id=ctx.connection_id, origin=Origin.INTACCT, sync_state=SyncState.SYNCED,
                          intacct_modified_at=modified, **values)
        session.add(invoice)
        by_number[invoice.number] = invoice
        created.append((invoice, values, lines))
        return
    owned_by_ledger = existing.origin == Origin.LEDGER
    if owned_by_ledger:
        values = {k: values[k] for k in INVOICE_INTACCT_OWNED}
        if existing.status == "voided":
            values.pop("status")
    else:
        values["lines"] = _lines_text(lines)
    current_lines = [line.model_dump() for line in session.exec(
        select(InvoiceLine).where(InvoiceLine.invoice_id == existing.id).order_by(InvoiceLine.line_no))]
    before = snapshot("invoice", {**existing.model_dump(), "lines": _lines_text(current_lines)})
    after = {**before, **snapshot("invoice", values)}
    changes = diff(before, after)
    existing.intacct_modified_at = modified or existing.intacct_modified_at
    if not changes:
        ctx.item(session, record_type="invoice", label=label, action=ItemAction.UNCHANGED)
        return
    for key, value in values.items():
        if key != "lines":
            setattr(existing, key, value)
    if "lines" in changes:
        _replace_lines(session, existing, lines)
    existing.updated_at = utcnow()
    session.add(existing)
    record_version(session=session, record_type="invoice", record_id=existing.id, run_id=ctx.run_id,  # type: ignore[arg-type]
                   source="import", changes=changes, snapshot_values=after)
    ctx.item(session, record_type="invoice", label=label, action=ItemAction.UPDATED, record_id=existing.id,
             intacct_key=record["RECORDNO"])


def _store_invoices(ctx: RunContext, records: list[dict[str, Any]], outstanding_only: bool) -> None:
    customer_ids = {r["CUSTOMERID"] for r in records if r.get("CUSTOMERID")}
    keys = [r["RECORDNO"] for r in records if r.get("RECORDNO")]
    with Session(ctx.engine) as session:
        known = set(session.exec(select(Customer.intacct_customer_id).where(
            Customer.intacct_customer_id.in_(customer_ids))))
    # Intacct reads happen before the ledger transaction opens, so no lock is held across HTTP calls.
    missing_customers = _read_customers(ctx, customer_ids - known) if customer_ids - known else []
    bad_lines: dict[str, str] = {}
    lines = _fetch_lines(ctx, keys, bad_lines)
    with ctx.ledger_session() as session:
        if missing_customers:
            _store_customers(ctx, missing_customers, session)
            ctx.advance(-len(missing_customers))  # this step's progress counts invoices
        customers = {c.intacct_customer_id: c for c in session.exec(select(Customer).where(
            Customer.intacct_customer_id.in_(customer_ids)))}
        existing = {i.intacct_recordno: i for i in session.exec(select(Invoice).where(
            Invoice.connection_id == ctx.connection_id, Invoice.intacct_recordno.in_(keys)))}
        numbers = [r.get("RECORDID") or f"INTACCT-{r.get('RECORDNO')}" for r in records]
        by_number = {i.number: i for i in session.exec(select(Invoice).where(Invoice.number.in_(numbers)))}
        created: list[tuple[Invoice, dict[str, Any], list[dict[str, Any]]]] = []
        for record in records:
            try:
                if record.get("RECORDNO") in bad_lines:
                    raise UnreadableRecord(bad_lines[record["RECORDNO"]])
                _upsert_invoice(session, ctx, record, existing.get(record.get("RECORDNO")), customers,
                                lines.get(record.get("RECORDNO"), []), outstanding_only, by_number, created)
            except UnreadableRecord as exc:
                _unreadable(session, ctx, "invoice", record, exc)
        session.flush()  # one flush gives every new invoice its id
        for invoice, values, invoice_lines in created:
            session.add_all([InvoiceLine(invoice_id=invoice.id, **line) for line in invoice_lines])  # type: ignore[arg-type]
            snap = snapshot("invoice", {**values, "lines": _lines_text(invoice_lines)})
            record_version(session=session, record_type="invoice", record_id=invoice.id, run_id=ctx.run_id,  # type: ignore[arg-type]
                           source="import", changes={k: [None, v] for k, v in snap.items() if v is not None},
                           snapshot_values=snap, new_record=True)
            ctx.item(session, record_type="invoice", label=f"Invoice {invoice.number}", action=ItemAction.CREATED,
                     record_id=invoice.id, intacct_key=invoice.intacct_recordno)
    ctx.advance(len(records))


def import_invoices(ctx: RunContext, *, incremental: bool) -> None:
    """One-time: every outstanding invoice. Incremental: every invoice modified in the window, so payments
    and reversals made in Intacct reach invoices we already hold; new ones are imported while outstanding."""
    window_from, window_to = read_window(ctx, objects.AR_INVOICE.name, incremental=incremental)
    _note_window(ctx, window_from, window_to)
    condition = _window_filter(ctx, window_from, window_to)
    outstanding_only = window_from is None
    if outstanding_only:
        condition = filters.and_(condition, filters.gt("TOTALDUE", 0))
    ctx.begin_step("invoices", total=ctx.client.count(objects.AR_INVOICE.name, condition))
    records = ctx.client.iter_records(objects.AR_INVOICE.name, list(objects.AR_INVOICE.fields), filter=condition)
    for batch in _batches(records, BATCH):
        ctx.check_stop()
        _store_invoices(ctx, batch, outstanding_only=True)
        ctx.flush()
    if incremental:
        advance_cursor(ctx, objects.AR_INVOICE.name, window_to)
