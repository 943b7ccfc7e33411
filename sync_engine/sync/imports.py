"""Customers and outstanding invoices from Intacct into the ledger: one-time imports and incremental reads.

Windows are in sync_engine.sync.windows. A record is known by its Intacct key within the connection, then by
number (a record we wrote comes back as itself); one whose WHENMODIFIED we already hold is unchanged at no
cost. Every change becomes a RecordVersion of the run. The originator wins: for records that started in our
ledger, only the fields Intacct owns (its balances, state and keys) are taken from Intacct; what an invoice
shows as paid is derived in sync_engine.sync.amounts, so ledger payments not yet in Intacct are never overwritten.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session, col, select

from storage.bulk import insert_rows
from storage.db import read_session
from storage.models import Customer, Invoice, InvoiceLine, ItemAction, Origin, SyncState
from storage.sql import one_of
from storage.types import utcnow
from sync_engine.intacct import filters
from sync_engine.intacct.pipeline import Prefetcher, ordered_map
from sync_engine.intacct.values import parse_timestamp
from sync_engine.sync import amounts, bulk, objects, windows
from sync_engine.sync.journal import adopt_in_flight
from sync_engine.sync.ledger import diff, prefetch_versions, snapshot
from sync_engine.sync.record_values import (
    ZERO,
    UnreadableRecord,
    amount_of,
    batches,
    date_of,
    left_out,
    read_again,
    required,
)
from sync_engine.sync.run_context import RunContext

BATCH = 500
INVOICE_PAGE = 900  # invoices written per transaction; their lines fit one 2,000-row query at ~2 lines each

# Fields Intacct owns on records that started in our ledger: everything else there is ours.
CUSTOMER_INTACCT_OWNED = ("balance", "intacct_customer_id", "intacct_recordno")
INVOICE_INTACCT_OWNED = ("intacct_total_paid", "intacct_total_due", "intacct_state", "intacct_recordno")


# --- customers ------------------------------------------------------------------------------------------


def customer_values(record: dict[str, Any]) -> dict[str, Any]:
    """Ledger fields of a customer from an Intacct CUSTOMER record (UnreadableRecord if it cannot be taken)."""
    required(record, "RECORDNO", "CUSTOMERID")
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
        "balance": amount_of(record, "TOTALDUE"),
        "intacct_customer_id": record["CUSTOMERID"],
        "intacct_recordno": record["RECORDNO"],
    }


def modified_at(ctx: RunContext, record: dict[str, Any]) -> datetime | None:
    """The record's WHENMODIFIED as an aware UTC time (Intacct writes it in the company's zone, without one)."""
    try:
        return parse_timestamp(record.get("WHENMODIFIED"), windows.company_zone(ctx))
    except ValueError:
        return None


def seen_before(ctx: RunContext, existing: Any, modified: datetime | None, key: str) -> bool:
    """We already hold this version of the record: same key within the connection and same WHENMODIFIED.

    WHENMODIFIED has whole seconds only, so a change made in the second we last read the record keeps the
    same stamp: callers use this only to save reading a record's details (lines, applications), together with
    a comparison of the header values that such a change moves."""
    return (modified is not None and existing.intacct_modified_at == modified
            and existing.connection_id == ctx.connection_id and existing.intacct_recordno == key)


def _upsert_customer(session: Session, ctx: RunContext, record: dict[str, Any], existing: Customer | None,
                     by_number: dict[str, Customer], created: list[tuple[Customer, dict[str, Any]]]) -> Customer:
    """Update a known customer in place (with a version when it changed) or stage a new one in `created`.

    A customer is known by its Intacct key within the connection, then by number: ours when it carries this
    key, or when it has none yet (we wrote it and lost the answer, or Intacct already had that number)."""
    values = customer_values(record)
    modified = modified_at(ctx, record)
    label = f"Customer {values['number']}"
    if existing is None:
        clash = by_number.get(values["number"])
        if clash is not None and clash.intacct_recordno in (None, values["intacct_recordno"]):
            existing = clash
            if clash.intacct_recordno is None:
                adopt_in_flight(session, connection_id=ctx.connection_id, record_type="customer",
                                record_id=clash.id, key=values["intacct_recordno"])  # type: ignore[arg-type]
        elif clash is not None:
            ctx.item(session, record_type="customer", label=label, action=ItemAction.FAILED, record_id=clash.id,
                     intacct_key=values["intacct_recordno"], category="record",
                     message=f"Customer number {values['number']} in Intacct (key {values['intacct_recordno']}) is "
                             f"not the one the ledger links to that number (key {clash.intacct_recordno}). "
                             "Rename one of them in Intacct; the next sync then reads it.")
            return clash
    if existing is None:
        row = {**values, "connection_id": ctx.connection_id, "origin": Origin.INTACCT, "sync_state": SyncState.SYNCED,
               "intacct_modified_at": modified}
        staged = SimpleNamespace(id=None, **row)  # inserted in bulk with the page (sync_engine.sync.bulk)
        by_number[values["number"]] = staged  # type: ignore[assignment]
        created.append((staged, row))  # type: ignore[arg-type]
        return staged  # type: ignore[return-value]
    linking = existing.connection_id != ctx.connection_id or existing.intacct_recordno != values["intacct_recordno"]
    if existing.origin == Origin.LEDGER:
        values = {k: values[k] for k in CUSTOMER_INTACCT_OWNED}
    before = snapshot("customer", existing.model_dump())
    after = {**before, **snapshot("customer", values)}
    changes = diff(before, after)
    existing.intacct_modified_at = modified or existing.intacct_modified_at
    existing.connection_id = ctx.connection_id
    if existing.sync_state != SyncState.SKIPPED and (linking or existing.origin == Origin.INTACCT):
        existing.sync_state, existing.sync_error = SyncState.SYNCED, None
    for key, value in values.items():
        setattr(existing, key, value)
    session.add(existing)
    read_again(session, ctx, record_type="customer", record=existing, label=label, changes=changes, after=after,
               intacct_key=existing.intacct_recordno,
               message="Linked to the Intacct customer of the same number." if linking else None)
    return existing


def store_customers(ctx: RunContext, records: list[dict[str, Any]], session: Session | None = None) -> None:
    """Upsert a page of customers, in the given session or in a ledger session of their own."""
    if session is None:
        with ctx.ledger_session() as own:
            store_customers(ctx, records, own)
        return
    keys = [r.get("RECORDNO") for r in records]
    known = {c.intacct_recordno: c for c in session.exec(select(Customer).where(
        Customer.connection_id == ctx.connection_id, one_of(Customer.intacct_recordno, keys)))}
    by_number = {c.number: c for c in session.exec(select(Customer).where(
        one_of(Customer.number, [r.get("CUSTOMERID") for r in records])))}
    prefetch_versions(session, "customer", [c.id for c in [*known.values(), *by_number.values()]])  # type: ignore[misc]
    created: list[tuple[Customer, dict[str, Any]]] = []
    for record in records:
        try:
            _upsert_customer(session, ctx, record, known.get(record.get("RECORDNO")), by_number, created)
        except UnreadableRecord as exc:
            left_out(session, ctx, "customer", record, exc)
    session.flush()
    _insert_created_customers(session, ctx, created)
    ctx.advance(len(records))


def _insert_created_customers(session: Session, ctx: RunContext, created: list[tuple[Any, dict[str, Any]]]) -> None:
    """The page's new customers in three statements: the rows, their first versions, their run items."""
    if not created:
        return
    ids = insert_rows(session, Customer, [row for _, row in created], returning_ids=True)
    for (staged, _), new_id in zip(created, ids, strict=False):
        staged.id = new_id
    bulk.first_versions(session, record_type="customer", record_ids=ids, run_id=ctx.run_id)
    ctx.add_items(session,
                  [{"record_type": "customer", "label": f"Customer {row['number']}", "action": ItemAction.CREATED,
                             "record_id": new_id, "intacct_key": row["intacct_recordno"]}
                            for (_, row), new_id in zip(created, ids, strict=False)])


