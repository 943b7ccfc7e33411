"""Invoices and payments entered into our ledger, from a console form or a CSV row: one way in for both.

`check_invoice` / `check_payment` return every problem a person can fix, keyed by the field it is about
(nothing is saved while there is one); `add_invoice` / `add_payment` save a checked entry with its first
RecordVersion. Account labels are checked against the list last read from Intacct (`intacct_lists`). Saved
records originate in the ledger and are written to Intacct at the next sync.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from storage import bulk
from storage.models import (Customer, Invoice, InvoiceLine, Origin, Payment, PaymentApplication, RecordVersion,
                            SyncState)
from storage.types import utcnow
from sync_engine import amounts, intacct_lists
from sync_engine.ledger import diff, record_version, snapshot
from sync_engine.payments import METHODS

CENT = Decimal("0.01")


class EntryError(ValueError):
    """The entry was not saved; `problems` maps each field to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass
class LineEntry:
    amount: Decimal | None = None  # quantity × unit price when left empty
    description: str | None = None
    quantity: Decimal = Decimal("1")
    unit_price: Decimal | None = None
    item_code: str | None = None
    account_label: str | None = None  # empty: the item's override, else the mapping's label


@dataclass
class InvoiceEntry:
    number: str
    customer_id: int | None
    invoice_date: date | None
    due_date: date | None = None
    currency: str = "USD"
    description: str | None = None
    lines: list[LineEntry] = field(default_factory=list)


@dataclass
class PaymentEntry:
    customer_id: int | None
    reference: str
    received_on: date | None
    amount: Decimal | None
    method: str = "Printed Check"
    currency: str = "USD"
    applications: list[tuple[int, Decimal]] = field(default_factory=list)  # (invoice id, amount applied)


def _line_amount(line: LineEntry) -> Decimal | None:
    if line.amount is not None:
        return line.amount
    if line.unit_price is None:
        return None
    return (line.quantity * line.unit_price).quantize(CENT)


