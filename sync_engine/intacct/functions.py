"""Builders for Intacct ``<function>`` payloads (reference section 6), built with lxml only.

Each builder returns a :class:`Function`; the envelope wraps it in ``<function controlid=...>``.
Values are always set as element text or attributes, never pasted into XML strings.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree

from .filters import Filter
from .values import format_decimal, format_value

MAX_QUERY_PAGE = 2000
MAX_READ_BY_QUERY_PAGE = 1000
MAX_READ_KEYS = 100
# Intacct's own default rate type (documented for create_invoice / create_arpayment); the v3.0 schema requires
# exchratetype or exchrate after currency, so a foreign-currency document always names one.
DEFAULT_EXCHANGE_RATE_TYPE = "Intacct Daily Rate"
PAYMENT_METHODS = frozenset({"Printed Check", "Cash", "EFT", "Credit Card", "Online Charge Card", "Online ACH Debit"})


@dataclass(frozen=True)
class Function:
    """One function of a request: its element name, controlid, payload and whether it writes."""

    name: str
    controlid: str
    element: etree._Element
    is_write: bool

    def to_xml(self) -> bytes:
        """The payload as bytes (for tests and debugging)."""
        return etree.tostring(self.element, encoding="utf-8")


def _auto_controlid(name: str, controlid: str | None) -> str:
    if controlid is None:
        return f"{name}-{uuid.uuid4().hex[:16]}"
    return _required_controlid(controlid)


def _required_controlid(controlid: str) -> str:
    if not isinstance(controlid, str) or not controlid.strip():
        raise ValueError("a write needs a deterministic, non-empty controlid supplied by the caller")
    if len(controlid) > 256:
        raise ValueError("controlid is too long (max 256 characters)")
    return controlid


def _sub(parent: etree._Element, tag: str, text: object | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = text if isinstance(text, str) else format_value(text)
    return el


def _object_name(obj: str) -> str:
    if not isinstance(obj, str) or not obj.strip():
        raise ValueError("object name must be a non-empty string")
    return obj.strip().upper()


def _keys_text(keys: str | int | Sequence[str | int]) -> str:
    items = [keys] if isinstance(keys, (str, int)) else list(keys)
    texts = [str(k).strip() for k in items]
    if not texts or any(not t for t in texts):
        raise ValueError("keys must be non-empty")
    if any("," in t for t in texts):
        raise ValueError("a key cannot contain a comma")
    if len(texts) > MAX_READ_KEYS:
        raise ValueError(f"at most {MAX_READ_KEYS} keys per call, got {len(texts)}")
    return ",".join(texts)


def _fields_text(fields: str | Sequence[str]) -> str:
    items = [fields] if isinstance(fields, str) else list(fields)
    if not items:
        raise ValueError("fields must not be empty")
    return ",".join(f.strip() for f in items)


def _legacy_date(parent: etree._Element, tag: str, value: date) -> None:
    el = etree.SubElement(parent, tag)
    _sub(el, "year", f"{value.year:04d}")
    _sub(el, "month", f"{value.month:02d}")
    _sub(el, "day", f"{value.day:02d}")


def _custom_fields(parent: etree._Element, fields: Mapping[str, object] | None) -> None:
    """``<customfields><customfield><customfieldname/><customfieldvalue/>`` in the caller's order."""
    if not fields:
        return
    block = etree.SubElement(parent, "customfields")
    for name, value in fields.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a custom field needs a non-empty name")
        field = etree.SubElement(block, "customfield")
        _sub(field, "customfieldname", name.strip())
        _sub(field, "customfieldvalue", "" if value is None else value)


def _currency_block(parent: etree._Element, *, currency: str | None, base_currency: str | None,
                    exchange_rate_type: str | None, exchange_rate: Decimal | None,
                    exchange_rate_date: date | None) -> None:
    """``basecurr? currency (exchratedate? exchratetype | exchrate)``: the schema's currency group."""
    if not currency:
        if base_currency or exchange_rate is not None or exchange_rate_date is not None:
            raise ValueError("base currency, exchange rate and rate date need a currency")
        return
    if exchange_rate is not None and exchange_rate_date is not None:
        raise ValueError("give an exchange rate date only with an exchange rate type, not with a fixed rate")
    if base_currency:
        _sub(parent, "basecurr", base_currency)
    _sub(parent, "currency", currency)
    if exchange_rate is not None:
        _sub(parent, "exchrate", format_decimal(exchange_rate, places=None))
        return
    if exchange_rate_date is not None:
        _legacy_date(parent, "exchratedate", exchange_rate_date)
    _sub(parent, "exchratetype", exchange_rate_type or DEFAULT_EXCHANGE_RATE_TYPE)


