"""Legacy A/R adjustment functions: create_aradjustment, delete_aradjustment, apply_aradjustment.

``create_aradjustment`` / ``delete_aradjustment`` are what the official SDKs' ArAdjustmentCreate/Delete write
(element order checked in ``legacy_schema``); ``create_aradjustment`` answers ``<key>`` like the other legacy
creates (unverified). ``apply_aradjustment`` is **sandbox-shaped and unverified**: neither official SDK writes
it; it takes ``aradjustmentkey``, optional ``paymentdate`` (legacy date block), optional ``memo`` and
``arpaymentitems/arpaymentitem(invoicekey, amount)`` like ``apply_arpayment``, and answers success without data.
"""

from __future__ import annotations

from lxml import etree

from ..adjustments import AdjustmentInput, apply_credit, create_adjustment, delete_adjustment, find_adjustment
from ..context import Context
from ..errors import bl, could_not
from ..xmlio import children
from .ar import _cents, _line, legacy_date
from .common import arg, find

LABEL = "Adjustment"


def h_create_aradjustment(ctx: Context, el: etree._Element) -> str:
    items = find(el, "aradjustmentitems")
    lines = [_line(line, "create") for line in children(items) if line.tag == "lineitem"] if items is not None else []
    created = legacy_date(find(el, "datecreated"), "datecreated", LABEL, "create")
    if created is None:
        raise could_not("create", LABEL, bl("Required field datecreated is missing."))
    data = AdjustmentInput(
        customer_id=arg(el, "customerid") or "", date_created=created, lines=lines,
        date_posted=legacy_date(find(el, "dateposted"), "dateposted", LABEL, "create"),
        action=arg(el, "action") or "Submit", adjustment_no=arg(el, "adjustmentno") or "",
        invoice_no=arg(el, "invoiceno") or "", description=arg(el, "description") or "",
        currency=arg(el, "currency") or "USD")
    return str(create_adjustment(ctx, data))


def h_delete_aradjustment(ctx: Context, el: etree._Element) -> None:
    delete_adjustment(ctx, find_adjustment(ctx, el.get("key") or arg(el, "key"), "delete"))


def h_apply_aradjustment(ctx: Context, el: etree._Element) -> None:
    adjustment = find_adjustment(ctx, arg(el, "aradjustmentkey"), "apply")
    when = legacy_date(find(el, "paymentdate"), "paymentdate", LABEL, "apply") or ctx.now.date()
    applications = []
    for container in children(el):
        if container.tag == "arpaymentitems":
            for item in children(container):
                if item.tag == "arpaymentitem":
                    applications.append((arg(item, "invoicekey") or "",
                                         _cents(arg(item, "amount"), "amount", "apply", LABEL)))
    apply_credit(ctx, adjustment, applications, when.isoformat())


HANDLERS = {
    "create_aradjustment": h_create_aradjustment,
    "delete_aradjustment": h_delete_aradjustment,
    "apply_aradjustment": h_apply_aradjustment,
}
