"""Element order and required children of the legacy (lowercase) A/R functions, checked before anything runs.

The real gateway validates these against its DTD/schema and answers a control-level XL03000003; the sandbox
does the same so client bugs in element order surface here rather than in production.

Order specs: slots separated by spaces; ``a|b`` is a choice (one of them), ``a&b`` a group whose members may
come in either order (each at most once). ``create_invoice`` has ``batchkey&action`` because the protocol
reference lists ``batchkey, action`` while the official Sage Intacct SDKs write ``action, batchkey``, and the
SDKs' ``onhold`` (after ``ponumber``), which the reference's list lacks.
"""

from __future__ import annotations

from lxml import etree

from ..config import STRICT_LEGACY_ELEMENT_ORDER
from ..envelope import schema_error
from ..xmlio import children


def _slots(spec: str) -> dict[str, int]:
    return {name: i for i, group in enumerate(spec.split()) for name in group.replace("&", "|").split("|")}


def _unordered(spec: str) -> set[str]:
    return {name for group in spec.split() if "&" in group for name in group.split("&")}


_CREATE_INVOICE = (
    "customerid datecreated dateposted datedue termname batchkey&action invoiceno ponumber onhold description "
    "externalid billto shipto basecurr currency exchratedate exchratetype|exchrate nogl supdocid customfields "
    "taxsolutionid invoiceitems")


ORDERS = {
    "create_invoice": _slots(_CREATE_INVOICE),
    # As the official SDKs' ArAdjustmentCreate writes it.
    "create_aradjustment": _slots(
        "customerid datecreated dateposted batchkey adjustmentno action invoiceno description externalid basecurr "
        "currency exchratedate exchratetype|exchrate nogl customfields aradjustmentitems"),
    "lineitem": _slots(
        "accountlabel|glaccountno offsetglaccountno amount allocationid memo locationid departmentid item1099 "
        "form1099type form1099box key totalpaid totaldue customfields revrectemplate defrevaccount revrecstartdate "
        "revrecenddate projectid taskid costtypeid customerid vendorid employeeid itemid classid contractid "
        "warehouseid billable totaltrxamount partialexempt paymenttaxcapture taxentries"),
    "create_arpayment": _slots(
        "customerid paymentamount translatedamount batchkey|bankaccountid|undepfundsacct refid overpaylocid "
        "overpaydeptid datereceived paymentmethod basecurr currency exchratedate exchratetype|exchrate cctype "
        "authcode arpaymentitem onlinecardpayment|onlineachpayment"),
    "apply_arpayment": _slots("arpaymentkey paymentdate batchkey memo overpaylocid overpaydeptid arpaymentitems"),
}
REQUIRED = {
    "create_invoice": ("customerid", "datecreated", "invoiceitems"),
    "create_aradjustment": ("customerid", "datecreated", "aradjustmentitems"),
    "lineitem": ("amount",),
    "create_arpayment": ("customerid", "paymentamount"),
    "apply_arpayment": ("arpaymentkey", "paymentdate"),
}
REPEATABLE = {"arpaymentitem", "lineitem", "onlinecardpayment", "onlineachpayment"}
UNORDERED = _unordered(_CREATE_INVOICE)


def _check(element: etree._Element, name: str) -> None:
    order = ORDERS[name]
    last = -1
    seen_in_slot: set[str] = set()
    for child in children(element):
        slot = order.get(child.tag)
        same_slot_ok = slot == last and (child.tag in REPEATABLE
                                         or (child.tag in UNORDERED and child.tag not in seen_in_slot))
        if slot is None or slot < last or (slot == last and not same_slot_ok):
            expected = ", ".join(k for k, v in sorted(order.items(), key=lambda kv: kv[1])
                                 if v > last or (v == last and k in UNORDERED and k not in seen_in_slot))
            raise schema_error(f"Error 1871: Element '{child.tag}': This element is not expected. "
                               f"Expected is one of ( {expected} )", child.sourceline)
        if slot != last:
            seen_in_slot = set()
        seen_in_slot.add(child.tag)
        last = slot
    present = {child.tag for child in children(element)}
    for required in REQUIRED.get(name, ()):
        if required not in present:
            raise schema_error(f"Error 1871: Element '{element.tag}': Missing child element(s). Expected is "
                               f"( {required} )", element.sourceline)


def validate(name: str, element: etree._Element) -> None:
    """Raise a control-level schema error for misplaced, unknown or missing legacy elements."""
    if not STRICT_LEGACY_ELEMENT_ORDER or name not in ORDERS:
        return
    _check(element, name)
    lines_container = {"create_invoice": "invoiceitems", "create_aradjustment": "aradjustmentitems"}.get(name)
    if lines_container:
        items = element.find(lines_container)
        for line in children(items) if items is not None else []:
            if line.tag != "lineitem":
                raise schema_error(f"Error 1871: Element '{line.tag}': This element is not expected. Expected is "
                                   f"( lineitem )", line.sourceline)
            _check(line, "lineitem")