def _append_values(parent: etree._Element, values: Mapping[str, object]) -> None:
    for tag, value in values.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            _append_values(etree.SubElement(parent, tag), value)
        elif isinstance(value, (list, tuple)):
            for item in value:  # repeated children, e.g. ARPYMTDETAIL
                if isinstance(item, Mapping):
                    _append_values(etree.SubElement(parent, tag), item)
                elif item is not None:
                    _sub(parent, tag, item)
        else:
            _sub(parent, tag, value)


# ---------------------------------------------------------------- reads


def query(
    object: str,
    fields: Sequence[str],
    *,
    filter: Filter | None = None,
    order_by: Sequence[tuple[str, str]] | None = (("RECORDNO", "asc"),),
    page_size: int = MAX_QUERY_PAGE,
    offset: int = 0,
    show_private: bool = False,
    case_insensitive: bool = False,
    controlid: str | None = None,
) -> Function:
    """``<query>``: select ``fields`` of ``object`` with an optional structured filter and ordering."""
    if isinstance(fields, str):
        fields = [fields]
    if not fields or any(f.strip() == "*" for f in fields):
        raise ValueError("query needs an explicit list of fields ('*' is not allowed)")
    if not 1 <= page_size <= MAX_QUERY_PAGE:
        raise ValueError(f"query page_size must be 1..{MAX_QUERY_PAGE}")
    if offset < 0:
        raise ValueError("offset must be >= 0")
    el = etree.Element("query")
    _sub(el, "object", _object_name(object))
    select = _sub(el, "select")
    for f in fields:
        _sub(select, "field", f.strip())
    if filter is not None:
        _sub(el, "filter").append(filter.to_element())
    if order_by:
        ob = _sub(el, "orderby")
        for field, direction in order_by:
            d = direction.strip().lower()
            if d not in ("asc", "ascending", "desc", "descending"):
                raise ValueError(f"order direction must be asc or desc, got {direction!r}")
            order = _sub(ob, "order")
            _sub(order, "field", field)
            _sub(order, "ascending" if d.startswith("asc") else "descending")
    if show_private or case_insensitive:
        options = _sub(el, "options")
        if case_insensitive:
            _sub(options, "caseinsensitive", "true")
        if show_private:
            _sub(options, "showprivate", "true")
    _sub(el, "pagesize", str(page_size))
    _sub(el, "offset", str(offset))
    return Function("query", _auto_controlid("query", controlid), el, is_write=False)


def read_by_query(
    object: str,
    fields: str | Sequence[str],
    query: str = "",
    *,
    page_size: int = MAX_READ_BY_QUERY_PAGE,
    controlid: str | None = None,
) -> Function:
    """``<readByQuery>``: legacy string query (values in ``query`` must follow its quoting rules)."""
    if not 1 <= page_size <= MAX_READ_BY_QUERY_PAGE:
        raise ValueError(f"readByQuery page_size must be 1..{MAX_READ_BY_QUERY_PAGE}")
    el = etree.Element("readByQuery")
    _sub(el, "object", _object_name(object))
    _sub(el, "fields", _fields_text(fields))
    _sub(el, "query", query or "")
    _sub(el, "pagesize", str(page_size))
    return Function("readByQuery", _auto_controlid("readByQuery", controlid), el, is_write=False)


def read_more(result_id: str, *, controlid: str | None = None) -> Function:
    """``<readMore>``: the next page of an earlier readByQuery."""
    if not result_id:
        raise ValueError("result_id is required")
    el = etree.Element("readMore")
    _sub(el, "resultId", result_id)
    return Function("readMore", _auto_controlid("readMore", controlid), el, is_write=False)


def read(
    object: str, keys: str | int | Sequence[str | int], fields: str | Sequence[str] = ("*",), *,
    controlid: str | None = None,
) -> Function:
    """``<read>``: records by RECORDNO (at most 100 keys)."""
    el = etree.Element("read")
    _sub(el, "object", _object_name(object))
    _sub(el, "keys", _keys_text(keys))
    _sub(el, "fields", _fields_text(fields))
    return Function("read", _auto_controlid("read", controlid), el, is_write=False)