_store_customers = store_customers  # the name tests of unreadable records use


def import_customers(ctx: RunContext, *, incremental: bool, active_only: bool = False) -> None:
    """Read customers (all, or modified in the window) and upsert them into the ledger."""
    extra = filters.eq("STATUS", "active") if active_only else None
    records, mark = windows.read_since(ctx, objects.CUSTOMER, incremental=incremental, extra=extra,
                                       step="customers")
    with Prefetcher(batches(records, BATCH), ahead=2) as pages:  # the next pages are read while one is written
        for batch in pages:
            ctx.check_stop()
            store_customers(ctx, batch)
            ctx.flush()
    if incremental or not active_only:
        windows.advance(ctx, objects.CUSTOMER, mark)


def read_customers(ctx: RunContext, customer_ids: set[str]) -> list[dict[str, Any]]:
    """Customer records for the given CUSTOMERIDs (for records whose customer the ledger lacks)."""
    records: list[dict[str, Any]] = []
    for chunk in batches(sorted(customer_ids), 100):
        records += windows.read_records(ctx, objects.CUSTOMER, filters.in_("CUSTOMERID", chunk))
    return records


def customers_by_intacct_id(session: Session, ctx: RunContext, customer_ids: set[str]) -> dict[str, Customer]:
    return {c.intacct_customer_id: c for c in session.exec(select(Customer).where(  # type: ignore[misc]
        Customer.connection_id == ctx.connection_id, one_of(Customer.intacct_customer_id, customer_ids)))}


