"""Bringing invoices and payments into our ledger from CSV files (what finance staff upload).

Every row is checked before anything is saved; a problem is reported with its row number, column and a
plain reason, and the rows of the same invoice or payment are kept out together, so nothing half-arrives.
Good invoices and payments are saved; rejected rows come back as a CSV (with a `problem` column) the user
can fix and upload again. Uploading the same file twice creates nothing new: numbers already in the
ledger are reported as skipped. Saved records originate in the ledger and go to Intacct on the next sync.

The file format, checked strictly so a misread value never lands silently:
- at most `CONSOLE_UPLOAD_MAX_MB` megabytes (default 20; checked before anything is parsed) and MAX_ROWS rows;
  read as a stream (never decoded whole), UTF-8, comma, semicolon or tab separated, a header row first;
- amounts: digits, an optional minus sign, an optional dot and one or two decimals, optionally commas between
  groups of three digits (`1250`, `-1250.5`, `1,250.00`); nothing else (`1.000,00`, `1,00`, `1e3`, `$12` are
  refused with a message), at most MAX_AMOUNT; quantities likewise with up to four decimals;
- dates: YYYY-MM-DD only;
- every value longer than MAX_FIELD characters is a problem of its row; invisible characters (zero-width spaces,
  byte-order marks) are removed from every value.

Customers and invoices are checked against the ledger and then against Intacct itself (`intacct_lookup`, one
short query per 500 numbers the ledger lacks): a number neither has is a row error; one Intacct has but the ledger
has not imported yet is a row error that says to import first (`RowProblem.fix` names the screen), since adding
the row would create a second customer in Intacct or pay an invoice the ledger cannot see. An invoice row may
still name a customer new to both, with its customer_name (created in Intacct at the next sync). When Intacct
cannot be asked, the rows are checked against the ledger only and a warning says so.

Each row goes through a list of row checks (`RowCheck`, see INVOICE_ROW_CHECKS / PAYMENT_ROW_CHECKS, and the
`row_checks` argument of the importers) before the invoice or payment it belongs to is judged as a whole.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import IO, Any

from sqlmodel import Session, select

from storage import bulk
from storage.config import settings
from storage.models import Customer, Invoice, Origin, Payment, SyncState
from sync_engine.services.ledger_entry import InvoiceEntry, LineEntry, PaymentEntry, add_invoices, add_payment
from sync_engine.services.settings import get_connection
from sync_engine.services.upload_lookup import (
    IntacctFacts,
    ask_intacct,
    customer_problem,
    invoice_problem,
    linked_text,
)
from sync_engine.sync import intacct_lists
from sync_engine.sync.cleaning import visible
from sync_engine.sync.intacct_lookup import link_customers
from sync_engine.sync.payments import METHODS

MAX_ROWS = 50_000
MAX_FIELD = 4_000  # characters in one value
DEFAULT_MAX_MB = 20
MAX_MB_ENV = "CONSOLE_UPLOAD_MAX_MB"
MAX_AMOUNT = Decimal("9999999999.99")
MAX_QUANTITY = Decimal("1000000")
INVOICE_COLUMNS = ("invoice_number", "customer_number", "customer_name", "customer_email", "invoice_date",
                   "due_date", "currency", "description", "line_description", "quantity", "amount", "account_label")
INVOICE_REQUIRED = ("invoice_number", "customer_number", "invoice_date", "amount")
PAYMENT_COLUMNS = ("reference", "customer_number", "received_on", "amount", "method", "currency", "invoice_number",
                   "applied_amount")
PAYMENT_REQUIRED = ("reference", "customer_number", "received_on", "amount")

_AMOUNT = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d{1,16})(?:\.\d{1,2})?")
_QUANTITY = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d{1,16})(?:\.\d{1,4})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CHUNK = bulk.CHUNK  # invoices saved at a time


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (not CSV, no header, missing required columns, too large)."""


