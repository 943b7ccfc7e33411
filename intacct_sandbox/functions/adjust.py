"""Legacy A/R adjustment functions: create_aradjustment, delete_aradjustment.

They are what the official SDKs' ArAdjustmentCreate/Delete write (element order checked in ``requestrules``);
``create_aradjustment`` answers ``<key>`` like the other legacy creates (unverified). There is no
``apply_aradjustment``: no schema, SDK or documentation has one (credits are applied through ARPYMT).
"""

from __future__ import annotations

from lxml import etree

from ..adjustments import AdjustmentInput, create_adjustment, delete_adjustment, find_adjustment
from ..context import Context
from ..errors import bl, could_not
from ..xmlio import children
from .ar import _line, legacy_date
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


HANDLERS = {
    "create_aradjustment": h_create_aradjustment,
    "delete_aradjustment": h_delete_aradjustment,
}