def customer_keys_by_intacct_id(session: Session, ctx: RunContext, customer_ids: set[str]) -> dict[str, Any]:
    """Like customers_by_intacct_id, but only each customer's id (all an invoice needs), without ORM objects."""
    return {cid: SimpleNamespace(id=pk) for cid, pk in session.exec(
        select(Customer.intacct_customer_id, Customer.id).where(
        Customer.connection_id == ctx.connection_id, one_of(Customer.intacct_customer_id, customer_ids)))
        if cid is not None}


def ensure_customers(ctx: RunContext, customer_ids: set[str]) -> list[dict[str, Any]]:
    """Intacct records of the customers among `customer_ids` the ledger does not hold yet (read before any
    ledger transaction opens, so no lock is held across HTTP calls)."""
    with read_session(ctx.engine) as session:  # no lock: this may run on the read-ahead thread during a write
        known = set(customer_keys_by_intacct_id(session, ctx, customer_ids))
    missing = customer_ids - known
    return read_customers(ctx, missing) if missing else []


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
    """Ledger fields of an invoice from an Intacct ARINVOICE record (UnreadableRecord if it cannot be taken).

    Paid amount, balance and status are derived afterwards (sync_engine.sync.amounts) from Intacct's TOTALPAID /
    TOTALDUE and the ledger's own payments not yet in Intacct."""
    required(record, "RECORDNO", "WHENCREATED")
    return {
        "number": record.get("RECORDID") or f"INTACCT-{record['RECORDNO']}",
        "customer_id": customer_id,
        "invoice_date": date_of(record, "WHENCREATED"),
        "due_date": date_of(record, "WHENDUE"),
        "currency": record.get("CURRENCY") or "USD",
        "description": record.get("DESCRIPTION"),
        "po_number": record.get("DOCNUMBER"),
        "total": amount_of(record, "TOTALENTERED"),
        "intacct_total_paid": amount_of(record, "TOTALPAID"),
        "intacct_total_due": amount_of(record, "TOTALDUE"),
        "status": _status(record.get("STATE")),
        "intacct_state": record.get("STATE"),
        "intacct_recordno": record["RECORDNO"],
    }


def line_values(record: dict[str, Any]) -> dict[str, Any]:
    amount = amount_of(record, "AMOUNT")
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


