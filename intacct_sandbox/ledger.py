"""A/R bookkeeping shared by invoice and payment functions: lookups, applying money, balances, states.

All amounts are integer cents; Decimal is used only when parsing request text (see values.py).
"""

from __future__ import annotations

from .context import Context
from .db import by_id, by_key, fetch_all, insert, q, update
from .errors import ErrorEntry, FunctionError, bl, could_not
from .schema import OBJECTS, format_money

CUSTOMER = OBJECTS["CUSTOMER"]
INVOICE = OBJECTS["ARINVOICE"]
LINE = OBJECTS["ARINVOICEITEM"]
PAYMENT = OBJECTS["ARPYMT"]
DETAIL = OBJECTS["ARPYMTDETAIL"]
GLACCOUNT = OBJECTS["GLACCOUNT"]
LABEL = OBJECTS["ARACCOUNTLABEL"]
LOCATION = OBJECTS["LOCATION"]
DEPARTMENT = OBJECTS["DEPARTMENT"]
ADJUSTMENT = OBJECTS["ARADJUSTMENT"]
ADJUSTMENT_LINE = OBJECTS["ARADJUSTMENTITEM"]

OPEN_STATES = ("Posted", "Partially Paid")


def record_by_key(ctx: Context, obj, key: str | None, *, verb: str, label, missing: str, hint: str) -> dict:  # type: ignore[no-untyped-def]
    """The record of `obj` whose RECORDNO is `key`, or the function fails with `missing` (BL01001973)."""
    try:
        recordno = int(key or "")
    except ValueError:
        recordno = -1
    row = by_key(ctx.conn, obj, ctx.company_id, recordno)
    if row is None:
        raise could_not(verb, label, bl(missing, hint))
    return row
AR_ACCOUNT = "1200"


def money(cents: int) -> str:
    return format_money(cents)


def active_customer(ctx: Context, customer_id: str, verb: str, label: str) -> dict:
    row = by_id(ctx.conn, CUSTOMER, ctx.company_id, customer_id) if customer_id else None
    if row is None:
        raise could_not(verb, label, bl(f"Invalid Customer '{customer_id}' specified.",
                                        "Use the ID of an existing customer."))
    if row["STATUS"] != "active":
        raise could_not(verb, label, bl(f"Customer '{customer_id}' is inactive and cannot be used in a transaction.",
                                        "Make the customer active or use another customer."))
    return row


def active_gl(ctx: Context, accountno: str, verb: str, label: str) -> dict:
    row = by_id(ctx.conn, GLACCOUNT, ctx.company_id, accountno)
    if row is None:
        raise could_not(verb, label, bl(f"Invalid GL Account '{accountno}' specified.",
                                        "Use the number of an existing GL account."))
    if row["STATUS"] != "active":
        raise could_not(verb, label, bl(f"GL Account '{accountno}' is inactive.", "Use an active GL account."))
    return row


def active_label(ctx: Context, label_id: str, verb: str, label: str) -> dict:
    row = by_id(ctx.conn, LABEL, ctx.company_id, label_id)
    if row is None:
        raise could_not(verb, label, bl(f"Invalid Account Label '{label_id}' specified.",
                                        "Use the name of an existing AR account label."))
    if row["STATUS"] != "active":
        raise could_not(verb, label, bl(f"Account Label '{label_id}' is inactive.", "Use an active account label."))
    return row


def dimension(ctx: Context, obj, ident: str, verb: str, label: str, what: str) -> dict:
    row = by_id(ctx.conn, obj, ctx.company_id, ident)
    if row is None or row["STATUS"] != "active":
        raise could_not(verb, label, bl(f"Invalid {what} '{ident}' specified.", f"Use an active {what.lower()}."))
    return row


def invoice_state(total: int, paid: int, current: str) -> str:
    if current in ("Draft", "Reversed"):
        return current
    if paid <= 0:
        return "Posted"
    if paid >= total:
        return "Paid"
    return "Partially Paid"


