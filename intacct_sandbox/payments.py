"""A/R payments: create (draft or submitted), submit a draft, apply unapplied money, reverse, delete a draft."""

from __future__ import annotations

from dataclasses import dataclass, field

from .context import Context
from .db import by_key, fetch_all, insert, update
from .errors import bl, could_not
from .ledger import (
    DETAIL,
    INVOICE,
    PAYMENT,
    active_customer,
    active_gl,
    apply_to_invoice,
    money,
    open_invoice,
    record_by_key,
    select_on_invoice,
    unapply_details,
)

PAYMENT_METHODS = {"Printed Check", "Cash", "EFT", "Credit Card", "Online Charge Card", "Online ACH Debit",
                   "Online", "ACH", "Record Transfer"}
LABEL = "AR Payment"


@dataclass
class Application:
    invoice_key: str
    amount: int
    entry_key: int | None = None


@dataclass
class PaymentInput:
    customer_id: str
    amount: int | None
    method: str
    receipt_date: str
    undeposited_account: str = ""
    bank_account: str = ""
    batch_key: str = ""
    docnumber: str = ""
    description: str = ""
    currency: str = "USD"
    draft: bool = False
    applications: list[Application] = field(default_factory=list)


def _destination(ctx: Context, data: PaymentInput, verb: str) -> dict:
    chosen = [name for name, value in (("bankaccountid", data.bank_account), ("undepfundsacct",
              data.undeposited_account), ("batchkey", data.batch_key)) if value]
    if len(chosen) != 1:
        raise could_not(verb, LABEL, bl(
            "Specify exactly one of a bank account, an undeposited funds account or a payment summary.",
            "Give FINANCIALENTITY / bankaccountid, UNDEPOSITEDACCOUNTNO / undepfundsacct, or PRBATCH / batchkey."))
    if data.undeposited_account:
        active_gl(ctx, data.undeposited_account, verb, LABEL)
        return {"UNDEPOSITEDACCOUNTNO": data.undeposited_account, "FINANCIALENTITYTYPE": "undeposited funds"}
    if data.bank_account:
        row = ctx.conn.execute('SELECT "BANKNAME", "STATUS" FROM checkingaccount WHERE company = ? '
                               'AND "BANKACCOUNTID" = ?', (ctx.company_id, data.bank_account)).fetchone()
        if row is None or row[1] != "active":
            raise could_not(verb, LABEL, bl(f"Invalid bank account '{data.bank_account}' specified.",
                                            "Use the ID of an active checking or savings account."))
        return {"FINANCIALENTITY": data.bank_account, "FINANCIALENTITYTYPE": "checkingaccount",
                "FINANCIALACCOUNTNAME": row[0]}
    if not data.batch_key.isdigit():
        raise could_not(verb, LABEL, bl(f"Invalid payment summary '{data.batch_key}' specified."))
    return {"PRBATCHKEY": int(data.batch_key), "PRBATCH": f"Receipts batch {data.batch_key}"}