@dataclass
class RowProblem:
    row: int  # 1-based line number in the file (the header is line 1)
    column: str
    value: str
    message: str
    fix: str | None = None  # the screen that fixes it, when not the file: "customers" | "invoices" (import first)

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class CsvImportResult:
    created: list[str] = field(default_factory=list)  # invoice numbers / payment references saved
    skipped: list[str] = field(default_factory=list)  # already in the ledger
    problems: list[RowProblem] = field(default_factory=list)
    rejected_csv: str = ""  # the rejected rows with a `problem` column, ready to fix and upload again
    warnings: list[str] = field(default_factory=list)  # accepted, but worth knowing (a list never read)
    linked: list[str] = field(default_factory=list)  # customers taken from Intacct into the ledger (would be)
    rows: list[dict[str, str]] = field(default_factory=list)  # the rows of what is (in a preview: would be) added
    preview: bool = False  # checked only: nothing was saved

    @property
    def ok(self) -> bool:
        return not self.problems


# A per-row check: the row's values by column -> (column, message) for each problem it finds.
RowCheck = Callable[[dict[str, str]], Iterable[tuple[str, str]]]


def max_upload_bytes() -> int:
    """The upload size limit: CONSOLE_UPLOAD_MAX_MB megabytes (default 20)."""
    megabytes = settings().console_upload_max_mb or DEFAULT_MAX_MB
    return int(megabytes * 1024 * 1024)


