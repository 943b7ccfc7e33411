"""A/R adjustments (credit and debit memos): create and delete.

Modelled choices (unverified against the real gateway; each lives here):
- An adjustment is ARADJUSTMENT + ARADJUSTMENTITEM rows, lines validated like invoice lines; TOTALENTERED = sum of
  the lines. Negative total = credit memo, positive = debit memo.
- STATE `Posted` (action Submit, the default) or `Draft`. A credit memo's TOTALPAID/TOTALDUE carry its sign.
- Open adjustments count in the customer's TOTALDUE (a credit memo lowers it at once).
- Debit memos are recorded and raise the customer balance but cannot be paid in the sandbox.
- Applying credit to invoices is not modelled: Intacct applies credits through ARPYMT / ARPYMTDETAIL
  (ADJUSTMENTKEY), and no reference shows a function for it that the sandbox could follow. An adjustment whose
  TOTALPAID is not zero (none can be, here) cannot be deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .context import Context
from .db import insert, next_sequence
from .errors import bl, could_not
from .invoices import LineInput, line_row
from .ledger import record_by_key, ADJUSTMENT, ADJUSTMENT_LINE, active_customer, refresh_customer

LABEL = "Adjustment"


@dataclass
class AdjustmentInput:
    customer_id: str
    date_created: date
    lines: list[LineInput]
    date_posted: date | None = None
    action: str = "Submit"
    adjustment_no: str = ""
    invoice_no: str = ""
    description: str = ""
    currency: str = "USD"
    extra: dict = field(default_factory=dict)


def create_adjustment(ctx: Context, data: AdjustmentInput) -> int:
    verb = "create"
    customer = active_customer(ctx, data.customer_id, verb, LABEL)
    if not data.lines:
        raise could_not(verb, LABEL, bl("An adjustment needs at least one line item."))
    if data.action not in ("Submit", "Draft"):
        raise could_not(verb, LABEL, bl(f"Invalid action '{data.action}'; use Submit or Draft."))
    lines = [line_row(ctx, line, i + 1, verb) for i, line in enumerate(data.lines)]
    total = sum(line["AMOUNT"] for line in lines)
    if total == 0:
        raise could_not(verb, LABEL, bl("The adjustment total is zero.", "Give non-zero line amounts "
                                        "(negative for a credit memo)."))
    number = data.adjustment_no or f"ADJ-S{next_sequence(ctx.conn, ctx.company_id, 'adjustment', 700001)}"
    state = "Posted" if data.action == "Submit" else "Draft"
    created = data.date_created.isoformat()
    header = {
        "RECORDID": number, "DOCNUMBER": data.invoice_no or None, "CUSTOMERID": customer["CUSTOMERID"],
        "CUSTOMERNAME": customer["NAME"], "STATE": state, "WHENCREATED": created,
        "WHENPOSTED": (data.date_posted or data.date_created).isoformat(), "AUWHENCREATED": ctx.stamp,
        "TOTALENTERED": total, "TOTALPAID": 0, "TOTALDUE": total, "TOTALSELECTED": 0,
        "CURRENCY": data.currency or "USD", "BASECURR": "USD", "DESCRIPTION": data.description or None,
        "MODULEKEY": "4.AR", "RECORDTYPE": "ra", "SYSTEMGENERATED": 0, **ctx.audit_new(),
    }
    key = insert(ctx.conn, ADJUSTMENT, ctx.company_id, header)
    for line in lines:
        insert(ctx.conn, ADJUSTMENT_LINE, ctx.company_id, {
            **line, "RECORDKEY": key, "CURRENCY": header["CURRENCY"], "BASECURR": "USD", "ENTRY_DATE": created,
            "STATE": state, "RECORDTYPE": "ra", "CUSTOMERID": customer["CUSTOMERID"],
            "CUSTOMERNAME": customer["NAME"], "WHENCREATED": ctx.stamp, **ctx.audit_new()})
    refresh_customer(ctx, customer["CUSTOMERID"])
    return key


def find_adjustment(ctx: Context, key: str | None, verb: str) -> dict:
    return record_by_key(ctx, ADJUSTMENT, key, verb=verb, label=LABEL, missing=f"Cannot find aradjustment with key '{key}' to {verb}.",
                         hint="Use the RECORDNO of an existing AR adjustment.")


def delete_adjustment(ctx: Context, adjustment: dict) -> None:
    if adjustment["TOTALPAID"]:
        raise could_not("delete", LABEL, bl(f"Adjustment {adjustment['RECORDID']} has credit applied to invoices "
                                            f"and cannot be deleted."))
    ctx.conn.execute('DELETE FROM aradjustmentitem WHERE "RECORDKEY" = ?', (adjustment["RECORDNO"],))
    ctx.conn.execute('DELETE FROM aradjustment WHERE "RECORDNO" = ?', (adjustment["RECORDNO"],))
    refresh_customer(ctx, adjustment["CUSTOMERID"])
