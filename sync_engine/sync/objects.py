"""What we read from Intacct, declared once: each object's name, key, modified-date field and fields.

Every read of a declared object goes through `sync_engine.sync.windows`: incremental reads filter on
`modified_field` and page on `key_field`. Mapping the records onto the ledger lives in sync_engine.sync.imports;
this module only describes them.
"""
from __future__ import annotations

from dataclasses import dataclass

from sync_engine.intacct.paging import KeysetQueryPager


@dataclass(frozen=True)
class IntacctObject:
    name: str
    key_field: str  # numeric and unique: the keyset pager's key
    modified_field: str  # the incremental window's field
    fields: tuple[str, ...]

    def pager(self) -> KeysetQueryPager:
        return KeysetQueryPager(self.key_field)


CUSTOMER = IntacctObject(
    name="CUSTOMER",
    key_field="RECORDNO",
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
    modified_field="WHENMODIFIED",
    fields=(
        "RECORDNO", "RECORDID", "DOCNUMBER", "CUSTOMERID", "STATE", "WHENCREATED", "WHENDUE",
        "TOTALENTERED", "TOTALPAID", "TOTALDUE", "CURRENCY", "DESCRIPTION", "WHENMODIFIED",
    ),
)

AR_INVOICE_ITEM = IntacctObject(
    name="ARINVOICEITEM",
    key_field="RECORDNO",
    modified_field="WHENMODIFIED",
    fields=(
        "RECORDNO", "RECORDKEY", "LINE_NO", "ACCOUNTNO", "ACCOUNTLABEL", "AMOUNT", "ENTRYDESCRIPTION",
        "LOCATIONID", "DEPARTMENTID",
    ),
)

AR_PAYMENT = IntacctObject(
    name="ARPYMT",
    key_field="RECORDNO",
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
