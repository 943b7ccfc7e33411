"""Legacy (2.1-style, lowercase) master-data functions: create/update/delete_customer and the legacy deletes the
official SDKs write for locations, departments, GL accounts and AR account labels.

They share the generic functions' validation (``writes.create_object`` / ``update_object`` / ``delete_row``):
a legacy call is translated into the CUSTOMER fields the generic ``create``/``update`` take.

Unverified (no public XML fixture of the responses): ``create_customer`` / ``update_customer`` answer with
``<key>`` = the CUSTOMERID; ``contactinfo/contact`` is the customer's display contact (DISPLAYCONTACT) while
``primary``, ``billto``, ``shipto`` and ``contactlist`` name other contacts and are accepted but not modelled.
Child elements may come in any order; unknown ones fail the function like unknown generic fields do.
"""

from __future__ import annotations

from lxml import etree

from ..context import Context
from ..db import by_id
from ..errors import FunctionError, bl, could_not
from ..schema import OBJECTS, ObjectDef
from ..xmlio import children
from .common import arg
from .writes import create_object, delete_row, update_object

CUSTOMER = OBJECTS["CUSTOMER"]

# legacy element -> CUSTOMER field (None = accepted, not modelled)
_CUSTOMER_FIELDS: dict[str, str | None] = {
    "customerid": "CUSTOMERID", "name": "NAME", "parentid": "PARENTID", "termname": "TERMNAME",
    "custrepid": "CUSTREPID", "shippingmethod": "SHIPPINGMETHOD", "custtype": "CUSTTYPE", "taxid": "TAXID",
    "creditlimit": "CREDITLIMIT", "territoryid": "TERRITORYID", "resaleno": "RESALENO",
    "deliveryoptions": "DELIVERYOPTIONS", "glaccountno": "ARACCOUNT", "glgroup": "GLGROUP", "onhold": "ONHOLD",
    "comments": "COMMENTS", "status": "STATUS", "currency": "CURRENCY", "onetime": "ONETIME",
    "supdocid": "SUPDOCID", "custmessageid": "CUSTMESSAGEID", "offsetglaccountno": "OFFSETGLACCOUNTNO",
    "accountlabel": None, "externalid": None, "vsoepricelist": None, "customfields": None, "visibility": None,
    "primary": None, "billto": None, "shipto": None, "contactlist": None, "contactinfo": None,
}
_CONTACT_FIELDS = {
    "contactname", "printas", "companyname", "taxable", "taxgroup", "prefix", "firstname", "lastname", "initial",
    "phone1", "phone2", "cellphone", "pager", "fax", "email1", "email2", "url1", "url2", "visible",
}
_ADDRESS_FIELDS = {"address1", "address2", "address3", "city", "state", "zip", "country", "countrycode"}
_BOOLEANS = {"ONHOLD", "ONETIME"}


def _contact(contact: etree._Element, verb: str) -> dict[str, str]:
    flat: dict[str, str] = {}
    for child in children(contact):
        tag = child.tag.lower()
        if tag == "mailaddress":
            for part in children(child):
                if part.tag.lower() not in _ADDRESS_FIELDS:
                    raise _unknown(f"contactinfo/contact/mailaddress/{part.tag}", verb)
                flat[f"DISPLAYCONTACT.MAILADDRESS.{part.tag.upper()}"] = (part.text or "").strip()
        elif tag in _CONTACT_FIELDS:
            flat[f"DISPLAYCONTACT.{tag.upper()}"] = (child.text or "").strip()
        else:
            raise _unknown(f"contactinfo/contact/{child.tag}", verb)
    return flat


def _unknown(path: str, verb: str) -> FunctionError:
    return could_not(verb, CUSTOMER.label, bl(f"Unknown element '{path}' in {verb}_customer.",
                                              "Use the elements of the legacy customer functions."))


def customer_fields(el: etree._Element, verb: str) -> dict[str, str]:
    """The generic CUSTOMER fields a legacy create/update_customer element stands for."""
    flat: dict[str, str] = {}
    for child in children(el):
        tag = child.tag.lower()
        if tag not in _CUSTOMER_FIELDS:
            raise _unknown(child.tag, verb)
        if tag == "contactinfo":
            for contact in children(child):
                if contact.tag.lower() == "contact":
                    flat.update(_contact(contact, verb))
            continue
        target = _CUSTOMER_FIELDS[tag]
        if target is None:
            continue
        value = (child.text or "").strip()
        if target in _BOOLEANS and value.upper() in ("T", "F"):
            value = "true" if value.upper() == "T" else "false"
        flat[target] = value
    return flat


def create_customer(ctx: Context, el: etree._Element) -> str:
    flat = customer_fields(el, "create")
    if any(k.startswith("DISPLAYCONTACT.") for k in flat) and not flat.get("DISPLAYCONTACT.PRINTAS"):
        flat["DISPLAYCONTACT.PRINTAS"] = flat.get("NAME", "")
    _, ident = create_object(ctx, CUSTOMER, flat)
    return ident or ""


def _customer_row(ctx: Context, el: etree._Element, verb: str) -> dict:
    ident = el.get("customerid") or arg(el, "customerid") or ""
    row = by_id(ctx.conn, CUSTOMER, ctx.company_id, ident) if ident else None
    if row is None:
        raise could_not(verb, CUSTOMER.label, bl(f"Cannot find customer with key '{ident}' to {verb}.",
                                                 "Use the CUSTOMERID of an existing customer."))
    return row


def update_customer(ctx: Context, el: etree._Element) -> str:
    row = _customer_row(ctx, el, "update")
    flat = customer_fields(el, "update")
    flat.setdefault("CUSTOMERID", row["CUSTOMERID"])
    _, ident = update_object(ctx, CUSTOMER, flat, row)
    return ident or row["CUSTOMERID"]


def _legacy_delete(obj: ObjectDef, attribute: str):
    def handler(ctx: Context, el: etree._Element) -> None:
        ident = el.get(attribute) or arg(el, attribute) or ""
        row = by_id(ctx.conn, obj, ctx.company_id, ident) if ident else None
        if row is None:
            raise could_not("delete", obj.label, bl(f"Cannot find {obj.name.lower()} with key '{ident}' to delete.",
                                                    f"Give the {obj.id_field} of an existing {obj.label}."))
        delete_row(ctx, obj, row)
    handler.__name__ = f"delete_{obj.name.lower()}"
    return handler


HANDLERS = {
    "create_customer": create_customer,
    "update_customer": update_customer,
    "delete_customer": _legacy_delete(CUSTOMER, "customerid"),
    "delete_location": _legacy_delete(OBJECTS["LOCATION"], "locationid"),
    "delete_department": _legacy_delete(OBJECTS["DEPARTMENT"], "departmentid"),
    "delete_glaccount": _legacy_delete(OBJECTS["GLACCOUNT"], "glaccountno"),
    "delete_araccountlabel": _legacy_delete(OBJECTS["ARACCOUNTLABEL"], "accountlabel"),
}