def _binary_stream(data: str | bytes | IO[bytes]) -> IO[bytes]:
    """The upload as a seekable binary stream, refused before any parsing when it is over the size limit."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    stream: IO[bytes] = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    limit = max_upload_bytes()
    if size > limit:
        raise CsvFormatError(f"The file is {size / 1048576:,.1f} MB; uploads are limited to {limit / 1048576:,.0f} MB: "
                             "split it into smaller files.")
    return stream


def _dialect(stream: IO[bytes]) -> type[csv.Dialect] | csv.Dialect:
    sample = codecs.getincrementaldecoder("utf-8-sig")(errors="ignore").decode(stream.read(4096))
    stream.seek(0)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _long_values(row: dict[str, str]) -> Iterable[tuple[str, str]]:
    for column, value in row.items():
        if len(value) > MAX_FIELD and not column.startswith("_"):
            yield column, f"{column} is longer than {MAX_FIELD:,} characters"


INVOICE_ROW_CHECKS: tuple[RowCheck, ...] = (_long_values,)
PAYMENT_ROW_CHECKS: tuple[RowCheck, ...] = (_long_values,)


def _read(data: str | bytes | IO[bytes], columns: tuple[str, ...], required: tuple[str, ...]
          ) -> tuple[list[str], list[dict[str, str]], list[RowProblem]]:
    """(header, rows, rows the CSV reader itself could not read): streamed, within the size and row limits."""
    stream = _binary_stream(data)
    dialect = _dialect(stream)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, dialect=dialect)
    unreadable: list[RowProblem] = []
    rows: list[dict[str, str]] = []
    try:
        try:
            names = next(reader)
        except StopIteration:
            raise CsvFormatError("The file is empty: it needs a header row and at least one data row.") from None
        except csv.Error as exc:
            raise CsvFormatError(f"The header row cannot be read as CSV: {exc}.") from None
        header = [visible(name).lower().replace(" ", "_") for name in names]
        missing = [c for c in required if c not in header]
        if missing:
            raise CsvFormatError(f"Missing column(s): {', '.join(missing)}. Expected columns: {', '.join(columns)}.")
        while True:
            try:
                raw = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                # One unreadable row (a value over the reader's 128 KiB limit, a stray quote) is that row's problem.
                unreadable.append(RowProblem(reader.line_num, "", "", f"this row cannot be read as CSV ({exc})"))
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvFormatError(f"The file has more than {MAX_ROWS:,} rows: split it into smaller files.")
            values = {name: visible(raw[i]) if i < len(raw) else "" for i, name in enumerate(header)}
            if any(values.values()):
                values["_row"] = str(reader.line_num)
                rows.append(values)
    except UnicodeDecodeError as exc:
        raise CsvFormatError("The file is not UTF-8 text: save it as 'CSV UTF-8' and upload it again.") from exc
    finally:
        text.detach()
    if not rows and not unreadable:
        raise CsvFormatError("The file has a header but no data rows.")
    return header, rows, unreadable


def _date(value: str) -> date:
    if _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"'{_short(value)}' is not a date: use YYYY-MM-DD, e.g. 2026-11-30")


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def _money(value: str) -> Decimal:
    if not _AMOUNT.fullmatch(value):
        if re.fullmatch(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d{3,}", value):
            raise ValueError(f"'{_short(value)}' has more than two decimals: amounts are in cents")
        raise ValueError(f"'{_short(value)}' is not an amount in our format: digits with a dot before the cents "
                         "and commas only between thousands, e.g. 1250.00 or 1,250.00")
    amount = Decimal(value.replace(",", ""))
    if abs(amount) > MAX_AMOUNT:
        raise ValueError(f"'{_short(value)}' is more than the largest amount accepted ({MAX_AMOUNT:,})")
    return amount.quantize(Decimal("0.01"))


def _quantity(value: str) -> Decimal:
    if not _QUANTITY.fullmatch(value):
        raise ValueError(f"'{_short(value)}' is not a quantity: use digits with up to four decimals, e.g. 2.5")
    quantity = Decimal(value.replace(",", ""))
    if quantity <= 0 or quantity > MAX_QUANTITY:
        raise ValueError(f"'{_short(value)}' is not a positive quantity up to {MAX_QUANTITY:,}")
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
        problems.append(RowProblem(int(row["_row"]), column, _short(value), str(exc)))
        return None


def _run_row_checks(problems: list[RowProblem], rows: list[dict[str, str]], checks: Sequence[RowCheck]) -> None:
    for row in rows:
        for check in checks:
            for column, message in check(row):
                problems.append(RowProblem(int(row["_row"]), column, _short(row.get(column, "")), message))


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


def _same_everywhere(problems: list[RowProblem], rows: list[dict[str, str]], columns: tuple[str, ...],
                     what: str) -> None:
    for column in columns:
        values = {r.get(column, "") for r in rows if r.get(column, "")}
        if len(values) > 1:
            problems.append(RowProblem(int(rows[1]["_row"]), column, rows[1].get(column, ""),
                                       f"the rows of {what} disagree on {column} ({', '.join(sorted(values))})"))


def _in_chunks(session: Session, column: Any, values: Iterable[Any], *extra: Any) -> list[Any]:
    """SELECT `extra or column` WHERE column IN values, a chunk at a time (SQLite limits bound parameters)."""
    values = [v for v in set(values) if v]
    found: list[Any] = []
    for start in range(0, len(values), _CHUNK):
        chunk = values[start:start + _CHUNK]
        found += list(session.exec(select(*(extra or (column,))).where(column.in_(chunk))).all())
    return found


def _account_label_check(session: Session, result: CsvImportResult, rows: list[dict[str, str]]) -> tuple[RowCheck, ...]:
    """A row check of account_label against Intacct's cached list; none (and a warning) when it was never read."""
    connection = get_connection(session=session)
    if connection is None or connection.id is None or not any(row.get("account_label") for row in rows):
        return ()
    connection_id = connection.id
    if intacct_lists.last_refreshed(session=session, connection_id=connection_id) is None:
        result.warnings.append("Intacct's account labels have never been read, so the account_label column was not "
                               "checked: a label Intacct does not have fails at the sync. Refresh the lists from "
                               "Intacct on Account mapping to have them checked here.")
        return ()
    verdicts: dict[str, str | None] = {}  # one look-up per distinct label, however many rows use it

    def check(row: dict[str, str]) -> Iterable[tuple[str, str]]:
        label = row.get("account_label") or ""
        if label and label not in verdicts:
            verdicts[label] = intacct_lists.problem(session=session, connection_id=connection_id,
                                                    list_name="account_labels", value=label)
        if label and verdicts[label]:
            yield "account_label", f"{verdicts[label]} Pick one from the list on Account mapping."

    return (check,)


