"""Legacy A/R functions: create/update/reverse/delete_invoice, create/apply/reverse_arpayment."""

from __future__ import annotations

from datetime import date

from lxml import etree

from ..context import Context
from ..errors import bl, could_not
from ..invoices import (
    InvoiceInput,
    LineInput,
    create_invoice,
    delete_invoice,
    find_invoice,
    reverse_invoice,
    update_invoice,
)
from ..payments import Application, PaymentInput, apply_unapplied, create_payment, find_payment, reverse
from ..values import parse_decimal, to_cents
from ..xmlio import children
from .common import arg, find


def legacy_date(element: etree._Element | None, name: str, label: str, verb: str) -> date | None:
    if element is None:
        return None
    try:
        return date(int(arg(element, "year") or 0), int(arg(element, "month") or 0), int(arg(element, "day") or 0))
    except ValueError:
        raise could_not(verb, label, bl(f"Invalid date in <{name}>: give year, month and day.")) from None


def _cents(text: str | None, what: str, verb: str, label: str) -> int:
    try:
        return to_cents(parse_decimal(text or ""))
    except ValueError:
        raise could_not(verb, label, bl(f"Invalid amount '{text or ''}' for {what}.")) from None


def _line(el: etree._Element, verb: str) -> LineInput:
    return LineInput(amount=_cents(arg(el, "amount"), "amount", verb, "Invoice"),
                     glaccountno=arg(el, "glaccountno") or "", accountlabel=arg(el, "accountlabel") or "",
                     memo=arg(el, "memo") or "", locationid=arg(el, "locationid") or "",
                     departmentid=arg(el, "departmentid") or "")


def _currency(el: etree._Element) -> str:
    return arg(el, "currency") or "USD"


def h_create_invoice(ctx: Context, el: etree._Element) -> str:
    items = find(el, "invoiceitems")
    lines = [_line(line, "create") for line in children(items) if line.tag == "lineitem"] if items is not None else []
    created = legacy_date(find(el, "datecreated"), "datecreated", "Invoice", "create")
    if created is None:
        raise could_not("create", "Invoice", bl("Required field datecreated is missing."))
    data = InvoiceInput(
        customer_id=arg(el, "customerid") or "", date_created=created, lines=lines,
        date_posted=legacy_date(find(el, "dateposted"), "dateposted", "Invoice", "create"),
        date_due=legacy_date(find(el, "datedue"), "datedue", "Invoice", "create"),
        term_name=arg(el, "termname") or "", action=arg(el, "action") or "Submit",
        invoice_no=arg(el, "invoiceno") or "", po_number=arg(el, "ponumber") or "",
        description=arg(el, "description") or "", currency=_currency(el))
    return str(create_invoice(ctx, data))


def h_update_invoice(ctx: Context, el: etree._Element) -> None:
    invoice = find_invoice(ctx, el.get("key") or arg(el, "key"), "update")
    header: dict = {}
    for tag, key in (("customerid", "customer_id"), ("termname", "term_name"), ("action", "action"),
                     ("invoiceno", "invoice_no"), ("ponumber", "po_number"), ("description", "description")):
        value = arg(el, tag)
        if value is not None:
            header[key] = value
    for tag, key in (("datecreated", "date_created"), ("dateposted", "date_posted"), ("datedue", "date_due")):
        value = legacy_date(find(el, tag), tag, "Invoice", "update")
        if value is not None:
            header[key] = value
    line_updates: dict[int, dict] = {}
    new_lines: list[LineInput] = []
    items = find(el, "updateinvoiceitems")
    for item in children(items) if items is not None else []:
        if item.tag == "lineitem":
            new_lines.append(_line(item, "update"))
        elif item.tag == "updatelineitem":
            try:
                number = int(item.get("line_num") or arg(item, "line_num") or "")
            except ValueError:
                raise could_not("update", "Invoice", bl("updatelineitem needs a numeric line_num.")) from None
            fields: dict = {}
            for child in children(item):
                if child.tag == "amount":
                    fields["amount"] = _cents(child.text, "amount", "update", "Invoice")
                elif child.tag in ("glaccountno", "accountlabel", "memo", "locationid", "departmentid"):
                    fields[child.tag] = (child.text or "").strip()
            line_updates[number] = fields
    update_invoice(ctx, invoice, header, line_updates, new_lines)


def h_reverse_invoice(ctx: Context, el: etree._Element) -> str:
    invoice = find_invoice(ctx, el.get("key") or arg(el, "key"), "reverse")
    if find(el, "datereversed") is None:
        raise could_not("reverse", "Invoice", bl("Required field datereversed is missing."))
    legacy_date(find(el, "datereversed"), "datereversed", "Invoice", "reverse")
    reverse_invoice(ctx, invoice, arg(el, "description") or "")
    return str(invoice["RECORDNO"])


def h_delete_invoice(ctx: Context, el: etree._Element) -> None:
    delete_invoice(ctx, find_invoice(ctx, el.get("key") or arg(el, "key"), "delete"))


def _applications(items: list[etree._Element], verb: str) -> list[Application]:
    out = []
    for item in items:
        out.append(Application(invoice_key=arg(item, "invoicekey") or "",
                               amount=_cents(arg(item, "amount"), "amount", verb, "AR Payment")))
    return out


def h_create_arpayment(ctx: Context, el: etree._Element) -> str:
    received = legacy_date(find(el, "datereceived"), "datereceived", "AR Payment", "create") or ctx.now.date()
    data = PaymentInput(
        customer_id=arg(el, "customerid") or "",
        amount=_cents(arg(el, "paymentamount"), "paymentamount", "create", "AR Payment"),
        method=arg(el, "paymentmethod") or "Printed Check", receipt_date=received.isoformat(),
        undeposited_account=arg(el, "undepfundsacct") or "", bank_account=arg(el, "bankaccountid") or "",
        batch_key=arg(el, "batchkey") or "", docnumber=arg(el, "refid") or "", currency=_currency(el),
        applications=_applications([c for c in children(el) if c.tag == "arpaymentitem"], "create"))
    return str(create_payment(ctx, data))


def h_apply_arpayment(ctx: Context, el: etree._Element) -> None:
    payment = find_payment(ctx, arg(el, "arpaymentkey"), "apply")
    paid = legacy_date(find(el, "paymentdate"), "paymentdate", "AR Payment", "apply") or ctx.now.date()
    items: list[etree._Element] = []
    for container in children(el):
        if container.tag == "arpaymentitems":
            items.extend(c for c in children(container) if c.tag == "arpaymentitem")
    apply_unapplied(ctx, payment, _applications(items, "apply"), paid.isoformat())


def h_reverse_arpayment(ctx: Context, el: etree._Element) -> str:
    payment = find_payment(ctx, el.get("key") or arg(el, "key"), "reverse")
    reverse(ctx, payment)
    return str(payment["RECORDNO"])


HANDLERS = {
    "create_invoice": h_create_invoice,
    "update_invoice": h_update_invoice,
    "reverse_invoice": h_reverse_invoice,
    "delete_invoice": h_delete_invoice,
    "create_arpayment": h_create_arpayment,
    "apply_arpayment": h_apply_arpayment,
    "reverse_arpayment": h_reverse_arpayment,
}
