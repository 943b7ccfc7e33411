"""What an independent Intacct user does, as a third-party client would: plain XML to the sandbox gateway.

Nothing here goes through our client (`sync_engine.intacct`): requests are written by hand from the protocol
reference, so a habit of our client cannot hide a mistake of the engine. Reads return flat dicts of strings.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from lxml import etree


class IntacctRefused(Exception):
    """The gateway answered the function with a failure (e.g. reversing a paid invoice)."""


def _day(tag: str, day: date) -> str:
    return f"<{tag}><year>{day.year}</year><month>{day.month:02d}</month><day>{day.day:02d}</day></{tag}>"


@dataclass
class IntacctSide:
    sandbox: object  # tests.fixtures.sandbox.SandboxHandle

    def _call(self, function: str) -> etree._Element:
        response = self.sandbox.call(f'<function controlid="model">{function}</function>')  # type: ignore[attr-defined]
        result = response.find(".//operation/result")
        if result is None:
            raise AssertionError(f"no result in {etree.tostring(response)[:400]!r}")
        if result.findtext("status") != "success":
            errors = "; ".join(filter(None, (e.findtext("description2") or e.findtext("description") or ""
                                             for e in result.iter("error"))))
            raise IntacctRefused(errors or etree.tostring(result).decode()[:300])
        return result

    # --- writes -----------------------------------------------------------------------------------------

    def create_customer(self, number: str, name: str) -> str:
        result = self._call(f"<create><CUSTOMER><CUSTOMERID>{escape(number)}</CUSTOMERID><NAME>{escape(name)}</NAME>"
                            f"<DISPLAYCONTACT><PRINTAS>{escape(name)}</PRINTAS></DISPLAYCONTACT></CUSTOMER></create>")
        return result.findtext(".//RECORDNO") or ""

    def rename_customer(self, number: str, name: str) -> None:
        self._call(f"<update><CUSTOMER><CUSTOMERID>{escape(number)}</CUSTOMERID><NAME>{escape(name)}</NAME>"
                   "</CUSTOMER></update>")

    def create_invoice(self, customer: str, number: str, amounts: list[Decimal], day: date) -> str:
        lines = "".join(f"<lineitem><accountlabel>Services Revenue</accountlabel><amount>{amount}</amount>"
                        f"<memo>Intacct line {i}</memo></lineitem>" for i, amount in enumerate(amounts, start=1))
        result = self._call(f"<create_invoice><customerid>{escape(customer)}</customerid>{_day('datecreated', day)}"
                            f"<termname>Net 30</termname><invoiceno>{escape(number)}</invoiceno>"
                            f"<description>Made in Intacct</description><invoiceitems>{lines}</invoiceitems>"
                            "</create_invoice>")
        return result.findtext("key") or ""

    def pay(self, customer: str, reference: str, applications: list[tuple[str, Decimal]], day: date) -> str:
        """create_arpayment into undeposited funds, applied to invoices (RECORDNO, amount)."""
        total = sum((amount for _, amount in applications), Decimal("0"))
        items = "".join(f"<arpaymentitem><invoicekey>{key}</invoicekey><amount>{amount}</amount></arpaymentitem>"
                        for key, amount in applications)
        result = self._call(f"<create_arpayment><customerid>{escape(customer)}</customerid>"
                            f"<paymentamount>{total}</paymentamount><undepfundsacct>1210</undepfundsacct>"
                            f"<refid>{escape(reference)}</refid>{_day('datereceived', day)}"
                            f"<paymentmethod>EFT</paymentmethod>{items}</create_arpayment>")
        return result.findtext("key") or ""

    def pay_generic(self, customer: str, reference: str, applications: list[tuple[str, Decimal]], day: date) -> str:
        """The same through the current object API: generic create of ARPYMT."""
        details = "".join(f"<ARPYMTDETAIL><RECORDKEY>{key}</RECORDKEY><TRX_PAYMENTAMOUNT>{amount}</TRX_PAYMENTAMOUNT>"
                          "</ARPYMTDETAIL>" for key, amount in applications)
        result = self._call(f"<create><ARPYMT><PAYMENTMETHOD>EFT</PAYMENTMETHOD><CUSTOMERID>{escape(customer)}"
                            f"</CUSTOMERID><UNDEPOSITEDACCOUNTNO>1210</UNDEPOSITEDACCOUNTNO>"
                            f"<DOCNUMBER>{escape(reference)}</DOCNUMBER><RECEIPTDATE>{day:%m/%d/%Y}</RECEIPTDATE>"
                            f"<ARPYMTDETAILS>{details}</ARPYMTDETAILS></ARPYMT></create>")
        return result.findtext(".//RECORDNO") or ""

    def reverse_invoice(self, key: str, day: date) -> None:
        self._call(f'<reverse_invoice key="{key}">{_day("datereversed", day)}'
                   "<description>Reversed in Intacct</description></reverse_invoice>")

    def delete_invoice(self, key: str) -> None:
        self._call(f'<delete_invoice key="{key}"></delete_invoice>')

    def reverse_payment(self, key: str, day: date) -> None:
        self._call(f'<reverse_arpayment key="{key}">{_day("datereversed", day)}'
                   "<description>Reversed in Intacct</description></reverse_arpayment>")

    # --- reads ------------------------------------------------------------------------------------------

    def query(self, obj: str, fields: list[str], where: str = "") -> list[dict[str, str]]:
        """Every record of `obj` matching `where` (readByQuery, then readMore until none remain)."""
        result = self._call(f"<readByQuery><object>{obj}</object><fields>{','.join(fields)}</fields>"
                            f"<query>{escape(where)}</query><pagesize>1000</pagesize></readByQuery>")
        rows: list[dict[str, str]] = []
        while True:
            data = result.find("data")
            assert data is not None
            rows += [{child.tag.upper(): (child.text or "") for child in record} for record in data]
            if int(data.get("numremaining") or 0) == 0:
                return rows
            result = self._call(f"<readMore><resultId>{data.get('resultId')}</resultId></readMore>")

    def customers(self) -> list[dict[str, str]]:
        return self.query("CUSTOMER", ["RECORDNO", "CUSTOMERID", "NAME", "TOTALDUE", "STATUS"])

    def invoices(self) -> list[dict[str, str]]:
        return self.query("ARINVOICE", ["RECORDNO", "RECORDID", "CUSTOMERID", "STATE", "TOTALENTERED", "TOTALPAID",
                                        "TOTALDUE"])

    def payments(self) -> list[dict[str, str]]:
        return self.query("ARPYMT", ["RECORDNO", "RECORDTYPE", "CUSTOMERID", "DOCNUMBER", "TOTALENTERED", "STATE",
                                     "PARENTPAYMENTKEY"])

    def payment_details(self) -> list[dict[str, str]]:
        return self.query("ARPYMTDETAIL", ["RECORDNO", "PAYMENTKEY", "RECORDKEY", "TRX_PAYMENTAMOUNT"])