def create_payment(ctx: Context, data: PaymentInput, verb: str = "create") -> int:
    customer = active_customer(ctx, data.customer_id, verb, LABEL)
    if data.method not in PAYMENT_METHODS:
        raise could_not(verb, LABEL, bl(f"Invalid payment method '{data.method}'.",
                                        f"Use one of: {', '.join(sorted(PAYMENT_METHODS))}."))
    destination = _destination(ctx, data, verb)
    applied = sum(app.amount for app in data.applications)
    total = data.amount if data.amount is not None else applied
    if total <= 0:
        raise could_not(verb, LABEL, bl("The payment amount must be greater than zero."))
    if applied > total:
        raise could_not(verb, LABEL, bl(f"The total applied ({money(applied)}) exceeds the payment amount "
                                        f"({money(total)})."))
    invoices = []
    for app in data.applications:
        invoice = open_invoice(ctx, app.invoice_key, data.customer_id, verb, LABEL)
        if app.amount > (invoice["TOTALDUE"] or 0):
            raise could_not(verb, LABEL, bl(
                f"The amount applied ({money(app.amount)}) is greater than the amount due "
                f"({money(invoice['TOTALDUE'] or 0)}) on invoice {invoice['RECORDID']}.",
                "Apply at most the invoice's TOTALDUE."))
        invoices.append((invoice, app))
    header = {
        "RECORDTYPE": "rp", "STATE": "D" if data.draft else "C", "DISPLAYSTATE": "Draft" if data.draft else "Complete",
        "PAYMENTMETHOD": data.method, "CUSTOMERID": data.customer_id, "CUSTOMERNAME": customer["NAME"],
        "DOCNUMBER": data.docnumber or None, "RECORDID": data.docnumber or None,
        "DESCRIPTION": data.description or None, "RECEIPTDATE": data.receipt_date, "WHENPAID": data.receipt_date,
        "WHENCREATED": data.receipt_date, "AUWHENCREATED": ctx.stamp, "CURRENCY": data.currency,
        "BASECURR": "USD", "TOTALENTERED": total, "TOTALPAID": 0 if data.draft else applied, "TOTALDUE": 0,
        **destination, **ctx.audit_new(),
    }
    key = insert(ctx.conn, PAYMENT, ctx.company_id, header)
    if data.draft:
        for invoice, app in invoices:
            insert(ctx.conn, DETAIL, ctx.company_id, {
                "PAYMENTKEY": key, "RECORDKEY": invoice["RECORDNO"], "ENTRYKEY": app.entry_key,
                "PAYMENTAMOUNT": app.amount, "PAYMENTDATE": data.receipt_date, "CURRENCY": data.currency,
                "STATE": "D", "WHENCREATED": ctx.stamp, **ctx.audit_new()})
            select_on_invoice(ctx, invoice["RECORDNO"], app.amount)
        return key
    for invoice, app in invoices:
        fresh = by_key(ctx.conn, INVOICE, ctx.company_id, invoice["RECORDNO"])
        apply_to_invoice(ctx, fresh, app.amount, key, data.receipt_date, app.entry_key, verb, LABEL)
    if total > applied:
        _remainder(ctx, key, header, total - applied)
    return key


def _remainder(ctx: Context, parent_key: int, header: dict, amount: int) -> int:
    """Unapplied money becomes its own record (RECORDTYPE rr) that apply_arpayment can use later."""
    return insert(ctx.conn, PAYMENT, ctx.company_id, {
        **header, "RECORDTYPE": "rr", "PARENTPAYMENTKEY": parent_key, "TOTALENTERED": amount, "TOTALPAID": 0,
        "TOTALDUE": amount, "DESCRIPTION": f"Unapplied remainder of payment {parent_key}",
    })


def submit_draft(ctx: Context, payment: dict, verb: str = "update") -> None:
    details = fetch_all(ctx.conn, DETAIL, ctx.company_id, "\"PAYMENTKEY\" = ? AND \"STATE\" = 'D'",
                        [payment["RECORDNO"]])
    applied = 0
    for detail in details:
        select_on_invoice(ctx, detail["RECORDKEY"], -(detail["PAYMENTAMOUNT"] or 0))
        ctx.conn.execute("DELETE FROM arpymtdetail WHERE \"RECORDNO\" = ?", (detail["RECORDNO"],))
    for detail in details:
        invoice = open_invoice(ctx, str(detail["RECORDKEY"]), payment["CUSTOMERID"], verb, LABEL)
        apply_to_invoice(ctx, invoice, detail["PAYMENTAMOUNT"] or 0, payment["RECORDNO"],
                         payment["RECEIPTDATE"], detail["ENTRYKEY"], verb, LABEL)
        applied += detail["PAYMENTAMOUNT"] or 0
    changes = {"STATE": "C", "DISPLAYSTATE": "Complete", "TOTALPAID": applied, **ctx.audit_change()}
    update(ctx.conn, PAYMENT, payment["RECORDNO"], changes)
    total = payment["TOTALENTERED"] or 0
    if total > applied:
        _remainder(ctx, payment["RECORDNO"], {**payment, **changes}, total - applied)