def refresh_customer(ctx: Context, customer_id: str) -> None:
    """Customer TOTALDUE is the open A/R balance (open invoices plus open adjustments, credit memos counting
    negative); WHENMODIFIED moves when it changes."""
    marks = ",".join("?" * len(OPEN_STATES))
    due = sum(ctx.conn.execute(
        f'SELECT COALESCE(SUM("TOTALDUE"), 0) FROM {table} WHERE company = ? AND "CUSTOMERID" = ? '
        f'AND "STATE" IN ({marks})', (ctx.company_id, customer_id, *OPEN_STATES)).fetchone()[0]
        for table in ("arinvoice", "aradjustment"))
    ctx.conn.execute(
        'UPDATE customer SET "TOTALDUE" = ?, "WHENMODIFIED" = ?, "MODIFIEDBY" = ? '
        'WHERE company = ? AND "CUSTOMERID" = ? AND COALESCE("TOTALDUE", 0) != ?',
        (due, ctx.stamp, ctx.user_id, ctx.company_id, customer_id, due))


def open_invoice(ctx: Context, key: str, customer_id: str | None, verb: str, label: str) -> dict:
    try:
        recordno = int(key)
    except (TypeError, ValueError):
        recordno = -1
    row = by_key(ctx.conn, INVOICE, ctx.company_id, recordno)
    if row is None:
        raise could_not(verb, label, ErrorEntry("DL03000005", f"No record exists for invoice key '{key}'.", "",
                                                "Use the RECORDNO of an existing AR invoice."))
    if customer_id is not None and row["CUSTOMERID"] != customer_id:
        raise could_not(verb, label, bl(f"Invoice {row['RECORDID']} (key {key}) belongs to customer "
                                        f"{row['CUSTOMERID']}, not {customer_id}."))
    if row["STATE"] not in OPEN_STATES:
        raise could_not(verb, label, bl(f"Invoice {row['RECORDID']} (key {key}) is not open (state "
                                        f"{row['STATE']}); there is no amount due on it."))
    return row


def apply_to_invoice(ctx: Context, invoice: dict, amount: int, payment_key: int | None, pay_date: str,
                     entry_key: int | None, verb: str, label: str, adjustment_key: int | None = None) -> None:
    """Pay ``amount`` cents: lines top to bottom (or one given line), invoice and customer totals, details.

    With ``adjustment_key`` the money is a credit memo's: the detail rows carry ADJUSTMENTKEY/ADJUSTMENTAMOUNT
    and no PAYMENTKEY, so payment reversals never touch them."""
    if amount <= 0:
        raise could_not(verb, label, bl(f"The amount applied to invoice {invoice['RECORDID']} must be greater "
                                        f"than zero."))
    due = invoice["TOTALDUE"] or 0
    if amount > due:
        raise could_not(verb, label, bl(
            f"The amount applied ({money(amount)}) is greater than the amount due ({money(due)}) on invoice "
            f"{invoice['RECORDID']}.", "Apply at most the invoice's TOTALDUE."))
    lines = fetch_all(ctx.conn, LINE, ctx.company_id, f'{q("RECORDKEY")} = ?', [invoice["RECORDNO"]],
                      order='"LINE_NO", "RECORDNO"')
    if entry_key is not None:
        lines = [line for line in lines if line["RECORDNO"] == entry_key]
        if not lines:
            raise could_not(verb, label, bl(f"Invoice line {entry_key} does not belong to invoice "
                                            f"{invoice['RECORDID']}."))
    left = amount
    for line in lines:
        line_due = (line["AMOUNT"] or 0) - (line["TOTALPAID"] or 0)
        part = min(left, max(0, line_due))
        if part <= 0:
            continue
        update(ctx.conn, LINE, line["RECORDNO"], {"TOTALPAID": (line["TOTALPAID"] or 0) + part,
                                                  **ctx.audit_change()})
        insert(ctx.conn, DETAIL, ctx.company_id, {
            "PAYMENTKEY": payment_key, "RECORDKEY": invoice["RECORDNO"], "ENTRYKEY": line["RECORDNO"],
            "PAYMENTAMOUNT": None if adjustment_key else part, "ADJUSTMENTKEY": adjustment_key,
            "ADJUSTMENTAMOUNT": part if adjustment_key else None, "PAYMENTDATE": pay_date,
            "CURRENCY": invoice["CURRENCY"], "STATE": "C",
            "WHENCREATED": ctx.stamp, **ctx.audit_new()})
        left -= part
        if left == 0:
            break
    if left:
        raise could_not(verb, label, bl(f"The amount applied ({money(amount)}) is greater than the amount due on "
                                        f"line {entry_key} of invoice {invoice['RECORDID']}."))
    paid = (invoice["TOTALPAID"] or 0) + amount
    total = invoice["TOTALENTERED"] or 0
    state = invoice_state(total, paid, invoice["STATE"])
    changes = {"TOTALPAID": paid, "TOTALDUE": total - paid, "STATE": state, **ctx.audit_change()}
    if state == "Paid":
        changes["WHENPAID"] = pay_date
    update(ctx.conn, INVOICE, invoice["RECORDNO"], changes)
    ctx.conn.execute('UPDATE arinvoiceitem SET "STATE" = ? WHERE company = ? AND "RECORDKEY" = ?',
                     (state, ctx.company_id, invoice["RECORDNO"]))
    invoice.update(changes)
    refresh_customer(ctx, invoice["CUSTOMERID"])


