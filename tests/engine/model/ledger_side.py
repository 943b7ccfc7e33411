"""What finance staff do in our ledger, through the same public functions the console calls.

Invoices and payments arrive as CSV uploads (`sync_engine.ledger_csv`); an accountant voids a ledger invoice or
payment with a reason (`sync_engine.voids`). Every operation here is something a person can do on a screen.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import write_session
from sync_engine import ledger_csv, voids

ACTOR = "model-accountant"
LINE_LABELS = ("", "Product Revenue", "", "Subscription Revenue")  # "" = the mapping's item account label


class LedgerRefused(Exception):
    """The ledger refused the operation with a message a person would see."""


def _csv(columns: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@dataclass
class LedgerSide:
    engine: Engine

    def upload_invoice(self, *, number: str, customer: str, customer_name: str, amounts: list[Decimal],
                       day: date) -> None:
        """One invoice, a row per line; some lines name their own account label, the rest use the mapped one."""
        rows = [{"invoice_number": number, "customer_number": customer, "customer_name": customer_name,
                 "invoice_date": day.isoformat(), "due_date": "", "currency": "USD", "description": "Model invoice",
                 "line_description": f"Line {i}", "quantity": "1", "amount": str(amount),
                 "account_label": LINE_LABELS[(i + len(number)) % len(LINE_LABELS)]}
                for i, amount in enumerate(amounts, start=1)]
        with Session(self.engine) as session:
            result = ledger_csv.import_invoices_csv(session=session, data=_csv(list(ledger_csv.INVOICE_COLUMNS), rows),
                                                    actor=ACTOR)
        if result.problems or result.created != [number]:
            raise LedgerRefused(f"invoice {number}: {[str(p) for p in result.problems]} skipped={result.skipped}")

    def upload_payment(self, *, reference: str, customer: str, applications: list[tuple[str, Decimal]],
                       day: date) -> None:
        amount = sum((applied for _, applied in applications), Decimal("0"))
        rows = [{"reference": reference, "customer_number": customer, "received_on": day.isoformat(),
                 "amount": str(amount), "method": "EFT", "currency": "USD", "invoice_number": invoice,
                 "applied_amount": str(applied)} for invoice, applied in applications]
        with Session(self.engine) as session:
            result = ledger_csv.import_payments_csv(session=session, data=_csv(list(ledger_csv.PAYMENT_COLUMNS), rows),
                                                    actor=ACTOR)
        if result.problems or len(result.created) != 1:
            raise LedgerRefused(f"payment {reference}: {[str(p) for p in result.problems]} skipped={result.skipped}")

    def void(self, record_type: str, record_id: int, reason: str = "Entered twice") -> str:
        """Void as an accountant would on the record's page; LedgerRefused with the console's message if refused."""
        action = voids.void_invoice if record_type == "invoice" else voids.void_payment
        key = "invoice_id" if record_type == "invoice" else "payment_id"
        with write_session(self.engine) as session:
            try:
                return action(session=session, reason=reason, actor=ACTOR, role="accountant", **{key: record_id})
            except ValueError as refused:  # RecordActionError: a person's message
                raise LedgerRefused(str(refused)) from refused