def numbers_to_ask(data: str | bytes | IO[bytes], kind: str) -> tuple[set[str], set[str]]:
    """The customer and invoice numbers a file names ("invoices" or "payments" file), for `ask_intacct`."""
    columns, required = (INVOICE_COLUMNS, INVOICE_REQUIRED) if kind == "invoices" else (PAYMENT_COLUMNS,
                                                                                         PAYMENT_REQUIRED)
    _, rows, _ = _read(data, columns, required)
    return ({r.get("customer_number", "") for r in rows} - {""},
            {r.get("invoice_number", "") for r in rows} - {""} if kind == "payments" else set())


def _facts(session: Session, rows: list[dict[str, str]], intacct: IntacctFacts | None, *,
           with_invoices: bool) -> IntacctFacts:
    if intacct is not None:
        return intacct
    return ask_intacct(session=session, customer_numbers=(r.get("customer_number", "") for r in rows),
                       invoice_numbers=(r.get("invoice_number", "") for r in rows) if with_invoices else ())


def import_invoices_csv(*, session: Session, data: str | bytes | IO[bytes], actor: str,
                        row_checks: Sequence[RowCheck] = (), preview: bool = False,
                        intacct: IntacctFacts | None = None) -> CsvImportResult:
    """Add ledger invoices from CSV (one row per line; rows sharing an invoice_number form one invoice).

    `row_checks` run on every row after the built-in ones (INVOICE_ROW_CHECKS) and the account label check
    against Intacct's cached list. With `preview`, every check runs and nothing is saved. `intacct`: what
    `ask_intacct` found (asked here when not given; a caller holding the write lock asks before taking it).
    """
    header, rows, unreadable = _read(data, INVOICE_COLUMNS, INVOICE_REQUIRED)
    result = CsvImportResult(problems=list(unreadable), preview=preview)
    facts = _facts(session, rows, intacct, with_invoices=False)
    result.warnings += facts.warnings
    to_link: dict[str, Any] = {}  # customer number → what Intacct has, linked when the invoices are saved
    row_checks = (*row_checks, *_account_label_check(session, result, rows))
    rejected: list[tuple[str, list[dict[str, str]]]] = [("an unreadable row",
                                                         [{"_row": str(p.row)}]) for p in unreadable]
    existing = set(bulk.ids_by(session, Invoice.number, (r.get("invoice_number", "") for r in rows), Invoice.id))
    customer_ids = bulk.ids_by(session, Customer.number, (r.get("customer_number", "") for r in rows), Customer.id)
    new_customers: dict[str, tuple[str, str | None]] = {}
    planned: list[tuple[str, InvoiceEntry]] = []
    checks = (*INVOICE_ROW_CHECKS, *row_checks)
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
        _run_row_checks(problems, group, checks)
        first = group[0]
        _same_everywhere(problems, group, ("customer_number", "invoice_date", "due_date", "currency"),
                         f"invoice {number}")
        customer_number = _check(problems, first, "customer_number", str)
        invoice_date = _check(problems, first, "invoice_date", _date)
        due_date = _check(problems, first, "due_date", _date, required=False)
        currency = (first.get("currency") or "USD").upper()
        if len(currency) != 3 or not currency.isalpha():
            problems.append(RowProblem(int(first["_row"]), "currency", _short(currency),
                                       "currency must be a 3-letter code like USD"))
        if invoice_date and due_date and due_date < invoice_date:
            problems.append(RowProblem(int(first["_row"]), "due_date", first["due_date"],
                                       "the due date is before the invoice date"))
        lines = []
        for position, row in enumerate(group, start=1):
            amount = _check(problems, row, "amount", _money)
            quantity = _check(problems, row, "quantity", _quantity, required=False) or Decimal("1")
            if amount is not None and amount == 0:
                problems.append(RowProblem(int(row["_row"]), "amount", row["amount"], "a line amount cannot be zero"))
            lines.append((position, row, amount, quantity))
        known = customer_number in customer_ids or customer_number in new_customers
        there = (facts.customers or {}).get(customer_number) if customer_number and not known else None
        if customer_number and not known and there is None and (unknown := customer_problem(
                _short(customer_number), facts, may_create=True, named=bool(first.get("customer_name")))):
            problems.append(RowProblem(int(first["_row"]), unknown[0], "", unknown[1]))
        if problems:
            result.problems += problems
            rejected.append((f"invoice {number}", group))
            continue
        if there is not None and customer_number not in to_link:
            to_link[customer_number] = there
            result.linked.append(linked_text(there))
        elif not known and there is None:
            new_customers[customer_number] = (first.get("customer_name", ""), first.get("customer_email") or None)
        planned.append((customer_number, InvoiceEntry(
            number=number, customer_id=None, invoice_date=invoice_date, due_date=due_date, currency=currency,
            description=first.get("description") or None,
            lines=[LineEntry(amount=amount, quantity=quantity, description=row.get("line_description") or None,
                             account_label=row.get("account_label") or None) for _, row, amount, quantity in lines])))
        existing.add(number)
        result.created.append(number)
        result.rows += group
        if preview:
            planned.clear()  # checked is all a preview does
        elif len(planned) >= _CHUNK:  # saved a chunk at a time, so memory stays bounded by the rows themselves
            _save_invoices(session, planned, new_customers, customer_ids, actor, to_link)
    if not preview:
        _save_invoices(session, planned, new_customers, customer_ids, actor, to_link)
        session.commit()
    result.rejected_csv = _rejected(header, rejected, result.problems) if rejected else ""
    return result


