"""A/R invoices: create from lines, update, reverse, delete, with totals in integer cents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from .context import Context
from .db import fetch_all, insert, next_sequence, update
from .errors import ErrorEntry, bl, could_not
from .ledger import (
    AR_ACCOUNT,
    DEPARTMENT,
    INVOICE,
    LINE,
    LOCATION,
    active_customer,
    active_gl,
    active_label,
    dimension,
    record_by_key,
    refresh_customer,
)
from .seed import TERMS

LABEL = "Invoice"
EMPTY_LOCATION = "Use of empty Location is invalid. A valid Multi-Entity Location must be specified."


@dataclass
class LineInput:
    amount: int
    glaccountno: str = ""
    accountlabel: str = ""
    memo: str = ""
    locationid: str = ""
    departmentid: str = ""


@dataclass
class InvoiceInput:
    customer_id: str
    date_created: date
    lines: list[LineInput]
    date_posted: date | None = None
    date_due: date | None = None
    term_name: str = ""
    action: str = "Submit"
    invoice_no: str = ""
    po_number: str = ""
    description: str = ""
    currency: str = "USD"
    extra: dict = field(default_factory=dict)


def _line_row(ctx: Context, line: LineInput, position: int, verb: str) -> dict:
    if bool(line.glaccountno) == bool(line.accountlabel):
        raise could_not(verb, LABEL, bl(f"Line {position}: give exactly one of glaccountno or accountlabel."))
    label_row = None
    if line.accountlabel:
        label_row = active_label(ctx, line.accountlabel, verb, LABEL)
        account = active_gl(ctx, label_row["GLACCOUNTNO"], verb, LABEL)
    else:
        account = active_gl(ctx, line.glaccountno, verb, LABEL)
    row = {"ACCOUNTKEY": account["RECORDNO"], "ACCOUNTNO": account["ACCOUNTNO"], "ACCOUNTTITLE": account["TITLE"],
           "ACCOUNTLABEL": line.accountlabel or None, "ACCOUNTLABELKEY": label_row["RECORDNO"] if label_row else None,
           "OFFSETGLACCOUNTNO": (label_row or {}).get("OFFSETGLACCOUNTNO") or AR_ACCOUNT,
           "OFFSETGLACCOUNTTITLE": "Accounts Receivable", "AMOUNT": line.amount,
           "ENTRYDESCRIPTION": line.memo or None, "LINE_NO": position, "TOTALPAID": 0, "TOTALSELECTED": 0}
    if line.locationid:
        loc = dimension(ctx, LOCATION, line.locationid, verb, LABEL, "Location")
        row.update(LOCATIONID=loc["LOCATIONID"], LOCATIONNAME=loc["NAME"])
    elif ctx.company.multi_entity:
        raise could_not(verb, LABEL, bl(EMPTY_LOCATION))
    if line.departmentid:
        dep = dimension(ctx, DEPARTMENT, line.departmentid, verb, LABEL, "Department")
        row.update(DEPARTMENTID=dep["DEPARTMENTID"], DEPARTMENTNAME=dep["TITLE"])
    return row


line_row = _line_row  # shared with AR adjustments (same line rules)


def _due_date(data: InvoiceInput, verb: str) -> tuple[date, int | None]:
    if data.term_name and data.term_name not in TERMS:
        raise could_not(verb, LABEL, bl(f"Invalid Term '{data.term_name}' specified.",
                                        f"Use one of: {', '.join(TERMS)}."))
    if data.date_due:
        return data.date_due, (data.date_due - data.date_created).days
    if data.term_name:
        days = TERMS[data.term_name]
        return data.date_created + timedelta(days=days), days
    raise could_not(verb, LABEL, bl("Either a due date (datedue) or a term (termname) is required."))


def _check_number(ctx: Context, number: str, verb: str, exclude: int | None = None) -> None:
    if not ctx.services.config.reject_duplicate_invoice_numbers:
        return
    row = ctx.conn.execute('SELECT "RECORDNO" FROM arinvoice WHERE company = ? AND "RECORDID" = ? '
                           'AND "RECORDNO" != ?', (ctx.company_id, number, exclude or -1)).fetchone()
    if row:
        raise could_not(verb, LABEL, ErrorEntry("BL34000061", f"Another Invoice with the given value(s) {number}  "
                                                f"already exists", "", "Use a unique value instead."))


def create_invoice(ctx: Context, data: InvoiceInput) -> int:
    verb = "create"
    customer = active_customer(ctx, data.customer_id, verb, LABEL)
    if not data.lines:
        raise could_not(verb, LABEL, bl("An invoice needs at least one line item."))
    if data.action not in ("Submit", "Draft"):
        raise could_not(verb, LABEL, bl(f"Invalid action '{data.action}'; use Submit or Draft."))
    lines = [_line_row(ctx, line, i + 1, verb) for i, line in enumerate(data.lines)]
    due, due_days = _due_date(data, verb)
    number = data.invoice_no or f"INV-S{next_sequence(ctx.conn, ctx.company_id, 'invoice', 900001)}"
    _check_number(ctx, number, verb)
    total = sum(line["AMOUNT"] for line in lines)
    state = "Posted" if data.action == "Submit" else "Draft"
    created = data.date_created.isoformat()
    header = {
        "RECORDID": number, "DOCNUMBER": data.po_number or None, "CUSTOMERID": customer["CUSTOMERID"],
        "CUSTOMERNAME": customer["NAME"], "STATE": state, "WHENCREATED": created,
        "WHENPOSTED": (data.date_posted or data.date_created).isoformat(), "WHENDUE": due.isoformat(),
        "AUWHENCREATED": ctx.stamp, "TOTALENTERED": total, "TOTALPAID": 0, "TOTALDUE": total, "TOTALSELECTED": 0,
        "CURRENCY": data.currency or "USD", "BASECURR": "USD", "DESCRIPTION": data.description or None,
        "TERMNAME": data.term_name or None, "DUE_IN_DAYS": due_days, "MODULEKEY": "4.AR", "RECORDTYPE": "ri",
        "SYSTEMGENERATED": 0, **ctx.audit_new(),
    }
    key = insert(ctx.conn, INVOICE, ctx.company_id, header)
    _insert_lines(ctx, key, lines, header)
    refresh_customer(ctx, customer["CUSTOMERID"])
    return key


def _insert_lines(ctx: Context, key: int, lines: list[dict], header: dict) -> None:
    for line in lines:
        insert(ctx.conn, LINE, ctx.company_id, {
            **line, "RECORDKEY": key, "CURRENCY": header["CURRENCY"], "BASECURR": "USD",
            "ENTRY_DATE": header["WHENCREATED"], "STATE": header["STATE"], "RECORDTYPE": "ri",
            "CUSTOMERID": header["CUSTOMERID"], "CUSTOMERNAME": header["CUSTOMERNAME"], "WHENCREATED": ctx.stamp,
            **ctx.audit_new()})


def find_invoice(ctx: Context, key: str | None, verb: str) -> dict:
    return record_by_key(ctx, INVOICE, key, verb=verb, label=LABEL,
                         missing=f"Cannot find arinvoice with key '{key}' to {verb}.",
                         hint="Use the RECORDNO of an existing AR invoice.")


def _unpaid(invoice: dict, verb: str) -> None:
    if (invoice["TOTALPAID"] or 0) or (invoice["TOTALSELECTED"] or 0):
        raise could_not(verb, LABEL, bl(f"Invoice {invoice['RECORDID']} has payments applied or selected; "
                                        f"reverse or delete the payments first."))


def update_invoice(ctx: Context, invoice: dict, header: dict, line_updates: dict[int, dict],
                   new_lines: list[LineInput]) -> None:
    verb = "update"
    if invoice["STATE"] == "Reversed":
        raise could_not(verb, LABEL, bl(f"Invoice {invoice['RECORDID']} is reversed and cannot be updated."))
    _unpaid(invoice, verb)
    changes: dict = {}
    if "customer_id" in header and header["customer_id"] != invoice["CUSTOMERID"]:
        customer = active_customer(ctx, header["customer_id"], verb, LABEL)
        changes.update(CUSTOMERID=customer["CUSTOMERID"], CUSTOMERNAME=customer["NAME"])
    if "invoice_no" in header:
        _check_number(ctx, header["invoice_no"], verb, invoice["RECORDNO"])
        changes["RECORDID"] = header["invoice_no"]
    for src, dst in (("po_number", "DOCNUMBER"), ("description", "DESCRIPTION")):
        if src in header:
            changes[dst] = header[src] or None
    created = header.get("date_created") or date.fromisoformat(invoice["WHENCREATED"])
    if "date_created" in header:
        changes["WHENCREATED"] = created.isoformat()
    if "date_posted" in header:
        changes["WHENPOSTED"] = header["date_posted"].isoformat()
    if "date_due" in header or "term_name" in header:
        probe = InvoiceInput("", created, [], date_due=header.get("date_due"),
                             term_name=header.get("term_name", invoice["TERMNAME"] or ""))
        due, days = _due_date(probe, verb)
        changes.update(WHENDUE=due.isoformat(), DUE_IN_DAYS=days, TERMNAME=probe.term_name or None)
    if "action" in header:
        if header["action"] == "Submit" and invoice["STATE"] == "Draft":
            changes["STATE"] = "Posted"
        elif header["action"] == "Draft" and invoice["STATE"] != "Draft":
            raise could_not(verb, LABEL, bl("A posted invoice cannot be changed back to a draft."))
    existing = fetch_all(ctx.conn, LINE, ctx.company_id, '"RECORDKEY" = ?', [invoice["RECORDNO"]],
                         order='"LINE_NO"')
    for line_num, fields in line_updates.items():
        if line_num < 1 or line_num > len(existing):
            raise could_not(verb, LABEL, bl(f"Invalid line_num {line_num}: the invoice has {len(existing)} lines."))
        current = existing[line_num - 1]
        merged = LineInput(
            amount=fields.get("amount", current["AMOUNT"]),
            glaccountno=fields.get("glaccountno", "" if "accountlabel" in fields else
                                   ("" if current["ACCOUNTLABEL"] else current["ACCOUNTNO"])),
            accountlabel=fields.get("accountlabel", "" if "glaccountno" in fields else (current["ACCOUNTLABEL"] or "")),
            memo=fields.get("memo", current["ENTRYDESCRIPTION"] or ""),
            locationid=fields.get("locationid", current["LOCATIONID"] or ""),
            departmentid=fields.get("departmentid", current["DEPARTMENTID"] or ""))
        row = _line_row(ctx, merged, line_num, verb)
        update(ctx.conn, LINE, current["RECORDNO"], {**row, **ctx.audit_change()})
    state = changes.get("STATE", invoice["STATE"])
    merged_header = {**invoice, **changes}
    if new_lines:
        rows = [_line_row(ctx, line, len(existing) + i + 1, verb) for i, line in enumerate(new_lines)]
        _insert_lines(ctx, invoice["RECORDNO"], rows, merged_header)
    total = ctx.conn.execute('SELECT COALESCE(SUM("AMOUNT"), 0) FROM arinvoiceitem WHERE "RECORDKEY" = ?',
                             (invoice["RECORDNO"],)).fetchone()[0]
    changes.update(TOTALENTERED=total, TOTALDUE=total, **ctx.audit_change())
    update(ctx.conn, INVOICE, invoice["RECORDNO"], changes)
    ctx.conn.execute('UPDATE arinvoiceitem SET "STATE" = ?, "CUSTOMERID" = ?, "CUSTOMERNAME" = ? '
                     'WHERE "RECORDKEY" = ?', (state, merged_header["CUSTOMERID"], merged_header["CUSTOMERNAME"],
                                               invoice["RECORDNO"]))
    refresh_customer(ctx, invoice["CUSTOMERID"])
    if merged_header["CUSTOMERID"] != invoice["CUSTOMERID"]:
        refresh_customer(ctx, merged_header["CUSTOMERID"])


def reverse_invoice(ctx: Context, invoice: dict, description: str = "") -> None:
    verb = "reverse"
    if invoice["STATE"] in ("Draft", "Reversed"):
        raise could_not(verb, LABEL, bl(f"Invoice {invoice['RECORDID']} cannot be reversed in state "
                                        f"{invoice['STATE']}."))
    _unpaid(invoice, verb)
    changes = {"STATE": "Reversed", "TOTALDUE": 0, **ctx.audit_change()}
    if description:
        changes["DESCRIPTION"] = description
    update(ctx.conn, INVOICE, invoice["RECORDNO"], changes)
    ctx.conn.execute('UPDATE arinvoiceitem SET "STATE" = \'Reversed\', "WHENMODIFIED" = ? WHERE "RECORDKEY" = ?',
                     (ctx.stamp, invoice["RECORDNO"]))
    refresh_customer(ctx, invoice["CUSTOMERID"])


def delete_invoice(ctx: Context, invoice: dict) -> None:
    _unpaid(invoice, "delete")
    ctx.conn.execute('DELETE FROM arinvoiceitem WHERE "RECORDKEY" = ?', (invoice["RECORDNO"],))
    ctx.conn.execute('DELETE FROM arinvoice WHERE "RECORDNO" = ?', (invoice["RECORDNO"],))
    refresh_customer(ctx, invoice["CUSTOMERID"])
