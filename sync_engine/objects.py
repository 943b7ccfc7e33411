"""What we read from Intacct, declared once: each object's name, key, ID field, modified-date field and fields.

Mapping these records onto the ledger lives in sync_engine.imports; this module only describes them.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IntacctObject:
    name: str
    key_field: str
    id_field: str | None
    modified_field: str
    fields: tuple[str, ...]


CUSTOMER = IntacctObject(
    name="CUSTOMER",
    key_field="RECORDNO",
    id_field="CUSTOMERID",
    modified_field="WHENMODIFIED",
    fields=(
        "RECORDNO", "CUSTOMERID", "NAME", "STATUS", "TERMNAME", "CURRENCY", "TOTALDUE",
        "DISPLAYCONTACT.EMAIL1", "DISPLAYCONTACT.PHONE1", "DISPLAYCONTACT.MAILADDRESS.ADDRESS1",
        "DISPLAYCONTACT.MAILADDRESS.CITY", "DISPLAYCONTACT.MAILADDRESS.STATE", "DISPLAYCONTACT.MAILADDRESS.ZIP",
        "DISPLAYCONTACT.MAILADDRESS.COUNTRY", "WHENMODIFIED",
    ),
)

AR_INVOICE = IntacctObject(
    name="ARINVOICE",
    key_field="RECORDNO",
    id_field="RECORDID",
    modified_field="WHENMODIFIED",
    fields=(
        "RECORDNO", "RECORDID", "DOCNUMBER", "CUSTOMERID", "STATE", "WHENCREATED", "WHENDUE",
        "TOTALENTERED", "TOTALPAID", "TOTALDUE", "CURRENCY", "DESCRIPTION", "WHENMODIFIED",
    ),
)

AR_INVOICE_ITEM = IntacctObject(
    name="ARINVOICEITEM",
    key_field="RECORDNO",
    id_field=None,
    modified_field="WHENMODIFIED",
    fields=(
        "RECORDNO", "RECORDKEY", "LINE_NO", "ACCOUNTNO", "ACCOUNTLABEL", "AMOUNT", "ENTRYDESCRIPTION",
        "LOCATIONID", "DEPARTMENTID",
    ),
)

AR_PAYMENT = IntacctObject(
    name="ARPYMT",
    key_field="RECORDNO",
    id_field=None,
    modified_field="WHENMODIFIED",
    fields=("RECORDNO", "RECORDID", "CUSTOMERID", "DOCNUMBER", "RECEIPTDATE", "WHENCREATED", "TOTALENTERED", "STATE",
            "PAYMENTMETHOD", "CURRENCY", "PARENTPAYMENTKEY", "WHENMODIFIED"),
)

# Intacct's invoice STATE -> the ledger's invoice status.
INVOICE_STATUS_BY_STATE = {
    "draft": "draft",
    "posted": "open",
    "partially paid": "partially_paid",
    "paid": "paid",
    "reversed": "voided",
}