def _save_invoices(session: Session, planned: list[tuple[str, InvoiceEntry]],
                   new_customers: dict[str, tuple[str, str | None]], customer_ids: dict[str, int], actor: str,
                   to_link: dict[str, Any]) -> None:
    """Link the customers Intacct has, insert the new ones, then the checked invoices (ledger_entry.add_invoices),
    in bulk; not committed.

    Empties `planned` and moves `new_customers` and `to_link` into `customer_ids`.
    """
    if not planned:
        return
    needed = {number for number, _ in planned if number in to_link and number not in customer_ids}
    customer_ids.update(link_customers(session=session, customers=[to_link[n] for n in sorted(needed)], actor=actor))
    bulk.insert_rows(session, Customer, [{"number": n, "name": name or n, "email": email, "origin": Origin.LEDGER,
                                          "sync_state": SyncState.NOT_SYNCED} for n, (name,
                                                                                      email) in new_customers.items()])
    customer_ids.update(bulk.ids_by(session, Customer.number, new_customers, Customer.id))
    for customer_number, entry in planned:
        entry.customer_id = customer_ids[customer_number]
    add_invoices(session=session, entries=[entry for _, entry in planned], actor=actor)
    planned.clear()
    new_customers.clear()


def import_payments_csv(*, session: Session, data: str | bytes | IO[bytes], actor: str,
                        row_checks: Sequence[RowCheck] = (), preview: bool = False,
                        intacct: IntacctFacts | None = None) -> CsvImportResult:
    """Add received payments from CSV; rows sharing customer_number + reference are one payment applied to
    several invoices. Applied amounts reduce the invoices' balances in the ledger.

    `row_checks` run on every row after the built-in ones (PAYMENT_ROW_CHECKS). `intacct` as for invoices.
    """
    header, rows, unreadable = _read(data, PAYMENT_COLUMNS, PAYMENT_REQUIRED)
    result = CsvImportResult(problems=list(unreadable))
    facts = _facts(session, rows, intacct, with_invoices=True)
    result.warnings += facts.warnings
    rejected: list[tuple[str, list[dict[str, str]]]] = [("an unreadable row",
                                                         [{"_row": str(p.row)}]) for p in unreadable]
    customers = {c.number: c for c in _in_chunks(session, Customer.number, (r.get("customer_number", "") for r in rows),
                                                 Customer)}
    invoices = {i.number: i for i in _in_chunks(session, Invoice.number, (r.get("invoice_number", "") for r in rows),
                                                Invoice)}

    checks = (*PAYMENT_ROW_CHECKS, *row_checks)
    for (customer_number,
         reference), group in _group(rows, lambda r: (r.get("customer_number", ""), r.get("reference", ""))).items():
        problems: list[RowProblem] = []
        _run_row_checks(problems, group, checks)
        first = group[0]
        label = f"{customer_number}/{reference}"
        _same_everywhere(problems, group, ("received_on", "amount", "method", "currency"), f"payment {reference}")
        for column in ("customer_number", "reference"):
            if not first.get(column):
                problems.append(RowProblem(int(first["_row"]), column, "", f"{column} is required"))
        received_on = _check(problems, first, "received_on", _date)
        amount = _check(problems, first, "amount", _money)
        if amount is not None and amount <= 0:
            problems.append(RowProblem(int(first["_row"]), "amount", first["amount"],
                                       "a payment amount must be positive"))
        method = first.get("method") or "Printed Check"
        if method not in METHODS:
            problems.append(RowProblem(int(first["_row"]), "method", _short(method),
                                       f"method must be one of: {', '.join(METHODS)}"))
        customer = customers.get(customer_number) if customer_number else None
        there = (facts.customers or {}).get(customer_number) if customer_number and customer is None else None
        if there is not None:  # Intacct's customer, not imported yet: linked (a preview rolls it back)
            linked = link_customers(session=session, customers=[there], actor=actor)
            customer = session.get(Customer, linked[there.number]) if linked else None
            customers[customer_number] = customer
            if customer is not None:
                result.linked.append(linked_text(there))
        if customer_number and customer is None:
            column, message = customer_problem(_short(customer_number), facts, may_create=False,  # type: ignore[misc]
                                               named=False)
            problems.append(RowProblem(int(first["_row"]), column, _short(customer_number), message))
        if customer is not None and reference and session.exec(select(Payment).where(
                Payment.customer_id == customer.id, Payment.reference == reference)).first() is not None:
            result.skipped.append(label)
            continue
        applications: dict[int | None, tuple[Invoice, Decimal]] = {}
        for row in group:
            if not row.get("invoice_number"):
                continue
            invoice = invoices.get(row["invoice_number"])
            applied = _check(problems, row, "applied_amount", _money, required=False) or amount
            if invoice is None:
                message, fix = invoice_problem(_short(row["invoice_number"]), facts)
                problems.append(RowProblem(int(row["_row"]), "invoice_number", _short(row["invoice_number"]),
                                           message, fix=fix))
            elif customer is not None and invoice.customer_id != customer.id:
                problems.append(RowProblem(int(row["_row"]), "invoice_number", row["invoice_number"],
                                           f"invoice {invoice.number} belongs to another customer"))
            elif applied is not None:
                previous = applications.get(invoice.id, (invoice, Decimal("0")))[1]
                if previous + applied > invoice.balance:
                    problems.append(RowProblem(int(row["_row"]), "applied_amount",
                                               row.get("applied_amount") or str(applied),
                                               f"more than invoice {invoice.number}'s open balance of "
                                               f"{invoice.balance:,.2f}"))
                applications[invoice.id] = (invoice, previous + applied)
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
    if preview:
        session.rollback()  # the later payments were checked against the balances the earlier ones left
        result.preview = True
    else:
        session.commit()
    result.rejected_csv = _rejected(header, rejected, result.problems) if rejected else ""
    return result