def _fetch_lines(ctx: RunContext, invoice_keys: list[str],
                 bad_lines: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Lines per invoice key; an unreadable line is noted in `bad_lines` so its invoice is left out whole."""
    lines: dict[str, list[dict[str, Any]]] = {key: [] for key in invoice_keys}
    for chunk in batches(invoice_keys, INVOICE_PAGE):
        for record in windows.read_records(ctx, objects.AR_INVOICE_ITEM, filters.in_("RECORDKEY", chunk)):
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
    session.info.get(_PAGE_LINES, {}).pop(invoice.id, None)  # the page's copy of its old lines is stale now
    for old in session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)):
        session.delete(old)
    for line in lines:
        session.add(InvoiceLine(invoice_id=invoice.id, **line))  # type: ignore[arg-type]


def _invoice_number(record: dict[str, Any]) -> str:
    return record.get("RECORDID") or f"INTACCT-{record.get('RECORDNO')}"


def _is_ours(session: Session, ctx: RunContext, clash: Invoice, key: str) -> bool:
    """A ledger invoice of the same number is this Intacct invoice when it carries its key, or when its create
    is unconfirmed in the journal (the answer was lost): then the journal settles on this key."""
    if clash.intacct_recordno is not None:
        return clash.intacct_recordno == key
    return clash.origin == Origin.LEDGER and adopt_in_flight(
        session, connection_id=ctx.connection_id, record_type="invoice", record_id=clash.id, key=key)  # type: ignore[arg-type]


def _apply_intacct(invoice: Invoice, values: dict[str, Any], adjustment: Decimal) -> None:
    """Take Intacct's values onto the invoice and derive what it shows."""
    for key, value in values.items():
        if key != "lines":
            setattr(invoice, key, value)
    if (invoice.intacct_state or "").lower() == "reversed":
        invoice.reversed_in_intacct = True
        invoice.voided_at = invoice.voided_at or utcnow()
    for key, value in amounts.derive(invoice, adjustment).items():
        setattr(invoice, key, value)


_PAGE_LINES = "invoice_lines_of_page"  # session.info key: invoice id -> its lines (as dicts), read once per page


def _prefetch_lines(session: Session, invoice_ids: list[int]) -> None:
    """The lines of a page's known invoices in one query, for the diffs `_upsert_invoice` makes."""
    lines: dict[int, list[dict[str, Any]]] = {i: [] for i in invoice_ids}
    for start in range(0, len(invoice_ids), 900):
        for line in session.exec(select(InvoiceLine)
                                 .where(one_of(InvoiceLine.invoice_id, invoice_ids[start:start + 900]))
                                 .order_by(col(InvoiceLine.invoice_id), col(InvoiceLine.line_no))):
            lines[line.invoice_id].append(line.model_dump())
    session.info[_PAGE_LINES] = lines


def _current_lines(session: Session, invoice_id: int) -> list[dict[str, Any]]:
    prefetched = session.info.get(_PAGE_LINES)
    if prefetched is not None and invoice_id in prefetched:
        return prefetched[invoice_id]
    return [line.model_dump() for line in session.exec(
        select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id).order_by(col(InvoiceLine.line_no)))]


def _new_invoice_row(ctx: RunContext, values: dict[str, Any], modified: datetime | None) -> dict[str, Any]:
    """The ledger row of an invoice new to us: `_apply_intacct` on a fresh invoice, as a plain dict."""
    row = {**values, "connection_id": ctx.connection_id, "origin": Origin.INTACCT, "sync_state": SyncState.SYNCED,
           "intacct_modified_at": modified, "voided_at": None, "reversed_in_intacct": False}
    if (row.get("intacct_state") or "").lower() == "reversed":
        row["reversed_in_intacct"], row["voided_at"] = True, utcnow()
    row.update(amounts.derive(SimpleNamespace(**row), ZERO))  # type: ignore[arg-type]
    return row


