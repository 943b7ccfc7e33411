"""Request builders for A/R writes used by several sandbox test modules."""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import escape

from .xmlhelp import ok, records, result, text


def legacy_date(tag: str, day: date) -> str:
    return f"<{tag}><year>{day.year}</year><month>{day.month:02d}</month><day>{day.day:02d}</day></{tag}>"


def invoice_xml(customer: str, lines: list[tuple[str, str, str]], *, invoiceno: str = "", cid: str = "inv",
                action: str = "", day: date = date(2024, 5, 1), termname: str = "Net 30", extra_line: str = "") -> str:
    """lines: (kind, account, amount) with kind 'glaccountno' or 'accountlabel'."""
    items = "".join(f"<lineitem><{kind}>{escape(acct)}</{kind}><amount>{amount}</amount>"
                    f"<memo>line {i}</memo>{extra_line}</lineitem>" for i, (kind, acct, amount) in enumerate(lines))
    return (f'<function controlid="{cid}"><create_invoice><customerid>{escape(customer)}</customerid>'
            f'{legacy_date("datecreated", day)}<termname>{termname}</termname>'
            f'{f"<action>{action}</action>" if action else ""}'
            f'{f"<invoiceno>{escape(invoiceno)}</invoiceno>" if invoiceno else ""}'
            f'<invoiceitems>{items}</invoiceitems></create_invoice></function>')


def create_invoice(sb, customer: str, lines, *, company_id: str | None = None, location_id: str = "",
                   **kw) -> str:
    return text(ok(sb.call(invoice_xml(customer, lines, **kw), company_id=company_id, location_id=location_id)),
                "key")


def invoice(sb, key: str, **call_kw) -> dict[str, str]:
    res = ok(sb.call(f'<function controlid="r"><read><object>ARINVOICE</object><keys>{key}</keys><fields>*'
                     f'</fields></read></function>', **call_kw))
    node = res.find("data/ARINVOICE")
    row = {child.tag: (child.text or "") for child in node if len(child) == 0}
    row["_lines"] = [{c.tag: (c.text or "") for c in line} for line in node.findall("ARINVOICEITEMS/arinvoiceitem")]
    return row


def customer(sb, customer_id: str, **call_kw) -> dict[str, str]:
    res = ok(sb.call(f'<function controlid="c"><readByQuery><object>CUSTOMER</object><fields>*</fields>'
                     f"<query>CUSTOMERID = '{customer_id}'</query></readByQuery></function>", **call_kw))
    return records(res)[0]


def payment_xml(customer: str, amount: str, items: list[tuple[str, str]], *, cid: str = "pay",
                dest: str = "<undepfundsacct>1210</undepfundsacct>", refid: str = "CHK-1") -> str:
    apps = "".join(f"<arpaymentitem><invoicekey>{k}</invoicekey><amount>{a}</amount></arpaymentitem>"
                   for k, a in items)
    return (f'<function controlid="{cid}"><create_arpayment><customerid>{customer}</customerid>'
            f'<paymentamount>{amount}</paymentamount>{dest}<refid>{refid}</refid>'
            f'{legacy_date("datereceived", date(2024, 5, 15))}<paymentmethod>Printed Check</paymentmethod>'
            f'{apps}</create_arpayment></function>')


def failure(response) -> list[dict[str, str]]:
    from .xmlhelp import errors

    res = result(response)
    assert text(res, "status") == "failure", text(res, "status")
    return errors(res)
