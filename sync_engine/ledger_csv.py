"""Bringing invoices and payments into our ledger from CSV files (what finance staff upload).

Every row is checked before anything is saved; a problem is reported with its row number, column and a
plain reason, and the rows of the same invoice or payment are kept out together, so nothing half-arrives.
Good invoices and payments are saved; rejected rows come back as a CSV (with a `problem` column) the user
can fix and upload again. Uploading the same file twice creates nothing new: numbers already in the
ledger are reported as skipped. Saved records originate in the ledger and go to Intacct on the next sync.
"""
from __future__ import annotations

import csv
import io
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session, select

from storage.models import Customer, Invoice, Origin, Payment, SyncState
from sync_engine import intacct_lists
from sync_engine.ledger_entry import InvoiceEntry, LineEntry, PaymentEntry, add_invoice, add_payment
from sync_engine.payments import METHODS
from sync_engine.settings import get_connection

MAX_ROWS = 50_000
INVOICE_COLUMNS = ("invoice_number", "customer_number", "customer_name", "customer_email", "invoice_date",
                   "due_date", "currency", "description", "line_description", "quantity", "amount", "account_label")
INVOICE_REQUIRED = ("invoice_number", "customer_number", "invoice_date", "amount")
PAYMENT_COLUMNS = ("reference", "customer_number", "received_on", "amount", "method", "currency", "invoice_number",
                   "applied_amount")