def _upsert_invoice(
    session: Session, ctx: RunContext, record: dict[str, Any], existing: Invoice | None,
    customers: dict[str, Customer], lines: list[dict[str, Any]] | None, outstanding_only: bool,
    by_number: dict[str, Invoice], created: list[tuple[Invoice, dict[str, Any], list[dict[str, Any]]]],
    adjustments: dict[int, Decimal],
) -> None:
    """Update a known invoice in place (with a version when it changed) or stage a new one in `created`."""
    required(record, "RECORDNO", "CUSTOMERID")
    key = record["RECORDNO"]
    label = f"Invoice {record.get('RECORDID') or key}"
    modified = modified_at(ctx, record)
    if existing is None:
        clash = by_number.get(_invoice_number(record))
        if clash is not None and not _is_ours(session, ctx, clash, key):
            ctx.item(session, record_type="invoice", label=label, action=ItemAction.FAILED, record_id=clash.id,
                     intacct_key=key, category="record",
                     message=f"Intacct has an invoice numbered {_invoice_number(record)} (key {key}) that is not the "
                             "ledger's invoice of that number. Renumber one of them (in Intacct, or ours before it "
                             "is sent); the next sync then reads it.")
            return
        existing = clash
    customer = customers.get(record["CUSTOMERID"])
    if customer is None and (existing is None or existing.origin == Origin.INTACCT):
        ctx.item(session, record_type="invoice", label=label, action=ItemAction.FAILED,
                 intacct_key=key, category="record",
                 message=f"Customer {record['CUSTOMERID']} could not be read from Intacct.")
        return
    values = invoice_values(record, customer.id if customer else existing.customer_id)  # type: ignore[union-attr,arg-type]
    if existing is None:
        if outstanding_only and values["intacct_total_due"] <= ZERO:
            return  # a paid or reversed invoice we never had: nothing outstanding to import
        row = _new_invoice_row(ctx, values, modified)
        staged = SimpleNamespace(id=None, **row)  # inserted in bulk with the page (sync_engine.sync.bulk)
        by_number[row["number"]] = staged  # type: ignore[assignment]
        created.append((staged, row, lines or []))  # type: ignore[arg-type]
        return
    linking = existing.connection_id != ctx.connection_id or existing.intacct_recordno != key
    if existing.origin == Origin.LEDGER:
        values = {k: values[k] for k in INVOICE_INTACCT_OWNED}
    elif lines is not None:
        values["lines"] = _lines_text(lines)
    current_lines = _current_lines(session, existing.id)  # type: ignore[arg-type]
    before = snapshot("invoice", {**existing.model_dump(), "lines": _lines_text(current_lines)})
    _apply_intacct(existing, values, adjustments.get(existing.id, ZERO))  # type: ignore[arg-type]
    after = snapshot("invoice", {**existing.model_dump(), "lines": values.get("lines", before.get("lines"))})
    changes = diff(before, after)
    existing.intacct_modified_at = modified or existing.intacct_modified_at
    existing.connection_id = ctx.connection_id
    if existing.sync_state != SyncState.SKIPPED and (linking or existing.origin == Origin.INTACCT):
        existing.sync_state, existing.sync_error = SyncState.SYNCED, None
    if "lines" in changes and lines is not None:
        _replace_lines(session, existing, lines)
    session.add(existing)
    read_again(session, ctx, record_type="invoice", record=existing, label=label, changes=changes, after=after,
               intacct_key=key)


def _header_unchanged(ctx: RunContext, invoice: Invoice, record: dict[str, Any]) -> bool:
    """Same stamp and same totals and state: the lines we hold are this version's."""
    try:
        same = (amount_of(record, "TOTALENTERED") == invoice.total
                and amount_of(record, "TOTALPAID") == invoice.intacct_total_paid
                and amount_of(record, "TOTALDUE") == invoice.intacct_total_due)
    except UnreadableRecord:
        return False
    return same and record.get("STATE") == invoice.intacct_state and seen_before(
        ctx, invoice, modified_at(ctx, record), record["RECORDNO"])