def check_invoice(*, session: Session, entry: InvoiceEntry, connection_id: int | None) -> dict[str, str]:
    """Every problem with a new invoice, by field ('number', 'customer', 'lines.2.account_label', …)."""
    problems: dict[str, str] = {}
    number = (entry.number or "").strip()
    if not number:
        problems["number"] = "Give the invoice a number."
    elif session.exec(select(Invoice.id).where(Invoice.number == number)).first() is not None:
        problems["number"] = f"Invoice {number} is already in the ledger: choose another number."
    if entry.customer_id is None or session.get(Customer, entry.customer_id) is None:
        problems["customer"] = "Choose the customer."
    if entry.invoice_date is None:
        problems["invoice_date"] = "Give the invoice date."
    elif entry.due_date is not None and entry.due_date < entry.invoice_date:
        problems["due_date"] = "The due date is before the invoice date."
    currency = (entry.currency or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        problems["currency"] = "The currency is a 3-letter code like USD."
    if not entry.lines:
        problems["lines"] = "Add at least one line."
    for n, line in enumerate(entry.lines, start=1):
        amount = _line_amount(line)
        if line.quantity is None or line.quantity <= 0:
            problems[f"lines.{n}.quantity"] = f"Line {n}: the quantity must be positive."
        if amount is None:
            problems[f"lines.{n}.amount"] = f"Line {n}: give a price."
        elif amount == 0:
            problems[f"lines.{n}.amount"] = f"Line {n}: the amount cannot be zero."
        elif amount != amount.quantize(CENT):
            problems[f"lines.{n}.amount"] = f"Line {n}: amounts are in cents (two decimals at most)."
        if connection_id is not None:
            issue = intacct_lists.problem(session=session, connection_id=connection_id, list_name="account_labels",
                                          value=line.account_label)
            if issue:
                problems[f"lines.{n}.account_label"] = f"Line {n}: {issue}"
    return problems


def add_invoice(*, session: Session, entry: InvoiceEntry, actor: str, connection_id: int | None = None,
                checked: bool = False) -> Invoice:
    """Save a new ledger invoice (checked first unless the caller already did); not committed."""
    if not checked:
        problems = check_invoice(session=session, entry=entry, connection_id=connection_id)
        if problems:
            raise EntryError(problems)
    amounts = [_line_amount(line) or Decimal("0") for line in entry.lines]
    total = sum(amounts, Decimal("0"))
    invoice = Invoice(number=entry.number.strip(), customer_id=entry.customer_id,  # type: ignore[arg-type]
                      invoice_date=entry.invoice_date,  # type: ignore[arg-type]
                      due_date=entry.due_date, currency=(entry.currency or "USD").upper(),
                      description=entry.description or None, total=total, balance=total, status="open",
                      origin=Origin.LEDGER, sync_state=SyncState.NOT_SYNCED)
    session.add(invoice)
    session.flush()
    for position, (line, amount) in enumerate(zip(entry.lines, amounts), start=1):
        unit_price = line.unit_price if line.unit_price is not None else (amount / line.quantity).quantize(CENT)
        session.add(InvoiceLine(invoice_id=invoice.id, line_no=position,  # type: ignore[arg-type]
                                description=line.description or None, quantity=line.quantity, unit_price=unit_price,
                                amount=amount, item_code=line.item_code or None,
                                account_label=line.account_label or None))
    snap = snapshot("invoice", invoice.model_dump())
    record_version(session=session, record_type="invoice", record_id=invoice.id, run_id=None, source="edit",  # type: ignore[arg-type]
                   changed_by=actor, changes={k: [None, v] for k, v in snap.items() if v is not None},
                   snapshot_values=snap, new_record=True)
    return invoice


def add_invoices(*, session: Session, entries: Sequence[InvoiceEntry], actor: str) -> list[int]:
    """Save many checked invoices at once (CSV uploads): the same rows and first versions as add_invoice, in bulk
    inserts (storage.bulk) instead of one flush per invoice; their ids in order. Not committed."""
    invoices, totals = [], []
    for entry in entries:
        amounts = [_line_amount(line) or Decimal("0") for line in entry.lines]
        total = sum(amounts, Decimal("0"))
        totals.append(amounts)
        invoices.append({"number": entry.number.strip(), "customer_id": entry.customer_id,
                         "invoice_date": entry.invoice_date, "due_date": entry.due_date,
                         "currency": (entry.currency or "USD").upper(), "description": entry.description or None,
                         "total": total, "balance": total, "status": "open", "origin": Origin.LEDGER,
                         "sync_state": SyncState.NOT_SYNCED})
    bulk.insert_rows(session, Invoice, invoices)
    by_number = bulk.ids_by(session, Invoice.number, (i["number"] for i in invoices), Invoice.id)
    ids = [by_number[i["number"]] for i in invoices]
    lines, versions = [], []
    now = utcnow()
    template = bulk.defaults(Invoice)
    for entry, values, amounts, invoice_id in zip(entries, invoices, totals, ids):
        for position, (line, amount) in enumerate(zip(entry.lines, amounts), start=1):
            unit_price = line.unit_price if line.unit_price is not None else (amount / line.quantity).quantize(CENT)
            lines.append({"invoice_id": invoice_id, "line_no": position, "description": line.description or None,
                          "quantity": line.quantity, "unit_price": unit_price, "amount": amount,
                          "item_code": line.item_code or None, "account_label": line.account_label or None})
        snap = snapshot("invoice", {**template, **values, "id": invoice_id})
        versions.append({"record_type": "invoice", "record_id": invoice_id, "version": 1, "run_id": None,
                         "source": "edit", "changed_at": now, "changed_by": actor, "snapshot": snap,
                         "changes": {k: [None, v] for k, v in snap.items() if v is not None}})
    bulk.insert_rows(session, InvoiceLine, lines)
    bulk.insert_rows(session, RecordVersion, versions)
    return ids


def open_invoices(*, session: Session, customer_id: int) -> list[Invoice]:
    """Invoices of this customer a payment can be applied to (open balance, not draft or voided), oldest first."""
    return list(session.exec(select(Invoice).where(
        Invoice.customer_id == customer_id, Invoice.balance > 0, Invoice.status.notin_(["draft", "voided"]))
        .order_by(Invoice.invoice_date, Invoice.id)))


def check_payment(*, session: Session, entry: PaymentEntry) -> dict[str, str]:
    """Every problem with a new payment, by field ('customer', 'amount', 'applications.INV-1', …)."""
    problems: dict[str, str] = {}
    customer = session.get(Customer, entry.customer_id) if entry.customer_id is not None else None
    if customer is None:
        problems["customer"] = "Choose the customer who paid."
    reference = (entry.reference or "").strip()
    if not reference:
        problems["reference"] = "Give the payment's reference (check number, wire reference…)."
    elif customer is not None and session.exec(select(Payment.id).where(
            Payment.customer_id == customer.id, Payment.reference == reference)).first() is not None:
        problems["reference"] = f"{customer.number} already has a payment {reference} in the ledger."
    if entry.received_on is None:
        problems["received_on"] = "Give the date the payment was received."
    if entry.amount is None or entry.amount <= 0:
        problems["amount"] = "The amount must be positive."
    elif entry.amount != entry.amount.quantize(CENT):
        problems["amount"] = "Amounts are in cents (two decimals at most)."
    if entry.method not in METHODS:
        problems["method"] = f"Choose one of Intacct's payment methods: {', '.join(METHODS)}."
    applied = Decimal("0")
    for invoice_id, amount in entry.applications:
        invoice = session.get(Invoice, invoice_id)
        if invoice is None:
            problems[f"applications.{invoice_id}"] = "That invoice is no longer in the ledger."
            continue
        if customer is not None and invoice.customer_id != customer.id:
            problems[f"applications.{invoice.number}"] = f"Invoice {invoice.number} belongs to another customer."
        elif amount <= 0:
            problems[f"applications.{invoice.number}"] = f"Apply a positive amount to invoice {invoice.number}."
        elif amount > invoice.balance:
            problems[f"applications.{invoice.number}"] = (
                f"More than invoice {invoice.number}'s open balance of {invoice.balance:,.2f}.")
        applied += amount
    if entry.amount is not None and applied > entry.amount:
        problems["applications"] = f"The amounts applied ({applied:,.2f}) add up to more than the payment."
    return problems


def add_payment(*, session: Session, entry: PaymentEntry, actor: str, checked: bool = False) -> Payment:
    """Save a received payment applied to its invoices (their balances go down); not committed."""
    if not checked:
        problems = check_payment(session=session, entry=entry)
        if problems:
            raise EntryError(problems)
    payment = Payment(customer_id=entry.customer_id, reference=entry.reference.strip(),  # type: ignore[arg-type]
                      received_on=entry.received_on, amount=entry.amount,  # type: ignore[arg-type]
                      method=entry.method, currency=(entry.currency or "USD").upper(), origin=Origin.LEDGER,
                      sync_state=SyncState.NOT_SYNCED)
    session.add(payment)
    session.flush()
    for invoice_id, applied in entry.applications:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        session.add(PaymentApplication(payment_id=payment.id, invoice_id=invoice.id, amount=applied))  # type: ignore[arg-type]
    refresh_invoice_amounts(session, [invoice_id for invoice_id, _ in entry.applications], actor)
    snap = snapshot("payment", payment.model_dump())
    record_version(session=session, record_type="payment", record_id=payment.id, run_id=None, source="edit",  # type: ignore[arg-type]
                   changed_by=actor, changes={k: [None, v] for k, v in snap.items() if v is not None},
                   snapshot_values=snap, new_record=True)
    return payment


def refresh_invoice_amounts(session: Session, invoice_ids: Sequence[int], actor: str) -> None:
    """After payment applications changed: re-derive these invoices' paid amount, balance and status (see
    `amounts`), with a version of each change."""
    invoices = [session.get(Invoice, i) for i in invoice_ids]
    before = {inv.id: snapshot("invoice", inv.model_dump()) for inv in invoices if inv is not None}
    session.flush()
    amounts.refresh_invoices(session, list(before))  # type: ignore[arg-type]
    for invoice in invoices:
        if invoice is None:
            continue
        after = snapshot("invoice", invoice.model_dump())
        changes = diff(before[invoice.id], after)
        if changes:
            record_version(session=session, record_type="invoice", record_id=invoice.id, run_id=None,  # type: ignore[arg-type]
                           source="edit", changed_by=actor, changes=changes, snapshot_values=after)


def customers_for_picker(*, session: Session) -> Sequence[Customer]:
    """Active customers by name, for the customer select box."""
    return session.exec(select(Customer).where(Customer.active == True).order_by(Customer.name)).all()  # noqa: E712