def delete_draft(ctx: Context, payment: dict) -> None:
    if payment["STATE"] != "D":
        raise could_not("delete", LABEL, bl(f"Payment {payment['RECORDNO']} is not a draft; complete payments "
                                            f"cannot be deleted, reverse them instead."))
    for detail in fetch_all(ctx.conn, DETAIL, ctx.company_id, '"PAYMENTKEY" = ?', [payment["RECORDNO"]]):
        select_on_invoice(ctx, detail["RECORDKEY"], -(detail["PAYMENTAMOUNT"] or 0))
    ctx.conn.execute('DELETE FROM arpymtdetail WHERE company = ? AND "PAYMENTKEY" = ?',
                     (ctx.company_id, payment["RECORDNO"]))
    ctx.conn.execute('DELETE FROM arpymt WHERE "RECORDNO" = ?', (payment["RECORDNO"],))


def find_payment(ctx: Context, key: str | None, verb: str) -> dict:
    return record_by_key(ctx, PAYMENT, key, verb=verb, label=LABEL,
                         missing=f"Invalid AR payment key '{key}': no such payment.",
                         hint="Use the RECORDNO of an existing AR payment.")


def apply_unapplied(ctx: Context, payment: dict, applications: list[Application], pay_date: str) -> None:
    """Apply an advance / overpayment (or a payment's remainder) to invoices."""
    source = payment
    if payment["RECORDTYPE"] != "rr":
        child = ctx.conn.execute(
            "SELECT \"RECORDNO\" FROM arpymt WHERE company = ? AND \"PARENTPAYMENTKEY\" = ? AND \"RECORDTYPE\" = 'rr' "
            "AND \"STATE\" = 'C' ORDER BY \"RECORDNO\" LIMIT 1", (ctx.company_id, payment["RECORDNO"])).fetchone()
        source = by_key(ctx.conn, PAYMENT, ctx.company_id, child[0]) if child else None
    if source is None or source["STATE"] != "C" or (source["TOTALDUE"] or 0) <= 0:
        raise could_not("apply", LABEL, bl(f"Payment {payment['RECORDNO']} has no unapplied amount to apply."))
    total = sum(app.amount for app in applications)
    if not applications:
        raise could_not("apply", LABEL, bl("Give at least one arpaymentitem to apply."))
    if total > (source["TOTALDUE"] or 0):
        raise could_not("apply", LABEL, bl(f"The total applied ({money(total)}) exceeds the unapplied amount "
                                           f"({money(source['TOTALDUE'] or 0)}) of payment {payment['RECORDNO']}."))
    for app in applications:
        invoice = open_invoice(ctx, app.invoice_key, source["CUSTOMERID"], "apply", LABEL)
        apply_to_invoice(ctx, invoice, app.amount, source["RECORDNO"], pay_date, app.entry_key, "apply", LABEL)
    update(ctx.conn, PAYMENT, source["RECORDNO"], {"TOTALPAID": (source["TOTALPAID"] or 0) + total,
                                                   "TOTALDUE": (source["TOTALDUE"] or 0) - total,
                                                   **ctx.audit_change()})


def reverse(ctx: Context, payment: dict) -> None:
    if payment["STATE"] != "C":
        raise could_not("reverse", LABEL, bl(f"Payment {payment['RECORDNO']} cannot be reversed in state "
                                             f"{payment['DISPLAYSTATE']}."))
    keys = [payment["RECORDNO"]] + [row[0] for row in ctx.conn.execute(
        "SELECT \"RECORDNO\" FROM arpymt WHERE company = ? AND \"PARENTPAYMENTKEY\" = ? AND \"STATE\" = 'C'",
        (ctx.company_id, payment["RECORDNO"]))]
    unapply_details(ctx, keys)
    for key in keys:
        update(ctx.conn, PAYMENT, key, {"STATE": "V", "DISPLAYSTATE": "Reversed", "TOTALDUE": 0,
                                        **ctx.audit_change()})