def _needing_lines(ctx: RunContext, records: list[dict[str, Any]], outstanding_only: bool) -> list[str]:
    """Keys of the invoices whose lines this page must read: new outstanding ones and changed ones from Intacct.

    Ledger invoices' lines are ours, and an invoice whose WHENMODIFIED we already hold has not changed."""
    keys = [r["RECORDNO"] for r in records if r.get("RECORDNO")]
    with read_session(ctx.engine) as session:  # no lock: this may run on the read-ahead thread during a write
        known = {i.intacct_recordno: i for i in session.exec(select(Invoice).where(
            Invoice.connection_id == ctx.connection_id, one_of(Invoice.intacct_recordno, keys)))}
        by_number = {i.number: i for i in session.exec(select(Invoice).where(
            one_of(Invoice.number, [_invoice_number(r) for r in records])))}
    wanted = []
    for record in records:
        key = record.get("RECORDNO")
        if not key:
            continue
        invoice = known.get(key) or by_number.get(_invoice_number(record))
        if invoice is None:
            try:
                outstanding = amount_of(record, "TOTALDUE") > ZERO
            except UnreadableRecord:
                outstanding = True  # read it: the record is then left out with its reason
            if outstanding or not outstanding_only:
                wanted.append(key)
        elif invoice.origin == Origin.INTACCT and not _header_unchanged(ctx, invoice, record):
            wanted.append(key)
    return wanted


@dataclass
class InvoicePageReads:
    """What a page of invoices needs from Intacct before its ledger transaction opens."""

    missing_customers: list[dict[str, Any]]
    lines: dict[str, list[dict[str, Any]]]
    bad_lines: dict[str, str]


def read_invoice_page(ctx: RunContext, records: list[dict[str, Any]], outstanding_only: bool) -> InvoicePageReads:
    """The customers and lines a page of invoices needs, read from Intacct (no ledger lock held; may run on the
    read-ahead thread while the previous page is written)."""
    customer_ids = {r["CUSTOMERID"] for r in records if r.get("CUSTOMERID")}
    missing_customers = ensure_customers(ctx, customer_ids)
    bad_lines: dict[str, str] = {}
    line_keys = _needing_lines(ctx, records, outstanding_only)
    lines = _fetch_lines(ctx, line_keys, bad_lines) if line_keys else {}
    return InvoicePageReads(missing_customers, lines, bad_lines)


def store_invoices(ctx: RunContext, records: list[dict[str, Any]], outstanding_only: bool,
                   reads: InvoicePageReads | None = None) -> None:
    """Upsert a page of invoices (reading the lines and customers it needs first, unless given)."""
    reads = reads or read_invoice_page(ctx, records, outstanding_only)
    customer_ids = {r["CUSTOMERID"] for r in records if r.get("CUSTOMERID")}
    keys = [r["RECORDNO"] for r in records if r.get("RECORDNO")]
    missing_customers, lines, bad_lines = reads.missing_customers, reads.lines, reads.bad_lines
    with ctx.ledger_session() as session:
        if missing_customers:
            # Read ahead of the previous page's commit, a customer may have arrived meanwhile: that is a no-op.
            store_customers(ctx, missing_customers, session)
            ctx.advance(-len(missing_customers))  # this step's progress counts invoices
        customers = customer_keys_by_intacct_id(session, ctx, customer_ids)
        existing = {i.intacct_recordno: i for i in session.exec(select(Invoice).where(
            Invoice.connection_id == ctx.connection_id, one_of(Invoice.intacct_recordno, keys)))}
        by_number = {i.number: i for i in session.exec(select(Invoice).where(
            one_of(Invoice.number, [_invoice_number(r) for r in records])))}
        ids = [i.id for i in [*existing.values(), *by_number.values()] if i.id is not None]
        adjustments = amounts.pending_adjustment(session, ids) if ids else {}
        prefetch_versions(session, "invoice", ids)
        _prefetch_lines(session, sorted(set(ids)))
        created: list[tuple[Any, dict[str, Any], list[dict[str, Any]]]] = []
        for record in records:
            try:
                if record.get("RECORDNO") in bad_lines:
                    raise UnreadableRecord(bad_lines[record["RECORDNO"]])
                _upsert_invoice(session, ctx, record, existing.get(record.get("RECORDNO")), customers,
                                lines.get(record.get("RECORDNO")), outstanding_only, by_number, created, adjustments)  # type: ignore[arg-type]
            except UnreadableRecord as exc:
                left_out(session, ctx, "invoice", record, exc)
        session.flush()
        _insert_created_invoices(session, ctx, created)
    ctx.advance(len(records))


