"""Ledger invoices (and the customers they need) written to Intacct.

Only invoices that originate in our ledger are written; imported ones never go back. Lines post to the
mapping's item account label unless a line names its own; location and department come from the
mapping. The mapping is checked against Intacct once per run before any write, so a bad label fails
each invoice with a clear message instead of a string of rejections. A voided invoice that is already in
Intacct is reversed there, never deleted; posted invoices are never edited.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from storage.db import write_session
from storage.models import Customer, Invoice, InvoiceLine, ItemAction, Origin, Payment, SyncState
from storage.types import utcnow
from sync_engine import deletions, objects
from sync_engine.intacct import filters, functions
from sync_engine.journal import WriteSpec, write_all
from sync_engine.payments import PENDING_PAYMENT
from sync_engine.run_context import RunContext
from sync_engine.write_rules import item_overrides, resolve_line_account


def _exists(ctx: RunContext, obj: str, id_field: str, values: set[str]) -> dict[str, bool]:
    """For each value: does it exist in Intacct and is it active?"""
    found: dict[str, bool] = {}
    values = {v for v in values if v}
    if not values:
        return found
    for record in ctx.client.iter_records(obj, [id_field, "STATUS"], filter=filters.in_(id_field, sorted(values))):
        found[record[id_field]] = (record.get("STATUS") or "active").lower() in ("active", "t", "true")
    return found


def mapping_problems(ctx: RunContext, labels: set[str]) -> dict[str, str]:
    """Problems with the account labels, location and department the writes will use, keyed by value."""
    problems: dict[str, str] = {}
    checks = [
        ("ARACCOUNTLABEL", "ACCOUNTLABEL", labels, "Account label"),
        ("LOCATION", "LOCATIONID", {ctx.mapping.location_id} if ctx.mapping.location_id else set(), "Location"),
        ("DEPARTMENT", "DEPARTMENTID", {ctx.mapping.department_id} if ctx.mapping.department_id else set(), "Department"),
    ]
    for obj, id_field, values, what in checks:
        state = _exists(ctx, obj, id_field, values)
        for value in values:
            if value not in state:
                problems[value] = f"{what} '{value}' does not exist in Intacct"
            elif not state[value]:
                problems[value] = f"{what} '{value}' is inactive in Intacct"
    return problems


# --- customers ------------------------------------------------------------------------------------------


def _customer_payload(customer: Customer) -> dict[str, Any]:
    mail = {"ADDRESS1": customer.address1, "CITY": customer.city, "STATE": customer.state,
            "ZIP": customer.postal_code, "COUNTRY": customer.country}
    contact: dict[str, Any] = {"PRINTAS": customer.name, "EMAIL1": customer.email, "PHONE1": customer.phone}
    if any(mail.values()):
        contact["MAILADDRESS"] = mail
    return {"CUSTOMERID": customer.number, "NAME": customer.name, "DISPLAYCONTACT": contact,
            "TERMNAME": customer.payment_terms, "CURRENCY": customer.currency,
            "STATUS": "active" if customer.active else "inactive"}


def _customer_spec(ctx: RunContext, customer: Customer) -> WriteSpec:
    payload = _customer_payload(customer)
    customer_id = customer.id

    def lookup() -> str | None:
        found = list(ctx.client.iter_records("CUSTOMER", ["RECORDNO", "CUSTOMERID"],
                                             filter=filters.eq("CUSTOMERID", payload["CUSTOMERID"]), page_size=10))
        return found[0]["RECORDNO"] if found else None

    return WriteSpec(operation="create_customer", model=Customer, record_type="customer", record_id=customer_id,  # type: ignore[arg-type]
                     label=f"Customer {customer.number}", payload=payload,
                     build=lambda controlid: functions.create("CUSTOMER", payload, controlid=controlid),
                     lookup=lookup,
                     confirmed_values=lambda key: {"intacct_recordno": key, "intacct_customer_id": customer.number})


def link_existing_customers(ctx: RunContext, customers: list[Customer]) -> list[Customer]:
    """Link ledger customers whose number Intacct already has (e.g. customers never imported); return the rest."""
    found: dict[str, str] = {}
    for start in range(0, len(customers), 500):
        numbers = [c.number for c in customers[start:start + 500]]
        for record in ctx.client.iter_records("CUSTOMER", ["RECORDNO", "CUSTOMERID"],
                                              filter=filters.in_("CUSTOMERID", numbers)):
            found[record["CUSTOMERID"]] = record["RECORDNO"]
    if found and not ctx.preview:
        with write_session(ctx.engine) as session:
            for customer in customers:
                if customer.number in found:
                    row = session.get(Customer, customer.id)
                    assert row is not None
                    row.intacct_customer_id, row.intacct_recordno = row.number, found[row.number]
                    row.sync_state, row.sync_error, row.updated_at = SyncState.SYNCED, None, utcnow()
                    session.add(row)
    return [c for c in customers if c.number not in found]


# --- invoices -------------------------------------------------------------------------------------------


# Ledger invoices the next sync would create: the one definition the writes and the mapping page's summary share.
PENDING_INVOICE = (Invoice.origin == Origin.LEDGER, Invoice.intacct_recordno.is_(None),
                   Invoice.status.notin_(["draft", "voided"]), Invoice.sync_state != SyncState.SKIPPED)


def pending_invoices(*, session: Session) -> list[Invoice]:
    return list(session.exec(select(Invoice).where(*PENDING_INVOICE).order_by(Invoice.id)))


def _invoice_spec(ctx: RunContext, invoice: Invoice, customer: Customer, lines: list[InvoiceLine]) -> WriteSpec:
    mapping = ctx.mapping
    intacct_lines = [
        functions.InvoiceLine(amount=line.amount, account_label=line.account_label or mapping.item_account_label,
                              memo=line.description, location_id=line.location_id or mapping.location_id,
                              department_id=line.department_id or mapping.department_id)
        for line in lines
    ]
    payload = {"customer": customer.number, "number": invoice.number, "date": invoice.invoice_date,
               "due": invoice.due_date, "lines": [(str(l.amount), l.account_label) for l in intacct_lines]}
    invoice_id = invoice.id

    def build(controlid: str) -> functions.Function:
        return functions.create_invoice(
            customer_id=customer.number, invoice_no=invoice.number, date_created=invoice.invoice_date,
            date_due=invoice.due_date or invoice.invoice_date, description=invoice.description,
            po_number=invoice.po_number, currency=invoice.currency, lines=intacct_lines, controlid=controlid)

    def lookup() -> str | None:
        found = list(ctx.client.iter_records("ARINVOICE", ["RECORDNO", "RECORDID", "CUSTOMERID"], filter=filters.and_(
            filters.eq("RECORDID", invoice.number), filters.eq("CUSTOMERID", customer.number)), page_size=10))
        return found[0]["RECORDNO"] if found else None

    return WriteSpec(operation="create_invoice", model=Invoice, record_type="invoice", record_id=invoice_id,  # type: ignore[arg-type]
                     label=f"Invoice {invoice.number}", payload=payload, build=build, lookup=lookup,
                     confirmed_values=lambda key: {"intacct_recordno": key, "intacct_state": "Posted",
                                                   "intacct_total_paid": Decimal("0.00"), "intacct_total_due": invoice.total})


def _first_problem(ctx: RunContext, lines: list[InvoiceLine], problems: dict[str, str]) -> str | None:
    """The first mapping problem this invoice would hit, with where to fix it."""
    mapped = (ctx.mapping.item_account_label, ctx.mapping.location_id, ctx.mapping.department_id)
    for value in mapped:
        if value and value in problems and (value != ctx.mapping.item_account_label
                                            or any(not line.account_label for line in lines)):
            return f"{problems[value]}: fix it in Account mapping."
    for line in lines:
        if line.account_label and line.account_label in problems:
            return (f"{problems[line.account_label]}: line {line.line_no} of this invoice names it; correct the "
                    "line's account label, or clear it to use the mapped one.")
    return None


def _fail_without_call(ctx: RunContext, invoice: Invoice, message: str, category: str = "validation") -> None:
    with write_session(ctx.engine) as session:
        row = session.get(Invoice, invoice.id)
        assert row is not None
        row.sync_state, row.sync_error = SyncState.FAILED, message
        session.add(row)
        ctx.item(session, record_type="invoice", label=f"Invoice {invoice.number}", action=ItemAction.FAILED,
                 record_id=invoice.id, category=category, message=message)


def _wait_without_call(ctx: RunContext, invoice: Invoice, message: str) -> None:
    with write_session(ctx.engine) as session:
        row = session.get(Invoice, invoice.id)
        assert row is not None
        row.sync_error = message
        session.add(row)
        ctx.item(session, record_type="invoice", label=f"Invoice {invoice.number}", action=ItemAction.SKIPPED,
                 record_id=invoice.id, message=message)


def write_invoices(ctx: RunContext) -> None:
    """Create in Intacct every ledger invoice not yet there (customers first), then reverse voided ones."""
    with Session(ctx.engine) as session:
        invoices = pending_invoices(session=session)
        if (chosen := ctx.only("invoice")) is not None:
            invoices = [inv for inv in invoices if inv.id in chosen]
        lines_by_invoice: dict[int | None, list[InvoiceLine]] = {inv.id: [] for inv in invoices}
        ids = [inv.id for inv in invoices]
        for start in range(0, len(ids), 900):  # one query per 900 invoices, not one per invoice
            for line in session.exec(select(InvoiceLine).where(col(InvoiceLine.invoice_id).in_(ids[start:start + 900]))
                                     .order_by(col(InvoiceLine.invoice_id), col(InvoiceLine.line_no))):
                lines_by_invoice[line.invoice_id].append(line)
        customers = {c.id: c for c in session.exec(select(Customer).where(
            Customer.id.in_({inv.customer_id for inv in invoices})))}
        overrides = item_overrides(session=session, connection_id=ctx.connection_id)
    for lines in lines_by_invoice.values():  # a line without its own label takes its item's override (not saved)
        for line in lines:
            if not line.account_label and line.item_code in overrides:
                line.account_label = resolve_line_account(line_label=None, item_code=line.item_code,
                                                          overrides=overrides, mapping=ctx.mapping)
    ctx.begin_step("invoice_writes", total=len(invoices))
    if invoices:
        labels = {line.account_label or ctx.mapping.item_account_label or "" for lines in lines_by_invoice.values()
                  for line in lines}
        problems = mapping_problems(ctx, {label for label in labels if label})
        ready: list[Invoice] = []
        for invoice in invoices:
            lines = lines_by_invoice[invoice.id]
            customer = customers[invoice.customer_id]
            if customer.sync_state == SyncState.SKIPPED and not customer.intacct_customer_id:
                # Sending the invoice would create the customer someone chose to keep out of Intacct.
                _wait_without_call(ctx, invoice, f"Customer {customer.number} is marked don't sync: the invoice "
                                                 "waits until someone chooses Sync again on the customer.")
                continue
            if not lines:
                _fail_without_call(ctx, invoice, "The invoice has no lines: add at least one line.")
                continue
            missing_label = [line.line_no for line in lines if not (line.account_label or ctx.mapping.item_account_label)]
            if missing_label:
                _fail_without_call(ctx, invoice, "No item account label is mapped: set one in Account mapping.")
                continue
            problem = _first_problem(ctx, lines, problems)
            if problem:
                _fail_without_call(ctx, invoice, problem)
                continue
            ready.append(invoice)
        ctx.advance(len(invoices) - len(ready))
        needing_customer = [customers[inv.customer_id] for inv in ready if not customers[inv.customer_id].intacct_customer_id]
        unique_customers = list({c.id: c for c in needing_customer}.values())
        if unique_customers:
            unique_customers = link_existing_customers(ctx, unique_customers)
            write_all(ctx, [_customer_spec(ctx, c) for c in unique_customers])
            with Session(ctx.engine) as session:
                customers = {c.id: c for c in session.exec(select(Customer).where(
                    Customer.id.in_({inv.customer_id for inv in ready})))}
        specs = []
        for invoice in ready:
            customer = customers[invoice.customer_id]
            if not customer.intacct_customer_id and not ctx.preview:
                _fail_without_call(ctx, invoice, f"Customer {customer.number} could not be created in Intacct "
                                   f"({customer.sync_error or 'see the customer row'}); the invoice waits for it.",
                                   category="record")
                continue
            specs.append(_invoice_spec(ctx, invoice, customer, lines_by_invoice[invoice.id]))
        write_all(ctx, specs)
    if ctx.only("invoice") is None:
        reverse_voided_invoices(ctx)


def _reverse_spec(ctx: RunContext, invoice: Invoice) -> WriteSpec:
    invoice_id, key = invoice.id, invoice.intacct_recordno
    voided_on = (invoice.voided_at or utcnow()).date()

    def lookup() -> str | None:
        found = ctx.client.read("ARINVOICE", [key], ["RECORDNO", "STATE"])
        return key if found and (found[0].get("STATE") or "").lower() == "reversed" else None

    return WriteSpec(
        operation="reverse_invoice", model=Invoice, record_type="invoice", record_id=invoice_id,  # type: ignore[arg-type]
        label=f"Invoice {invoice.number} (void)",
        payload={"key": key, "date": voided_on},
        build=lambda controlid: functions.reverse_invoice(key, date_reversed=max(voided_on, invoice.invoice_date),
                                                          description="Voided in the A/R ledger", controlid=controlid),
        lookup=lookup, confirmed_values=lambda _key: {"reversed_in_intacct": True, "intacct_state": "Reversed"},
        failure_prefix="Could not reverse in Intacct: ", created_action=ItemAction.UPDATED)


def reverse_voided_invoices(ctx: RunContext) -> None:
    with Session(ctx.engine) as session:
        voided = list(session.exec(select(Invoice).where(
            Invoice.origin == Origin.LEDGER, Invoice.status == "voided", Invoice.intacct_recordno.is_not(None),
            Invoice.reversed_in_intacct.is_(False), Invoice.sync_state != SyncState.SKIPPED)))
    voided = deletions.still_to_reverse(ctx, objects.AR_INVOICE, voided)
    if voided:
        write_all(ctx, [_reverse_spec(ctx, invoice) for invoice in voided])


def pending_write_summary(*, session: Session, item_account_label: str | None) -> dict[str, int]:
    """What the next sync would write and where its lines post: shown beside the mapping before it is changed."""
    def count(query: Any) -> int:
        return int(session.exec(query).one())

    lines = select(func.count()).select_from(InvoiceLine).join(Invoice, Invoice.id == InvoiceLine.invoice_id).where(
        *PENDING_INVOICE)
    own = (InvoiceLine.account_label.is_not(None), InvoiceLine.account_label != "")
    if item_account_label:
        own += (InvoiceLine.account_label != item_account_label,)
    all_lines, own_label = count(lines), count(lines.where(*own))
    return {"invoices": count(select(func.count()).select_from(Invoice).where(*PENDING_INVOICE)),
            "lines_on_mapped_label": all_lines - own_label, "lines_with_own_label": own_label,
            "payments": count(select(func.count()).select_from(Payment).where(*PENDING_PAYMENT))}