PAYMENT_REQUIRED = ("reference", "customer_number", "received_on", "amount")


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (not CSV, no header, missing required columns, too large)."""


@dataclass
class RowProblem:
    row: int  # 1-based line number in the file (the header is line 1)
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class CsvImportResult:
    created: list[str] = field(default_factory=list)  # invoice numbers / payment references saved
    skipped: list[str] = field(default_factory=list)  # already in the ledger
    problems: list[RowProblem] = field(default_factory=list)
    rejected_csv: str = ""  # the rejected rows with a `problem` column, ready to fix and upload again
    warnings: list[str] = field(default_factory=list)  # accepted, but worth knowing (nothing checked against X)
    rows: list[dict[str, str]] = field(default_factory=list)  # the rows of what is (or, in a preview, would be) added
    preview: bool = False  # checked only: nothing was saved

    @property
    def ok(self) -> bool:
        return not self.problems


def _read(text: str | bytes, columns: tuple[str, ...], required: tuple[str, ...]) -> tuple[list[str], list[dict[str, str]]]:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CsvFormatError("The file is not UTF-8 text: save it as 'CSV UTF-8' and upload it again.") from exc
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames:
        raise CsvFormatError("The file is empty: it needs a header row and at least one data row.")
    header = [name.strip().lower().replace(" ", "_") for name in reader.fieldnames]
    missing = [c for c in required if c not in header]
    if missing:
        raise CsvFormatError(f"Missing column(s): {', '.join(missing)}. Expected columns: {', '.join(columns)}.")
    rows = []
    for raw in reader:
        if len(rows) >= MAX_ROWS:
            raise CsvFormatError(f"The file has more than {MAX_ROWS:,} rows: split it into smaller files.")
        values = {header[i]: (value or "").strip() for i, value in enumerate(raw.get(name) for name in reader.fieldnames)}
        if any(values.values()):
            values["_row"] = str(reader.line_num)
            rows.append(values)
    if not rows:
        raise CsvFormatError("The file has a header but no data rows.")
    return header, rows


def _date(value: str) -> date:
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"'{value}' is not a date: use YYYY-MM-DD (or MM/DD/YYYY)")


def _money(value: str) -> Decimal:
    cleaned = value.replace(",", "").replace("$", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{value}' is not an amount: use digits with a dot for cents, e.g. 1250.00") from None
    if not amount.is_finite():
        raise ValueError(f"'{value}' is not an amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"'{value}' has more than two decimals: amounts are in cents")
    return amount


def _quantity(value: str) -> Decimal:
    try:
        quantity = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a quantity") from None
    if not quantity.is_finite() or quantity <= 0:
        raise ValueError(f"'{value}' is not a positive quantity")
    return quantity


def _check(problems: list[RowProblem], row: dict[str, str], column: str, parse: Any, *, required: bool = True) -> Any:
    value = row.get(column, "")
    if not value:
        if required:
            problems.append(RowProblem(int(row["_row"]), column, value, f"{column} is required"))
        return None
    try:
        return parse(value)
    except ValueError as exc:
        problems.append(RowProblem(int(row["_row"]), column, value, str(exc)))
        return None


def _rejected(header: list[str], groups: list[tuple[str, list[dict[str, str]]]], problems: list[RowProblem]) -> str:
    """Every row of every rejected invoice or payment, each with its own problem or why it was held back."""
    by_row: dict[int, list[str]] = {}
    for problem in problems:
        by_row.setdefault(problem.row, []).append(problem.message)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*header, "problem"])
    for what, rows in groups:
        for row in rows:
            reason = "; ".join(by_row.get(int(row["_row"]), [])) or f"held back with the other rows of {what}"
            writer.writerow([row.get(c, "") for c in header] + [reason])
    return out.getvalue()


def _group(rows: list[dict[str, str]], key: Any) -> OrderedDict[Any, list[dict[str, str]]]:
    groups: OrderedDict[Any, list[dict[str, str]]] = OrderedDict()
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups


def _same_everywhere(problems: list[RowProblem], rows: list[dict[str, str]], columns: tuple[str, ...], what: str) -> None:
    for column in columns:
        values = {r.get(column, "") for r in rows if r.get(column, "")}
        if len(values) > 1:
            problems.append(RowProblem(int(rows[1]["_row"]), column, rows[1].get(column, ""),
                                       f"the rows of {what} disagree on {column} ({', '.join(sorted(values))})"))


def _customer(session: Session, number: str, name: str, email: str | None) -> Customer:
    customer = session.exec(select(Customer).where(Customer.number == number)).first()
    if customer is None:
        customer = Customer(number=number, name=name or number, email=email or None, origin=Origin.LEDGER,
                            sync_state=SyncState.NOT_SYNCED)
        session.add(customer)
        session.flush()
    return customer


def _account_labels(session: Session, result: CsvImportResult, rows: list[dict[str, str]]) -> int | None:
    """The connection whose cached account label list the rows are checked against (None: nothing to check)."""
    connection = get_connection(session=session)
    if connection is None or not any(row.get("account_label") for row in rows):
        return None
    if intacct_lists.last_refreshed(session=session, connection_id=connection.id) is None:
        result.warnings.append("Intacct's account labels have never been read, so the account_label column was not "
                               "checked: a label Intacct does not have fails at the sync. Refresh the lists from "
                               "Intacct on Account mapping to have them checked here.")
        return None
    return connection.id


def _finish(session: Session, result: CsvImportResult, *, preview: bool) -> None:
    if preview:
        session.rollback()  # every check ran against the real tables; a preview keeps none of it
        result.preview = True
    else:
        session.commit()


def import_invoices_csv(*, session: Session, data: str | bytes, actor: str, preview: bool = False) -> CsvImportResult:
    """Add ledger invoices from CSV (one row per line; rows sharing an invoice_number form one invoice).

    With `preview`, every check runs and the result lists what would be added, but nothing is saved."""
    header, rows = _read(data, INVOICE_COLUMNS, INVOICE_REQUIRED)
    result = CsvImportResult()
    labels_of = _account_labels(session, result, rows)
    rejected: list[tuple[str, list[dict[str, str]]]] = []
    existing = set(session.exec(select(Invoice.number).where(
        Invoice.number.in_({r["invoice_number"] for r in rows if r.get("invoice_number")}))))
    for number, group in _group(rows, lambda r: r.get("invoice_number", "")).items():
        problems: list[RowProblem] = []
        if not number:
            for row in group:
                problems.append(RowProblem(int(row["_row"]), "invoice_number", "", "invoice_number is required"))
            result.problems += problems
            rejected.append(("an invoice without a number", group))
            continue
        if number in existing:
            result.skipped.append(number)
            continue
        first = group[0]
        _same_everywhere(problems, group, ("customer_number", "invoice_date", "due_date", "currency"), f"invoice {number}")
        customer_number = _check(problems, first, "customer_number", str)
        invoice_date = _check(problems, first, "invoice_date", _date)
        due_date = _check(problems, first, "due_date", _date, required=False)
        currency = (first.get("currency") or "USD").upper()
        if len(currency) != 3 or not currency.isalpha():
            problems.append(RowProblem(int(first["_row"]), "currency", currency, "currency must be a 3-letter code like USD"))
        if invoice_date and due_date and due_date < invoice_date:
            problems.append(RowProblem(int(first["_row"]), "due_date", first["due_date"], "the due date is before the invoice date"))
        lines = []
        for position, row in enumerate(group, start=1):
            amount = _check(problems, row, "amount", _money)
            quantity = _check(problems, row, "quantity", _quantity, required=False) or Decimal("1")
            if amount is not None and amount == 0:
                problems.append(RowProblem(int(row["_row"]), "amount", row["amount"], "a line amount cannot be zero"))
            if labels_of is not None:
                issue = intacct_lists.problem(session=session, connection_id=labels_of, list_name="account_labels",
                                              value=row.get("account_label") or None)
                if issue:
                    problems.append(RowProblem(int(row["_row"]), "account_label", row["account_label"],
                                               issue + " Pick one from the list on Account mapping."))
            lines.append((position, row, amount, quantity))
        customer = session.exec(select(Customer).where(Customer.number == customer_number)).first() if customer_number else None
        if customer_number and customer is None and not first.get("customer_name"):
            problems.append(RowProblem(int(first["_row"]), "customer_name", "",
                                       f"customer {customer_number} is new to the ledger: give its customer_name"))
        if problems:
            result.problems += problems
            rejected.append((f"invoice {number}", group))
            continue
        customer = customer or _customer(session, customer_number, first.get("customer_name", ""), first.get("customer_email"))
        add_invoice(session=session, actor=actor, checked=True, entry=InvoiceEntry(
            number=number, customer_id=customer.id, invoice_date=invoice_date, due_date=due_date, currency=currency,
            description=first.get("description") or None,
            lines=[LineEntry(amount=amount, quantity=quantity, description=row.get("line_description") or None,
                             account_label=row.get("account_label") or None) for _, row, amount, quantity in lines]))
        existing.add(number)
        result.created.append(number)
        result.rows += group
    _finish(session, result, preview=preview)
    result.rejected_csv = _rejected(header, rejected, result.problems) if rejected else ""
    return result


def import_payments_csv(*, session: Session, data: str | bytes, actor: str, preview: bool = False) -> CsvImportResult:
    """Add received payments from CSV; rows sharing customer_number + reference are one payment applied to
    several invoices. Applied amounts reduce the invoices' balances in the ledger. With `preview`, nothing is
    saved."""
    header, rows = _read(data, PAYMENT_COLUMNS, PAYMENT_REQUIRED)
    result = CsvImportResult()
    rejected: list[tuple[str, list[dict[str, str]]]] = []
    for (customer_number, reference), group in _group(rows, lambda r: (r.get("customer_number", ""), r.get("reference", ""))).items():
        problems: list[RowProblem] = []
        first = group[0]
        label = f"{customer_number}/{reference}"
        _same_everywhere(problems, group, ("received_on", "amount", "method", "currency"), f"payment {reference}")
        for column in ("customer_number", "reference"):
            if not first.get(column):
                problems.append(RowProblem(int(first["_row"]), column, "", f"{column} is required"))
        received_on = _check(problems, first, "received_on", _date)
        amount = _check(problems, first, "amount", _money)
        if amount is not None and amount <= 0:
            problems.append(RowProblem(int(first["_row"]), "amount", first["amount"], "a payment amount must be positive"))
        method = first.get("method") or "Printed Check"
        if method not in METHODS:
            problems.append(RowProblem(int(first["_row"]), "method", method, f"method must be one of: {', '.join(METHODS)}"))
        customer = session.exec(select(Customer).where(Customer.number == customer_number)).first() if customer_number else None
        if customer_number and customer is None:
            problems.append(RowProblem(int(first["_row"]), "customer_number", customer_number,
                                       f"customer {customer_number} is not in the ledger"))
        if customer is not None and reference and session.exec(select(Payment).where(
                Payment.customer_id == customer.id, Payment.reference == reference)).first() is not None:
            result.skipped.append(label)
            continue
        applications: dict[int, tuple[Invoice, Decimal]] = {}
        for row in group:
            if not row.get("invoice_number"):
                continue
            invoice = session.exec(select(Invoice).where(Invoice.number == row["invoice_number"])).first()
            applied = _check(problems, row, "applied_amount", _money, required=False) or amount
            if invoice is None:
                problems.append(RowProblem(int(row["_row"]), "invoice_number", row["invoice_number"], "no such invoice in the ledger"))
            elif customer is not None and invoice.customer_id != customer.id:
                problems.append(RowProblem(int(row["_row"]), "invoice_number", row["invoice_number"],
                                           f"invoice {invoice.number} belongs to another customer"))
            elif applied is not None:
                previous = applications.get(invoice.id, (invoice, Decimal("0")))[1]  # type: ignore[index]
                if previous + applied > invoice.balance:
                    problems.append(RowProblem(int(row["_row"]), "applied_amount", row.get("applied_amount") or str(applied),
                                               f"more than invoice {invoice.number}'s open balance of {invoice.balance:,.2f}"))
                applications[invoice.id] = (invoice, previous + applied)  # type: ignore[index]
        if amount is not None and sum((a for _, a in applications.values()), Decimal("0")) > amount:
            problems.append(RowProblem(int(first["_row"]), "applied_amount", "",
                                       f"the amounts applied add up to more than the payment of {amount:,.2f}"))
        if problems:
            result.problems += problems
            rejected.append((f"payment {reference}", group))
            continue
        add_payment(session=session, actor=actor, checked=True, entry=PaymentEntry(
            customer_id=customer.id, reference=reference, received_on=received_on, amount=amount,  # type: ignore[union-attr]
            method=method, currency=(first.get("currency") or "USD").upper(),
            applications=[(invoice.id, applied) for invoice, applied in applications.values()]))  # type: ignore[misc]
        result.created.append(label)
        result.rows += group
    _finish(session, result, preview=preview)
    result.rejected_csv = _rejected(header, rejected, result.problems) if rejected else ""
    return result