def _insert_created_invoices(session: Session, ctx: RunContext,
                             created: list[tuple[Any, dict[str, Any], list[dict[str, Any]]]]) -> None:
    """The page's new invoices in four statements: the rows, their lines, first versions and run items."""
    if not created:
        return
    ids = insert_rows(session, Invoice, [row for _, row, _ in created], returning_ids=True)
    for (staged, _, _), new_id in zip(created, ids, strict=False):
        staged.id = new_id
    insert_rows(session, InvoiceLine, [{**line, "invoice_id": new_id} for (_, _, invoice_lines), new_id
                                            in zip(created, ids, strict=False) for line in invoice_lines],
                     returning_ids=False)
    bulk.first_versions(session, record_type="invoice", record_ids=ids, run_id=ctx.run_id)
    ctx.add_items(session,
                  [{"record_type": "invoice", "label": f"Invoice {row['number']}", "action": ItemAction.CREATED,
                             "record_id": new_id, "intacct_key": row["intacct_recordno"]}
                            for (_, row, _), new_id in zip(created, ids, strict=False)])


_store_invoices = store_invoices  # the name tests of unreadable records use


def _paid_changed(ctx: RunContext, records: list[dict[str, Any]]) -> list[str]:
    """Keys of the page's invoices whose TOTALPAID differs from what the ledger holds (new ones: paid at all)."""
    keys = [r["RECORDNO"] for r in records if r.get("RECORDNO")]
    with read_session(ctx.engine) as session:
        held = dict(session.exec(select(col(Invoice.intacct_recordno), col(Invoice.intacct_total_paid)).where(
            Invoice.connection_id == ctx.connection_id, one_of(Invoice.intacct_recordno, keys))).all())
    changed = []
    for record in records:
        try:
            paid, due = amount_of(record, "TOTALPAID"), amount_of(record, "TOTALDUE")
        except UnreadableRecord:
            continue
        key = record.get("RECORDNO")
        # a new invoice counts when it will be imported (outstanding) and something was paid on it already
        if key and ((held[key] or ZERO) != paid if key in held else (paid > ZERO and due > ZERO)):
            changed.append(key)
    return changed


def import_invoices(ctx: RunContext, *, incremental: bool,
                    after_page: Callable[[RunContext, list[str]], None] | None = None) -> None:
    """One-time: every outstanding invoice. Incremental: every invoice modified in the window, so payments
    and reversals made in Intacct reach invoices we already hold; new ones are imported while outstanding.
    `after_page` gets, after each page is stored, the keys of its invoices whose TOTALPAID moved (so the
    payments behind the move can be brought in with the page: sync_engine.sync.payments_import).

    A first one-time import sets the watermark (of invoices, and of payments, whose effect it read as
    TOTALPAID), so the next sync reads only what changed after it. A later one-time import leaves an existing
    watermark alone: it read outstanding invoices only, not the ones we hold that were paid meanwhile."""
    extra = None if incremental and windows.watermark(ctx, objects.AR_INVOICE) else filters.gt("TOTALDUE", 0)
    records, mark = windows.read_since(ctx, objects.AR_INVOICE, incremental=incremental, extra=extra,
                                       step="invoices")
    # Readers ahead of the writer: one pages through the invoices, two read pages' customers and lines at once,
    # so both of the connection's request slots stay busy while the previous page is written.
    pages = Prefetcher(batches(records, INVOICE_PAGE), ahead=2)
    reads = ordered_map(lambda batch: (batch, read_invoice_page(ctx, batch, True)), pages, workers=2)
    with pages, Prefetcher(reads, ahead=1) as ready:
        for batch, page_reads in ready:
            ctx.check_stop()
            moved = _paid_changed(ctx, batch) if after_page else []
            store_invoices(ctx, batch, outstanding_only=True, reads=page_reads)
            if moved:
                after_page(ctx, moved)  # type: ignore[misc]
            ctx.flush()
    windows.advance(ctx, objects.AR_INVOICE, mark, only_if_unset=not incremental)
    if not incremental:
        windows.advance(ctx, objects.AR_PAYMENT, mark, only_if_unset=True)
