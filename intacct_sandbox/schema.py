"""Object catalogue: every object, its fields, their types and storage columns.

Each modelled field is a real SQLite column (quoted, dots kept) so filters compile to indexed SQL.
Fields the catalogues list but the sandbox does not model are accepted and always empty.
Money is stored as integer cents, dates as ``YYYY-MM-DD``, timestamps as ``YYYY-MM-DD HH:MM:SS`` (UTC; served in
the company's zone, see ``zone.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import zone

INT, MONEY, DATE, TS, BOOL, TEXT = "int", "money", "date", "ts", "bool", "text"

CONTACT_SUBFIELDS = [
    "CONTACTNAME", "PREFIX", "FIRSTNAME", "INITIAL", "LASTNAME", "COMPANYNAME", "PRINTAS", "PHONE1", "PHONE2",
    "CELLPHONE", "PAGER", "FAX", "EMAIL1", "EMAIL2", "URL1", "URL2", "VISIBLE", "MAILADDRESS.ADDRESS1",
    "MAILADDRESS.ADDRESS2", "MAILADDRESS.ADDRESS3", "MAILADDRESS.CITY", "MAILADDRESS.STATE", "MAILADDRESS.ZIP",
    "MAILADDRESS.COUNTRY", "MAILADDRESS.COUNTRYCODE"
]

STATUS_ALIASES = {"T": "active", "F": "inactive", "true": "active", "false": "inactive"}


@dataclass(frozen=True)
class FieldDef:
    """One queryable field; ``column`` is None for catalogue fields the sandbox does not model."""

    name: str
    type: str = TEXT
    column: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass
class ObjectDef:
    """One Intacct object as the sandbox stores and serves it."""

    name: str
    table: str
    label: str
    id_field: str | None
    fields: dict[str, FieldDef]
    base_where: str = ""
    lines: tuple[str, str, str, str] | None = None  # (container, item tag, child object, parent key field)
    readable_by_name: bool = True

    def field(self, name: str) -> FieldDef | None:
        return self.fields.get(name.upper())

    @property
    def columns(self) -> list[tuple[str, str]]:
        """(column, type) of modelled fields that own their column (aliases excluded)."""
        return [(f.column, f.type) for f in self.fields.values() if f.column == f.name]

    @property
    def star_fields(self) -> list[str]:
        return list(self.fields)


def _build(specs: list[tuple[str, str]] | list[tuple], unmodelled: str = "", aliases: dict[str, str] | None = None,
           enums: dict[str, dict[str, str]] | None = None) -> dict[str, FieldDef]:
    fields: dict[str, FieldDef] = {}
    enums = enums or {}
    for name, ftype in specs:
        fields[name] = FieldDef(name, ftype, name, enums.get(name, {}))
    for alias, target in (aliases or {}).items():
        base = fields[target]
        fields[alias] = FieldDef(alias, base.type, base.column, base.aliases)
    for name in unmodelled.split():
        fields.setdefault(name, FieldDef(name))
    return fields


_AUDIT = [("WHENCREATED", TS), ("WHENMODIFIED", TS), ("CREATEDBY", TEXT), ("MODIFIEDBY", TEXT),
          ("MEGAENTITYKEY", INT), ("MEGAENTITYID", TEXT), ("MEGAENTITYNAME", TEXT)]

_CUSTOMER_SPECS = [
    ("RECORDNO", INT), ("CUSTOMERID", TEXT), ("NAME", TEXT), ("STATUS", TEXT), ("ONETIME", BOOL), ("ONHOLD", BOOL),
    ("CUSTTYPE", TEXT), ("TAXID", TEXT), ("PARENTKEY", INT), ("PARENTID", TEXT), ("PARENTNAME", TEXT),
    ("CUSTREPNAME", TEXT), ("GLGRPKEY", INT), ("GLGROUP", TEXT), ("ENTITY", TEXT), ("OBJECTRESTRICTION", TEXT),
    ("TERMNAME", TEXT), ("CURRENCY", TEXT), ("TOTALDUE", MONEY), ("CREDITLIMIT", MONEY), ("ARACCOUNT", TEXT),
    ("OFFSETGLACCOUNTNO", TEXT), ("DELIVERY_OPTIONS", TEXT), ("COMMENTS", TEXT),
    *[(f"DISPLAYCONTACT.{sub}", TEXT) for sub in CONTACT_SUBFIELDS],
    *_AUDIT,
]
# Other contacts of a customer are served as views of its display contact (reads only); on create/update
# these groups name *other* contacts, so writes to them never reach DISPLAYCONTACT.
CONTACT_REFERENCE_GROUPS = ("BILLTO", "SHIPTO", "CONTACTINFO")
_CUSTOMER_ALIASES = {f"{group}.{sub}": f"DISPLAYCONTACT.{sub}"
                     for group in CONTACT_REFERENCE_GROUPS for sub in CONTACT_SUBFIELDS}
# Accepted by create/update and empty on reads: fields the official Sage Intacct SDKs write for CUSTOMER.
_CUSTOMER_UNMODELLED = (
    "RECORD_URL HIDEDISPLAYCONTACT CUSTREPID TERRITORYID SUPDOCID SHIPPINGMETHOD RESALENO DELIVERYOPTIONS "
    "CUSTMESSAGEID ARINVOICEPRINTTEMPLATEID OEQUOTEPRINTTEMPLATEID OEORDERPRINTTEMPLATEID OELISTPRINTTEMPLATEID "
    "OEINVOICEPRINTTEMPLATEID OEADJPRINTTEMPLATEID OEOTHERPRINTTEMPLATEID RESTRICTEDLOCATIONS "
    "RESTRICTEDDEPARTMENTS DISPLAYCONTACT.TAXABLE DISPLAYCONTACT.TAXGROUP"
)

_INVOICE_SPECS = [
    ("RECORDNO", INT), ("RECORDID", TEXT), ("DOCNUMBER", TEXT), ("CUSTOMERID", TEXT), ("CUSTOMERNAME", TEXT),
    ("STATE", TEXT), ("WHENCREATED", DATE), ("WHENPOSTED", DATE), ("WHENDUE", DATE), ("WHENPAID", DATE),
    ("WHENMODIFIED", TS), ("AUWHENCREATED", TS), ("TOTALENTERED", MONEY), ("TOTALPAID", MONEY),
    ("TOTALDUE", MONEY), ("TOTALSELECTED", MONEY), ("CURRENCY", TEXT), ("BASECURR", TEXT), ("DESCRIPTION", TEXT),
    ("TERMNAME", TEXT), ("DUE_IN_DAYS", INT), ("MODULEKEY", TEXT), ("RECORDTYPE", TEXT), ("PRBATCH", TEXT),
    ("SYSTEMGENERATED", BOOL), ("CREATEDBY", TEXT), ("MODIFIEDBY", TEXT),
    ("MEGAENTITYKEY", INT), ("MEGAENTITYID", TEXT), ("MEGAENTITYNAME", TEXT),
]
_INVOICE_UNMODELLED = (
    "CUSTMESSAGEID CUSTMESSAGE.MESSAGE DESCRIPTION2 WHENDISCOUNT EXCH_RATE_DATE EXCH_RATE_TYPE_ID EXCHANGE_RATE "
    "BILLTOPAYTOCONTACTNAME SHIPTORETURNTOCONTACTNAME SHIPTO.VISIBLE BILLTO.VISIBLE SHIPTO.TAXGROUP.NAME SHIPTO.TAXID "
    "SHIPTO.TAXGROUP.RECORDNO TAXSOLUTIONID TAXMETHOD RETAINAGEPERCENTAGE TRX_TOTALRETAINED TRX_TOTALRELEASED "
    "TOTALRETAINED PRBATCHKEY RECORD_URL "
    + " ".join(f"{g}.{s}" for g in ("CONTACT", "SHIPTO", "BILLTO") for s in CONTACT_SUBFIELDS)
)
_INVOICE_ALIASES = {"TRX_TOTALENTERED": "TOTALENTERED", "TRX_TOTALPAID": "TOTALPAID", "TRX_TOTALDUE": "TOTALDUE",
                    "TRX_TOTALSELECTED": "TOTALSELECTED"}

_ITEM_SPECS = [
    ("RECORDNO", INT), ("RECORDKEY", INT), ("LINE_NO", INT), ("ACCOUNTKEY", INT), ("ACCOUNTNO", TEXT),
    ("ACCOUNTTITLE", TEXT), ("ACCOUNTLABELKEY", INT), ("ACCOUNTLABEL", TEXT), ("OFFSETACCOUNTKEY", INT),
    ("OFFSETGLACCOUNTNO", TEXT), ("OFFSETGLACCOUNTTITLE", TEXT), ("AMOUNT", MONEY), ("ENTRYDESCRIPTION", TEXT),
    ("LOCATIONID", TEXT), ("LOCATIONNAME", TEXT), ("DEPARTMENTID", TEXT), ("DEPARTMENTNAME", TEXT),
    ("TOTALPAID", MONEY), ("TOTALSELECTED", MONEY), ("CURRENCY", TEXT), ("BASECURR", TEXT), ("ENTRY_DATE", DATE),
    ("STATE", TEXT), ("RECORDTYPE", TEXT), ("CUSTOMERID", TEXT), ("CUSTOMERNAME", TEXT), ("BASELOCATION", TEXT),
    *_AUDIT,
]
_ITEM_UNMODELLED = (
    "EXCH_RATE_DATE EXCH_RATE_TYPE_ID EXCHANGE_RATE ALLOCATIONKEY ALLOCATION LINEITEM TRX_DISCOUNTAPPLIED SUBTOTAL "
    "PARENTENTRY PAYMENTTAXCAPTURE DEFERREVENUE REVRECTEMPLATEKEY REVRECTEMPLATE DEFERREDREVACCTKEY DEFERREDREVACCTNO "
    "DEFERREDREVACCTTITLE REVRECSTARTDATE REVRECENDDATE BILLABLECONTRACTSCHENTRYKEY BILLABLECONTRACTUSAGEBILLINGID "
    "DETAILKEY RETAINAGEPERCENTAGE TRX_AMOUNTRETAINED AMOUNTRETAINED TRX_AMOUNTRELEASED RETAINAGE_OFFSETGLACCOUNTNO "
    "PROJECTCONTRACTID PROJECTCONTRACTKEY PROJECTCONTRACTLINEID PROJECTCONTRACTLINEKEY PROJECTCONTRACTNAME "
    "PROJECTCONTRACTLINENAME ISRETAINAGERELEASE ISSUMMARIZED AMORTIZATIONTEMPLATEKEY AMORTIZATIONTEMPLATEID "
    "AMORTIZATIONSTARTDATE AMORTIZATIONENDDATE ORIGDOCKEY ORIGDOCLINEKEY ORIGDOCID ORIGDOCLINEID CLASSDIMKEY CLASSID "
    "CLASSNAME CUSTOMERDIMKEY VENDORDIMKEY VENDORID VENDORNAME EMPLOYEEDIMKEY EMPLOYEEID EMPLOYEENAME ITEMDIMKEY "
    "ITEMID ITEMNAME PROJECTDIMKEY PROJECTID PROJECTNAME CONTRACTDIMKEY CONTRACTID CONTRACTNAME"
)
_ITEM_ALIASES = {"TRX_AMOUNT": "AMOUNT", "TRX_TOTALPAID": "TOTALPAID", "TRX_TOTALSELECTED": "TOTALSELECTED"}

PAYMENT_STATE_ALIASES = {"Draft": "D", "Complete": "C", "Reversed": "V", "Voided": "V"}
_PAYMENT_SPECS = [
    ("RECORDNO", INT), ("RECORDID", TEXT), ("RECORDTYPE", TEXT), ("STATE", TEXT), ("DISPLAYSTATE", TEXT),
    ("PAYMENTMETHOD", TEXT), ("CUSTOMERID", TEXT), ("CUSTOMERNAME", TEXT), ("PAYERNAME", TEXT), ("DOCNUMBER", TEXT),
    ("DESCRIPTION", TEXT), ("FINANCIALENTITY", TEXT), ("FINANCIALENTITYTYPE", TEXT), ("FINANCIALACCOUNTNAME", TEXT),
    ("UNDEPOSITEDACCOUNTNO", TEXT), ("RECEIPTDATE", DATE), ("WHENPAID", DATE), ("WHENCREATED", DATE),
    ("WHENMODIFIED", TS), ("AUWHENCREATED", TS), ("CURRENCY", TEXT), ("BASECURR", TEXT), ("TOTALENTERED", MONEY),
    ("TOTALPAID", MONEY), ("TOTALDUE", MONEY), ("PARENTPAYMENTKEY", INT), ("CLEARED", TEXT), ("CLRDATE", DATE),
    ("PRBATCHKEY", INT), ("PRBATCH", TEXT), ("CREATEDBY", TEXT), ("MODIFIEDBY", TEXT),
    ("MEGAENTITYKEY", INT), ("MEGAENTITYID", TEXT), ("MEGAENTITYNAME", TEXT),
]
_PAYMENT_UNMODELLED = (
    "FINANCIALACCOUNTCURRENCY SUMMARYTITLE PAYMENTMETHODKEY EXCH_RATE_DATE EXCH_RATE_TYPE_ID EXCHANGE_RATE "
    "BILLTOPAYTONAME BILLTOPAYTOKEY TAXSOLUTIONID SUPDOCID MULTIENTITYPYMTKEY RECORD_URL"
)
_PAYMENT_ALIASES = {"TRX_TOTALENTERED": "TOTALENTERED", "TRX_TOTALPAID": "TOTALPAID", "TRX_TOTALDUE": "TOTALDUE"}

_DETAIL_SPECS = [
    ("RECORDNO", INT), ("PAYMENTKEY", INT), ("RECORDKEY", INT), ("ENTRYKEY", INT), ("PAYMENTAMOUNT", MONEY),
    ("ADJUSTMENTKEY", INT), ("ADJUSTMENTAMOUNT", MONEY),
    ("PAYMENTDATE", DATE), ("CURRENCY", TEXT), ("STATE", TEXT), *_AUDIT,
]

# AR adjustments (credit/debit memos) share the invoice's header and line shapes; RECORDID = adjustment number,
# DOCNUMBER = the invoice number the adjustment names (mapping unverified), RECORDTYPE 'ra'.
_ADJUSTMENT_SPECS = [spec for spec in _INVOICE_SPECS if spec[0] not in ("WHENDUE", "TERMNAME", "DUE_IN_DAYS")]
_ADJUSTMENT_UNMODELLED = (
    "DESCRIPTION2 EXCH_RATE_DATE EXCH_RATE_TYPE_ID EXCHANGE_RATE BILLTOPAYTOCONTACTNAME TAXSOLUTIONID PRBATCHKEY "
    "RECORD_URL ADJUSTMENTNO INVOICENO")

# Accepted by create/update and empty on reads: GLACCOUNT fields the official SDKs' AccountCreate/Update write.
_GLACCOUNT_UNMODELLED = (
    "RECORD_URL TAXCODE MRCCODE TAXABLE REQUIREPROJECT REQUIRECUSTOMER REQUIREVENDOR REQUIREEMPLOYEE REQUIREITEM "
    "REQUIRECLASS REQUIRECONTRACT REQUIREWAREHOUSE")
_GLACCOUNT_SPECS = [
    ("RECORDNO", INT), ("ACCOUNTNO", TEXT), ("TITLE", TEXT), ("ACCOUNTTYPE", TEXT), ("NORMALBALANCE", TEXT),
    ("CLOSINGTYPE", TEXT), ("CLOSINGACCOUNTNO", TEXT), ("CATEGORY", TEXT), ("ALTERNATIVEACCOUNT", TEXT),
    ("STATUS", TEXT), ("REQUIREDEPT", BOOL), ("REQUIRELOC", BOOL), *_AUDIT,
]
_LABEL_SPECS = [
    ("RECORDNO", INT), ("ACCOUNTLABEL", TEXT), ("DESCRIPTION", TEXT), ("GLACCOUNTNO", TEXT),
    ("OFFSETGLACCOUNTNO", TEXT), ("STATUS", TEXT), *_AUDIT,
]
_LOCATION_SPECS = [
    ("RECORDNO", INT), ("LOCATIONID", TEXT), ("NAME", TEXT), ("PARENTID", TEXT), ("PARENTKEY", INT),
    ("STATUS", TEXT), ("CURRENCY", TEXT), ("SUPERVISORID", TEXT), ("CUSTTITLE", TEXT), ("STARTDATE", DATE),
    ("ENDDATE", DATE), *_AUDIT,
]
_LOCATIONENTITY_UNMODELLED = (
    "REPORTPRINTAS FIRSTMONTH FIRSTMONTHTAX WEEKSTART FEDERALID HAS_IE_RELATION CUSTOMERID CUSTOMERNAME VENDORID "
    "VENDORNAME TAXID ENABLELEGALCONTACT LEGALNAME LEGALADDRESS1 LEGALADDRESS2 LEGALCITY LEGALSTATE LEGALZIPCODE "
    "LEGALCOUNTRY OPCOUNTRY ADDRESSCOUNTRYDEFAULT RECORD_URL"
)
_DEPARTMENT_SPECS = [
    ("RECORDNO", INT), ("DEPARTMENTID", TEXT), ("TITLE", TEXT), ("PARENTKEY", INT), ("PARENTID", TEXT),
    ("SUPERVISORNAME", TEXT), ("STATUS", TEXT), ("CUSTTITLE", TEXT), *_AUDIT,
]

# Checking accounts (the bank accounts a payment can be deposited to, `bankaccountid` of create_arpayment).
_CHECKING_SPECS = [
    ("RECORDNO", INT), ("BANKACCOUNTID", TEXT), ("BANKACCOUNTNO", TEXT), ("GLACCOUNTNO", TEXT), ("BANKNAME", TEXT),
    ("CURRENCY", TEXT), ("STATUS", TEXT), ("LOCATIONID", TEXT), *_AUDIT,
]
_CHECKING_UNMODELLED = "ROUTINGNO BRANCHID BANKACCOUNTTYPE PHONE DEPARTMENTID RECORD_URL"

_STATUS = {"STATUS": STATUS_ALIASES}

OBJECTS: dict[str, ObjectDef] = {
    "CUSTOMER": ObjectDef("CUSTOMER", "customer", "Customer", "CUSTOMERID",
                          _build(_CUSTOMER_SPECS, _CUSTOMER_UNMODELLED, _CUSTOMER_ALIASES, _STATUS)),
    "ARINVOICE": ObjectDef("ARINVOICE", "arinvoice", "Invoice", None,
                           _build(_INVOICE_SPECS, _INVOICE_UNMODELLED, _INVOICE_ALIASES),
                           lines=("ARINVOICEITEMS", "arinvoiceitem", "ARINVOICEITEM", "RECORDKEY"),
                           readable_by_name=False),
    "ARINVOICEITEM": ObjectDef("ARINVOICEITEM", "arinvoiceitem", "Invoice Line", None,
                               _build(_ITEM_SPECS, _ITEM_UNMODELLED, _ITEM_ALIASES), readable_by_name=False),
    "ARPYMT": ObjectDef("ARPYMT", "arpymt", "AR Payment", None,
                        _build(_PAYMENT_SPECS, _PAYMENT_UNMODELLED, _PAYMENT_ALIASES,
                               {"STATE": PAYMENT_STATE_ALIASES}),
                        lines=("ARPYMTDETAILS", "arpymtdetail", "ARPYMTDETAIL", "PAYMENTKEY"),
                        readable_by_name=False),
    "ARPYMTDETAIL": ObjectDef("ARPYMTDETAIL", "arpymtdetail", "AR Payment Detail", None,
                              _build(_DETAIL_SPECS, "", {"TRX_PAYMENTAMOUNT": "PAYMENTAMOUNT"}),
                              readable_by_name=False),
    "GLACCOUNT": ObjectDef("GLACCOUNT", "glaccount", "GL Account", "ACCOUNTNO",
                           _build(_GLACCOUNT_SPECS, _GLACCOUNT_UNMODELLED, None, {
                               **_STATUS,
                               "ACCOUNTTYPE": {"N": "balancesheet", "I": "incomestatement"},
                               "NORMALBALANCE": {"1": "debit", "-1": "credit"},
                           })),
    "ARACCOUNTLABEL": ObjectDef("ARACCOUNTLABEL", "araccountlabel", "AR Account Label", "ACCOUNTLABEL",
                                _build(_LABEL_SPECS, "RECORD_URL", None, _STATUS)),
    "LOCATION": ObjectDef("LOCATION", "location", "Location", "LOCATIONID",
                          _build(_LOCATION_SPECS, "RECORD_URL CONTACTINFO.CONTACTNAME SHIPTO.CONTACTNAME",
                                 None, _STATUS)),
    "LOCATIONENTITY": ObjectDef("LOCATIONENTITY", "location", "Entity", "LOCATIONID",
                                _build(_LOCATION_SPECS, _LOCATIONENTITY_UNMODELLED, None, _STATUS),
                                base_where="is_entity = 1"),
    "DEPARTMENT": ObjectDef("DEPARTMENT", "department", "Department", "DEPARTMENTID",
                            _build(_DEPARTMENT_SPECS, "RECORD_URL SUPERVISORID", None, _STATUS)),
    "CHECKINGACCOUNT": ObjectDef("CHECKINGACCOUNT", "checkingaccount", "Checking Account", "BANKACCOUNTID",
                                 _build(_CHECKING_SPECS, _CHECKING_UNMODELLED, None, _STATUS)),
    "ARADJUSTMENT": ObjectDef("ARADJUSTMENT", "aradjustment", "Adjustment", None,
                              _build(_ADJUSTMENT_SPECS, _ADJUSTMENT_UNMODELLED, _INVOICE_ALIASES),
                              lines=("ARADJUSTMENTITEMS", "aradjustmentitem", "ARADJUSTMENTITEM", "RECORDKEY"),
                              readable_by_name=False),
    "ARADJUSTMENTITEM": ObjectDef("ARADJUSTMENTITEM", "aradjustmentitem", "Adjustment Line", None,
                                  _build(_ITEM_SPECS, _ITEM_UNMODELLED, _ITEM_ALIASES), readable_by_name=False),
}
OBJECT_ALIASES = {"ARPAYMENT": "ARPYMT"}
TABLE_OWNERS = ["CUSTOMER", "ARINVOICE", "ARINVOICEITEM", "ARPYMT", "ARPYMTDETAIL", "GLACCOUNT", "ARACCOUNTLABEL",
                "LOCATION", "DEPARTMENT", "CHECKINGACCOUNT", "ARADJUSTMENT", "ARADJUSTMENTITEM"]
INDEXES = {
    "customer": ["CUSTOMERID", "WHENMODIFIED", "NAME"],
    "arinvoice": ["RECORDID", "WHENMODIFIED", "STATE,TOTALDUE", "TOTALDUE", "CUSTOMERID", "WHENDUE", "DOCNUMBER"],
    "arinvoiceitem": ["RECORDKEY"],
    "arpymt": ["CUSTOMERID", "WHENMODIFIED", "DOCNUMBER", "PARENTPAYMENTKEY"],
    "arpymtdetail": ["PAYMENTKEY", "RECORDKEY"],
    "glaccount": ["ACCOUNTNO"],
    "araccountlabel": ["ACCOUNTLABEL"],
    "location": ["LOCATIONID"],
    "department": ["DEPARTMENTID"],
    "checkingaccount": ["BANKACCOUNTID"],
    "aradjustment": ["CUSTOMERID", "WHENMODIFIED", "RECORDID"],
    "aradjustmentitem": ["RECORDKEY"],
}


def lookup_object(name: str) -> ObjectDef | None:
    upper = (name or "").strip().upper()
    return OBJECTS.get(OBJECT_ALIASES.get(upper, upper))


# --- value formatting (database -> response text) ---

def format_money(cents: int | None) -> str:
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    if rest == 0:
        return f"{sign}{whole}"
    if rest % 10 == 0:
        return f"{sign}{whole}.{rest // 10}"
    return f"{sign}{whole}.{rest:02d}"


def _fmt_date(value: str | None) -> str:
    if not value:
        return ""
    return f"{value[5:7]}/{value[8:10]}/{value[0:4]}"


def _fmt_ts(value: str | None) -> str:
    if not value:
        return ""
    return zone.stored_to_local(value)


def _fmt_bool(value: int | None) -> str:
    if value is None:
        return ""
    return "true" if value else "false"


def _fmt_plain(value: object) -> str:
    return "" if value is None else str(value)


FORMATTERS: dict[str, Callable[[object], str]] = {
    INT: _fmt_plain, MONEY: format_money, DATE: _fmt_date, TS: _fmt_ts, BOOL: _fmt_bool, TEXT: _fmt_plain,
}
