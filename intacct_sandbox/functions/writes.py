"""Generic ``create`` / ``update`` / ``delete`` for CUSTOMER, ARPYMT, GLACCOUNT, ARACCOUNTLABEL, LOCATION,
DEPARTMENT (plus ``delete`` of ARINVOICE)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from ..config import REJECT_UNKNOWN_CREATE_FIELDS
from ..context import Context
from ..db import by_id, by_key, insert, next_sequence, q, update
from ..errors import ErrorEntry, FunctionError, bl, could_not
from ..invoices import delete_invoice
from ..ledger import active_gl, dimension
from ..payments import Application, PaymentInput, create_payment, delete_draft, submit_draft
from ..schema import CONTACT_REFERENCE_GROUPS, OBJECTS, ObjectDef, lookup_object
from ..seed import TERMS
from ..values import parse_date, parse_decimal, to_cents, to_stored
from ..xmlio import Node, children, leaf
from .common import arg

READ_ONLY = {"RECORDNO", "WHENCREATED", "WHENMODIFIED", "CREATEDBY", "MODIFIEDBY", "TOTALDUE", "MEGAENTITYKEY",
             "MEGAENTITYID", "MEGAENTITYNAME", "RECORD_URL", "AUWHENCREATED"}
PAYMENT_INPUT_ONLY = {"ACTION", "PAYMENTDATE", "OVERPAYMENTAMOUNT", "OVERPAYMENTLOCATIONID", "OVERPAYMENTDEPARTMENTID",
                      "EXCH_RATE_TYPE_ID", "EXCHANGE_RATE", "AMOUNTOPAY", "TRX_AMOUNTTOPAY", "BILLTOPAYTONAME",
                      "PRBATCH", "ARPYMTDETAILS"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def flatten(element: etree._Element, prefix: str = "") -> dict[str, Any]:
    """Nested blocks become dotted names; ``ARPYMTDETAILS`` keeps its items as a list of dicts."""
    out: dict[str, Any] = {}
    for child in children(element):
        name = child.tag.upper()
        if name == "ARPYMTDETAILS":
            out[name] = [flatten(item) for item in children(child)]
        elif children(child):
            out.update(flatten(child, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = (child.text or "").strip()
    return out


def _store_values(obj: ObjectDef, flat: dict[str, Any], verb: str, extra_ok: set[str] = frozenset()) -> dict:
    values: dict[str, Any] = {}
    for name, text in flat.items():
        if name in extra_ok:
            continue
        fdef = obj.field(name)
        if fdef is None:
            if REJECT_UNKNOWN_CREATE_FIELDS:
                raise could_not(verb, obj.label, bl(f"Unknown field '{name}' for object {obj.name}.",
                                                    "Use field names of the object (see lookup)."))
            continue
        if fdef.column is None or name in READ_ONLY:
            continue
        if obj.name == "CUSTOMER" and name.partition(".")[0] in CONTACT_REFERENCE_GROUPS:
            continue
        if text == "":
            values[fdef.column] = None
            continue
        try:
            values[fdef.column] = to_stored(fdef, text)
        except ValueError as exc:
            raise could_not(verb, obj.label, ErrorEntry("BL03000018", f"Illegal format for {name} : {exc}.", "",
                                                        f"Correct the value of {name}.")) from None
    return values


def _duplicate(obj: ObjectDef, ident: str, verb: str) -> FunctionError:
    return could_not(verb, obj.label, ErrorEntry("BL34000061", f"Another {obj.label} with the given value(s) "
                                                 f"{ident}  already exists", "", "Use a unique value instead."))


def _require(obj: ObjectDef, values: dict, names: list[str], verb: str) -> None:
    for name in names:
        if values.get(name) in (None, ""):
            raise could_not(verb, obj.label, bl(f"Required field {name} is missing.", f"Provide {name}."))


def _status_default(values: dict) -> None:
    values.setdefault("STATUS", "active")
    if values["STATUS"] not in ("active", "inactive"):
        raise FunctionError(bl(f"Invalid STATUS '{values['STATUS']}': use active or inactive."))


# --- per-object rules ---

def _customer(ctx: Context, obj: ObjectDef, flat: dict, existing: dict | None, verb: str) -> dict:
    values = _store_values(obj, flat, verb)
    for key in ("DISPLAYCONTACT.EMAIL1", "DISPLAYCONTACT.EMAIL2"):
        email = values.get(key)
        if email and not _EMAIL.match(email):
            label = "Primary" if key.endswith("1") else "Secondary"
            raise could_not(verb, obj.label, ErrorEntry(
                "BL03000018", f"Illegal format for Contactversion : {label} Email Address {email}.", "",
                "Enter a valid email address."))
    if values.get("TERMNAME") and values["TERMNAME"] not in TERMS:
        raise could_not(verb, obj.label, bl(f"Invalid Term '{values['TERMNAME']}' specified.",
                                            f"Use one of: {', '.join(TERMS)}."))
    if values.get("PARENTID"):
        parent = by_id(ctx.conn, obj, ctx.company_id, values["PARENTID"])
        if parent is None:
            raise could_not(verb, obj.label, bl(f"Invalid parent customer '{values['PARENTID']}' specified."))
        values.update(PARENTKEY=parent["RECORDNO"], PARENTNAME=parent["NAME"])
    if existing is None:
        has_contact = any(k.startswith("DISPLAYCONTACT.") for k in flat)
        if has_contact and not flat.get("DISPLAYCONTACT.PRINTAS"):
            raise could_not(verb, obj.label, bl("Required field Print As (DISPLAYCONTACT.PRINTAS) is missing.",
                                                "Provide DISPLAYCONTACT.PRINTAS."))
        _require(obj, values, ["NAME"], verb)
        if not values.get("CUSTOMERID"):
            while True:
                candidate = f"C-{next_sequence(ctx.conn, ctx.company_id, 'customer', 50001):05d}"
                if by_id(ctx.conn, obj, ctx.company_id, candidate) is None:
                    values["CUSTOMERID"] = candidate
                    break
        _status_default(values)
        values.setdefault("DISPLAYCONTACT.CONTACTNAME", values["NAME"])
        values.setdefault("DISPLAYCONTACT.PRINTAS", values["NAME"])
        values.setdefault("CURRENCY", "USD")
        values.setdefault("OBJECTRESTRICTION", "Unrestricted")
        values.update(TOTALDUE=0, ONETIME=values.get("ONETIME", 0), ONHOLD=values.get("ONHOLD", 0))
    return values


def _glaccount(ctx: Context, obj: ObjectDef, flat: dict, existing: dict | None, verb: str) -> dict:
    values = _store_values(obj, flat, verb)
    if existing is None:
        _require(obj, values, ["ACCOUNTNO", "TITLE"], verb)
        if by_id(ctx.conn, obj, ctx.company_id, values["ACCOUNTNO"]) is not None:
            raise could_not(verb, obj.label, bl(f"The account number '{values['ACCOUNTNO']}' already exists",
                                                "Use a unique value instead."))
        _status_default(values)
        values.setdefault("ACCOUNTTYPE", "incomestatement")
        values.setdefault("NORMALBALANCE", "credit" if values["ACCOUNTTYPE"] == "incomestatement" else "debit")
        values.setdefault("CLOSINGTYPE", "closing account" if values["ACCOUNTTYPE"] == "incomestatement"
                          else "non-closing account")
        values.setdefault("ALTERNATIVEACCOUNT", "None")
    for name, allowed in (("ACCOUNTTYPE", ("balancesheet", "incomestatement")), ("NORMALBALANCE", ("debit", "credit"))):
        if name in values and values[name] not in allowed:
            raise could_not(verb, obj.label, bl(f"Invalid {name} '{values[name]}': use {' or '.join(allowed)}."))
    return values


def _label(ctx: Context, obj: ObjectDef, flat: dict, existing: dict | None, verb: str) -> dict:
    values = _store_values(obj, flat, verb)
    if existing is None:
        _require(obj, values, ["ACCOUNTLABEL", "DESCRIPTION", "GLACCOUNTNO"], verb)
        values.setdefault("OFFSETGLACCOUNTNO", "1200")
        _status_default(values)
    for key in ("GLACCOUNTNO", "OFFSETGLACCOUNTNO"):
        if values.get(key):
            active_gl(ctx, values[key], verb, obj.label)
    return values


def _location(ctx: Context, obj: ObjectDef, flat: dict, existing: dict | None, verb: str) -> dict:
    values = _store_values(obj, flat, verb)
    if existing is None:
        _require(obj, values, ["LOCATIONID", "NAME"], verb)
        _status_default(values)
        values.setdefault("CURRENCY", "USD")
    if values.get("PARENTID"):
        parent = dimension(ctx, obj, values["PARENTID"], verb, obj.label, "Parent Location")
        values["PARENTKEY"] = parent["RECORDNO"]
    return values


def _department(ctx: Context, obj: ObjectDef, flat: dict, existing: dict | None, verb: str) -> dict:
    values = _store_values(obj, flat, verb)
    if existing is None:
        _require(obj, values, ["DEPARTMENTID", "TITLE"], verb)
        _status_default(values)
    if values.get("PARENTID"):
        parent = dimension(ctx, obj, values["PARENTID"], verb, obj.label, "Parent Department")
        values["PARENTKEY"] = parent["RECORDNO"]
    return values


BUILDERS: dict[str, Callable[[Context, ObjectDef, dict, dict | None, str], dict]] = {
    "CUSTOMER": _customer, "GLACCOUNT": _glaccount, "ARACCOUNTLABEL": _label, "LOCATION": _location,
    "DEPARTMENT": _department,
}


def _payment_input(ctx: Context, flat: dict) -> PaymentInput:
    obj = OBJECTS["ARPYMT"]
    unknown = [k for k in flat if obj.field(k) is None and k not in PAYMENT_INPUT_ONLY]
    if unknown and REJECT_UNKNOWN_CREATE_FIELDS:
        raise could_not("create", obj.label, bl(f"Unknown field '{unknown[0]}' for object ARPYMT."))
    apps = []
    for detail in flat.get("ARPYMTDETAILS", []):
        amount_text = detail.get("TRX_PAYMENTAMOUNT") or detail.get("PAYMENTAMOUNT") or ""
        try:
            amount = to_cents(parse_decimal(amount_text))
            entry = int(detail["ENTRYKEY"]) if detail.get("ENTRYKEY") else None
        except (ValueError, KeyError):
            raise could_not("create", obj.label, bl(f"Invalid ARPYMTDETAIL amount or ENTRYKEY '{amount_text}'.")) \
                from None
        apps.append(Application(detail.get("RECORDKEY", ""), amount, entry))
    over_text = flat.get("OVERPAYMENTAMOUNT") or ""
    try:
        overpayment = to_cents(parse_decimal(over_text)) if over_text else 0
        receipt = parse_date(flat["RECEIPTDATE"]).isoformat() if flat.get("RECEIPTDATE") else ""
    except ValueError as exc:
        raise could_not("create", obj.label, ErrorEntry("BL03000018", f"Illegal format: {exc}.")) from None
    if not receipt:
        raise could_not("create", obj.label, bl("Required field RECEIPTDATE is missing.", "Provide RECEIPTDATE."))
    action = flat.get("ACTION") or "Submit"
    if action not in ("Submit", "Draft"):
        raise could_not("create", obj.label, bl(f"Invalid ACTION '{action}'; use Submit or Draft."))
    return PaymentInput(
        customer_id=flat.get("CUSTOMERID", ""), amount=sum(a.amount for a in apps) + overpayment,
        method=flat.get("PAYMENTMETHOD") or "", receipt_date=receipt,
        undeposited_account=flat.get("UNDEPOSITEDACCOUNTNO", ""), bank_account=flat.get("FINANCIALENTITY", ""),
        batch_key=flat.get("PRBATCHKEY", ""), docnumber=flat.get("DOCNUMBER", ""),
        description=flat.get("DESCRIPTION", ""), currency=flat.get("CURRENCY") or "USD", draft=action == "Draft",
        applications=apps)


def _object(element: etree._Element, verb: str) -> ObjectDef:
    obj = lookup_object(element.tag)
    if obj is None or (obj.name not in BUILDERS and obj.name not in ("ARPYMT", "ARINVOICE")):
        raise FunctionError(bl(f"{verb} is not supported for object {element.tag} in the sandbox.",
                               "Supported: CUSTOMER, ARPYMT, GLACCOUNT, ARACCOUNTLABEL, LOCATION, DEPARTMENT."))
    if obj.name == "ARINVOICE":
        raise FunctionError(bl(f"AR invoices cannot be {verb}d with the generic {verb} function; use "
                               f"{verb}_invoice.", f"Use <{verb}_invoice>."),
                            bl(f"Could not {verb} Invoice record!"))
    return obj


def _created_node(obj: ObjectDef, key: int, ident: str | None) -> Node:
    node = Node(obj.name.lower()).add(leaf("RECORDNO", str(key)))
    if obj.id_field:
        node.add(leaf(obj.id_field, ident or ""))
    return node


def create_object(ctx: Context, obj: ObjectDef, flat: dict) -> tuple[int, str | None]:
    """Validate and insert one master-data record from flattened fields; returns (RECORDNO, ID)."""
    values = BUILDERS[obj.name](ctx, obj, flat, None, "create")
    ident = values.get(obj.id_field)
    if obj.id_field and ident and by_id(ctx.conn, obj, ctx.company_id, ident) is not None:
        raise _duplicate(obj, ident, "create")
    values.update(WHENCREATED=ctx.stamp, **ctx.audit_new())
    return insert(ctx.conn, obj, ctx.company_id, values), ident


def update_object(ctx: Context, obj: ObjectDef, flat: dict, row: dict) -> tuple[int, str | None]:
    """Apply supplied fields to an existing master-data record; returns (RECORDNO, ID)."""
    if obj.id_field and flat.get(obj.id_field) == row[obj.id_field]:
        flat.pop(obj.id_field)
    flat.pop("RECORDNO", None)
    values = BUILDERS[obj.name](ctx, obj, flat, row, "update")
    new_ident = values.get(obj.id_field) if obj.id_field else None
    if new_ident and new_ident != row[obj.id_field] and by_id(ctx.conn, obj, ctx.company_id, new_ident):
        raise _duplicate(obj, new_ident, "update")
    update(ctx.conn, obj, row["RECORDNO"], {**values, **ctx.audit_change()})
    return row["RECORDNO"], new_ident or (row[obj.id_field] if obj.id_field else None)


def create(ctx: Context, el: etree._Element) -> Node:
    data = Node("data", attrs=[("listtype", "objects"), ("count", "0")])
    made = []
    for element in children(el):
        obj = _object(element, "create")
        flat = flatten(element)
        if obj.name == "ARPYMT":
            key = create_payment(ctx, _payment_input(ctx, flat))
            made.append(_created_node(obj, key, None))
            continue
        made.append(_created_node(obj, *create_object(ctx, obj, flat)))
    if not made:
        raise FunctionError(bl("create needs at least one object element."))
    data.attrs = [("listtype", "objects"), ("count", str(len(made)))]
    return data.add(*made)


def _find_for_update(ctx: Context, obj: ObjectDef, flat: dict) -> dict:
    row = None
    if flat.get("RECORDNO"):
        try:
            row = by_key(ctx.conn, obj, ctx.company_id, int(flat["RECORDNO"]))
        except ValueError:
            row = None
        key = flat["RECORDNO"]
    elif obj.id_field and flat.get(obj.id_field):
        row = by_id(ctx.conn, obj, ctx.company_id, flat[obj.id_field])
        key = flat[obj.id_field]
    else:
        raise could_not("update", obj.label, bl(f"Give RECORDNO{' or ' + obj.id_field if obj.id_field else ''} "
                                                f"to identify the {obj.label} to update."))
    if row is None:
        raise could_not("update", obj.label, bl(f"Cannot find {obj.name.lower()} with key '{key}' to update."))
    return row


def update_fn(ctx: Context, el: etree._Element) -> Node:
    made = []
    for element in children(el):
        obj = _object(element, "update")
        flat = flatten(element)
        row = _find_for_update(ctx, obj, flat)
        if obj.name == "ARPYMT":
            if row["STATE"] != "D":
                raise could_not("update", obj.label, bl(f"Payment {row['RECORDNO']} is complete; only draft "
                                                        f"payments can be updated."))
            if (flat.get("ACTION") or "") == "Submit":
                submit_draft(ctx, row)
            made.append(_created_node(obj, row["RECORDNO"], None))
            continue
        made.append(_created_node(obj, *update_object(ctx, obj, flat, row)))
    return Node("data", attrs=[("listtype", "objects"), ("count", str(len(made)))]).add(*made)


def delete(ctx: Context, el: etree._Element) -> None:
    name = arg(el, "object") or ""
    obj = lookup_object(name)
    if obj is None or (obj.name not in BUILDERS and obj.name not in ("ARPYMT", "ARINVOICE")):
        raise FunctionError(bl(f"delete is not supported for object {name} in the sandbox."))
    keys = [k.strip() for k in (arg(el, "keys") or "").split(",") if k.strip()]
    if not keys:
        raise FunctionError(bl("delete needs <keys>."))
    for key in keys:
        row = by_key(ctx.conn, obj, ctx.company_id, int(key)) if key.isdigit() else None
        if row is None and obj.id_field:
            row = by_id(ctx.conn, obj, ctx.company_id, key)
        if row is None:
            raise FunctionError(bl(f"Cannot find {obj.name.lower()} with key '{key}' to delete."))
        _delete_row(ctx, obj, row)


def delete_row(ctx: Context, obj: ObjectDef, row: dict) -> None:
    """Delete one record after the checks that keep the ledger consistent (shared with legacy deletes)."""
    _delete_row(ctx, obj, row)


def _delete_row(ctx: Context, obj: ObjectDef, row: dict) -> None:
    if obj.name == "ARINVOICE":
        delete_invoice(ctx, row)
        return
    if obj.name == "ARPYMT":
        delete_draft(ctx, row)
        return
    references = {
        "CUSTOMER": [("arinvoice", "CUSTOMERID"), ("arpymt", "CUSTOMERID"), ("aradjustment", "CUSTOMERID")],
        "GLACCOUNT": [("araccountlabel", "GLACCOUNTNO"), ("arinvoiceitem", "ACCOUNTNO"),
                      ("aradjustmentitem", "ACCOUNTNO")],
        "ARACCOUNTLABEL": [("arinvoiceitem", "ACCOUNTLABEL"), ("aradjustmentitem", "ACCOUNTLABEL")],
        "LOCATION": [("arinvoiceitem", "LOCATIONID"), ("aradjustmentitem", "LOCATIONID")],
        "DEPARTMENT": [("arinvoiceitem", "DEPARTMENTID"), ("aradjustmentitem", "DEPARTMENTID")],
    }.get(obj.name, [])
    for table, column in references:
        used = ctx.conn.execute(f"SELECT 1 FROM {table} WHERE company = ? AND {q(column)} = ? LIMIT 1",
                                (ctx.company_id, row[obj.id_field])).fetchone()
        if used:
            why = "account labels post to it" if table == "araccountlabel" else "transactions use it"
            raise FunctionError(bl(f"Cannot delete {obj.label} '{row[obj.id_field]}': {why}.",
                                   "Make it inactive instead."))
    if obj.name == "GLACCOUNT" and row["ACCOUNTNO"] in ("1200",):
        raise FunctionError(bl("Cannot delete the A/R control account."))
    ctx.conn.execute(f'DELETE FROM {obj.table} WHERE "RECORDNO" = ?', (row["RECORDNO"],))


HANDLERS = {"create": create, "update": update_fn, "delete": delete}