def unapply_details(ctx: Context, payment_keys: list[int]) -> None:
    """Undo every completed application of these payments (reversal)."""
    if not payment_keys:
        return
    marks = ",".join("?" * len(payment_keys))
    details = fetch_all(ctx.conn, DETAIL, ctx.company_id, f'"PAYMENTKEY" IN ({marks}) AND "STATE" = \'C\'',
                        payment_keys)
    touched: dict[int, int] = {}
    for detail in details:
        part = detail["PAYMENTAMOUNT"] or 0
        ctx.conn.execute('UPDATE arinvoiceitem SET "TOTALPAID" = COALESCE("TOTALPAID", 0) - ?, "WHENMODIFIED" = ? '
                         'WHERE "RECORDNO" = ?', (part, ctx.stamp, detail["ENTRYKEY"]))
        touched[detail["RECORDKEY"]] = touched.get(detail["RECORDKEY"], 0) + part
        update(ctx.conn, DETAIL, detail["RECORDNO"], {"STATE": "V", **ctx.audit_change()})
    customers = set()
    for invoice_key, amount in touched.items():
        invoice = by_key(ctx.conn, INVOICE, ctx.company_id, invoice_key)
        paid = max(0, (invoice["TOTALPAID"] or 0) - amount)
        total = invoice["TOTALENTERED"] or 0
        state = invoice_state(total, paid, "Posted" if invoice["STATE"] in ("Paid", "Partially Paid")
                              else invoice["STATE"])
        update(ctx.conn, INVOICE, invoice_key, {"TOTALPAID": paid, "TOTALDUE": total - paid, "STATE": state,
                                                "WHENPAID": None, **ctx.audit_change()})
        ctx.conn.execute('UPDATE arinvoiceitem SET "STATE" = ? WHERE company = ? AND "RECORDKEY" = ?',
                         (state, ctx.company_id, invoice_key))
        customers.add(invoice["CUSTOMERID"])
    for customer_id in customers:
        refresh_customer(ctx, customer_id)


def select_on_invoice(ctx: Context, invoice_key: int, amount: int) -> None:
    """Draft payments only reserve money on the invoice (TOTALSELECTED)."""
    ctx.conn.execute('UPDATE arinvoice SET "TOTALSELECTED" = MAX(0, COALESCE("TOTALSELECTED", 0) + ?), '
                     '"WHENMODIFIED" = ? WHERE "RECORDNO" = ?', (amount, ctx.stamp, invoice_key))


def missing(field: str, verb: str, label: str) -> FunctionError:
    return could_not(verb, label, bl(f"Required field {field} is missing.", f"Provide {field}."))