def read_by_name(
    object: str, keys: str | Sequence[str], fields: str | Sequence[str] = ("*",), *,
    controlid: str | None = None,
) -> Function:
    """``<readByName>``: records by their ID field (CUSTOMERID, ACCOUNTNO...; at most 100 keys)."""
    el = etree.Element("readByName")
    _sub(el, "object", _object_name(object))
    _sub(el, "keys", _keys_text(keys))
    _sub(el, "fields", _fields_text(fields))
    return Function("readByName", _auto_controlid("readByName", controlid), el, is_write=False)


def get_api_session(location_id: str | None = None, *, controlid: str | None = None) -> Function:
    """``<getAPISession>`` (optionally scoped to an entity)."""
    el = etree.Element("getAPISession")
    if location_id:
        _sub(el, "locationid", location_id)
    return Function("getAPISession", _auto_controlid("getAPISession", controlid), el, is_write=False)


# ---------------------------------------------------------------- generic writes


def create(object: str, values: Mapping[str, object], *, controlid: str) -> Function:
    """``<create><OBJECT>...``: nested Mappings become nested elements, lists repeat a tag, None is omitted."""
    el = etree.Element("create")
    _append_values(etree.SubElement(el, _object_name(object)), values)
    return Function("create", _required_controlid(controlid), el, is_write=True)


def update(object: str, values: Mapping[str, object], *, controlid: str) -> Function:
    """``<update><OBJECT>...``: identify the record by RECORDNO or its ID field inside ``values``."""
    el = etree.Element("update")
    _append_values(etree.SubElement(el, _object_name(object)), values)
    return Function("update", _required_controlid(controlid), el, is_write=True)


def delete(object: str, keys: str | int | Sequence[str | int], *, controlid: str) -> Function:
    """``<delete>`` records by RECORDNO."""
    el = etree.Element("delete")
    _sub(el, "object", _object_name(object))
    _sub(el, "keys", _keys_text(keys))
    return Function("delete", _required_controlid(controlid), el, is_write=True)


# ---------------------------------------------------------------- legacy AR writes


@dataclass(frozen=True)
class InvoiceLine:
    """One ``create_invoice`` line: exactly one of ``account_label`` / ``gl_account_no``."""

    amount: Decimal
    account_label: str | None = None
    gl_account_no: str | None = None
    memo: str | None = None
    location_id: str | None = None
    department_id: str | None = None
    custom_fields: Mapping[str, object] | None = None


@dataclass(frozen=True)
class PaymentApplication:
    """Part of a payment applied to one invoice (ARINVOICE RECORDNO)."""

    invoice_key: str
    amount: Decimal


def create_invoice(
    *,
    customer_id: str,
    invoice_no: str,
    date_created: date,
    lines: Sequence[InvoiceLine],
    date_due: date | None = None,
    term_name: str | None = None,
    description: str | None = None,
    po_number: str | None = None,
    currency: str | None = None,
    action: str = "Submit",
    date_posted: date | None = None,
    base_currency: str | None = None,
    exchange_rate_type: str | None = DEFAULT_EXCHANGE_RATE_TYPE,
    exchange_rate: Decimal | None = None,
    exchange_rate_date: date | None = None,
    custom_fields: Mapping[str, object] | None = None,
    controlid: str,
) -> Function:
    """``<create_invoice>`` in the v3.0 schema's order.

    With a ``currency`` the schema requires a rate: ``exchange_rate`` (fixed) or ``exchange_rate_type``
    (default "Intacct Daily Rate", optionally with ``exchange_rate_date``).
    """
    if not customer_id:
        raise ValueError("customer_id is required")
    if date_due is None and not term_name:
        raise ValueError("create_invoice needs date_due or term_name")
    if not lines:
        raise ValueError("create_invoice needs at least one line")
    if action not in ("Submit", "Draft"):
        raise ValueError("action must be 'Submit' or 'Draft'")
    el = etree.Element("create_invoice")
    _sub(el, "customerid", customer_id)
    _legacy_date(el, "datecreated", date_created)
    if date_posted is not None:
        _legacy_date(el, "dateposted", date_posted)
    if date_due is not None:
        _legacy_date(el, "datedue", date_due)
    if term_name:
        _sub(el, "termname", term_name)
    _sub(el, "action", action)
    if invoice_no:
        _sub(el, "invoiceno", invoice_no)
    if po_number:
        _sub(el, "ponumber", po_number)
    if description:
        _sub(el, "description", description)
    _currency_block(el, currency=currency, base_currency=base_currency, exchange_rate_type=exchange_rate_type,
                    exchange_rate=exchange_rate, exchange_rate_date=exchange_rate_date)
    _custom_fields(el, custom_fields)
    items = _sub(el, "invoiceitems")
    for i, line in enumerate(lines, start=1):
        if bool(line.account_label) == bool(line.gl_account_no):
            raise ValueError(f"line {i}: give exactly one of account_label or gl_account_no")
        item = _sub(items, "lineitem")
        if line.account_label:
            _sub(item, "accountlabel", line.account_label)
        else:
            _sub(item, "glaccountno", line.gl_account_no)
        _sub(item, "amount", format_decimal(line.amount))
        if line.memo:
            _sub(item, "memo", line.memo)
        if line.location_id:
            _sub(item, "locationid", line.location_id)
        if line.department_id:
            _sub(item, "departmentid", line.department_id)
        _custom_fields(item, line.custom_fields)
    return Function("create_invoice", _required_controlid(controlid), el, is_write=True)


def reverse_invoice(key: str | int, *, date_reversed: date, description: str | None = None, controlid: str) -> Function:
    """``<reverse_invoice key=...>`` with ``datereversed`` (+ description)."""
    el = etree.Element("reverse_invoice", key=_keys_text(key))
    _legacy_date(el, "datereversed", date_reversed)
    if description:
        _sub(el, "description", description)
    return Function("reverse_invoice", _required_controlid(controlid), el, is_write=True)


def create_arpayment(
    *,
    customer_id: str,
    amount: Decimal,
    undeposited_account: str | None = None,
    bank_account_id: str | None = None,
    ref_id: str | None,
    date_received: date,
    payment_method: str,
    applications: Sequence[PaymentApplication],
    currency: str | None = None,
    exchange_rate_type: str | None = DEFAULT_EXCHANGE_RATE_TYPE,
    exchange_rate: Decimal | None = None,
    exchange_rate_date: date | None = None,
    controlid: str,
) -> Function:
    """``<create_arpayment>`` in the v3.0 schema's order (currency group as for ``create_invoice``); the money goes
    to exactly one of an undeposited funds G/L account (``undepfundsacct``) or a bank account (``bankaccountid``)."""
    if not customer_id:
        raise ValueError("customer_id is required")
    if bool(undeposited_account) == bool(bank_account_id):
        raise ValueError("give exactly one of undeposited_account and bank_account_id")
    applied = sum((Decimal(a.amount) for a in applications), Decimal(0))
    if applied > Decimal(amount):
        raise ValueError(f"applications total {applied} exceeds the payment amount {amount}")
    el = etree.Element("create_arpayment")
    _sub(el, "customerid", customer_id)
    _sub(el, "paymentamount", format_decimal(amount))
    if bank_account_id:
        _sub(el, "bankaccountid", bank_account_id)
    else:
        _sub(el, "undepfundsacct", undeposited_account)
    if ref_id:
        _sub(el, "refid", ref_id)
    _legacy_date(el, "datereceived", date_received)
    _sub(el, "paymentmethod", payment_method)
    _currency_block(el, currency=currency, base_currency=None, exchange_rate_type=exchange_rate_type,
                    exchange_rate=exchange_rate, exchange_rate_date=exchange_rate_date)
    for app in applications:
        item = _sub(el, "arpaymentitem")
        _sub(item, "invoicekey", str(app.invoice_key))
        _sub(item, "amount", format_decimal(app.amount))
    return Function("create_arpayment", _required_controlid(controlid), el, is_write=True)


def reverse_arpayment(key: str | int, *, date_reversed: date, description: str | None = None,
                      controlid: str) -> Function:
    """``<reverse_arpayment key=...>`` with ``datereversed`` (+ description)."""
    el = etree.Element("reverse_arpayment", key=_keys_text(key))
    _legacy_date(el, "datereversed", date_reversed)
    if description:
        _sub(el, "description", description)
    return Function("reverse_arpayment", _required_controlid(controlid), el, is_write=True)
