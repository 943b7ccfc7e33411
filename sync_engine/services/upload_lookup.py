"""What Intacct has of the customers and invoices a CSV upload names that the ledger lacks, and the row problems
that follow (`ledger_csv` applies them).

A customer Intacct has but the ledger has not imported yet is linked: adding the rows adds it to the ledger as
Intacct's own (`intacct_lookup.link_customers`), as the customer import would, because that is the customer the
person means, and creating one of the same number would make Intacct refuse it (or make a second one). An
invoice Intacct has but the ledger lacks is a row problem saying to import invoices first: an invoice brings its
lines, balances and payments, which only the invoice import reads whole; one that is paid or reversed there has
nothing left to pay. Numbers neither has are row problems. `ask_intacct` makes the short calls; a caller holding
the ledger's write lock asks first (in a read session) and passes the `IntacctFacts` in.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session

from storage import bulk
from storage.models import Customer, Invoice
from sync_engine.sync.intacct_lookup import (
    IntacctCustomer,
    IntacctInvoice,
    LookupUnavailable,
    customers_in_intacct,
    invoices_in_intacct,
)


@dataclass
class IntacctFacts:
    """Intacct's answer about the numbers the ledger lacks; None where Intacct could not be asked."""

    customers: dict[str, IntacctCustomer] | None = field(default_factory=dict)
    invoices: dict[str, IntacctInvoice] | None = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def ask_intacct(*, session: Session, customer_numbers: Iterable[str],
                invoice_numbers: Iterable[str] = ()) -> IntacctFacts:
    """Look up in Intacct the customer and invoice numbers the ledger does not have (a short call)."""
    facts = IntacctFacts()
    customers = {n for n in customer_numbers if n}
    customers -= set(bulk.ids_by(session, Customer.number, customers, Customer.id))
    invoices = {n for n in invoice_numbers if n}
    invoices -= set(bulk.ids_by(session, Invoice.number, invoices, Invoice.id))
    for what, wanted, lookup, attr in (("customer", customers, customers_in_intacct, "customers"),
                                       ("invoice", invoices, invoices_in_intacct, "invoices")):
        if not wanted:
            continue
        try:
            setattr(facts, attr, lookup(session=session, numbers=wanted))
        except LookupUnavailable as exc:
            setattr(facts, attr, None)
            facts.warnings.append(f"Intacct could not be asked about {len(wanted):,} {what} number(s) the ledger "
                                  f"does not have ({exc}), so they were checked against the ledger only.")
    return facts


def customer_problem(number: str, facts: IntacctFacts, *, may_create: bool, named: bool) -> tuple[str, str] | None:
    """(column, message) for a customer number neither the ledger nor Intacct has; None when it is fine (an
    invoice row with a customer_name adds a new customer)."""
    if may_create and named:
        return None
    where = "not in the ledger" if facts.customers is None else "neither in the ledger nor in Intacct"
    if may_create:  # giving a customer_name is the way to add a new customer
        return "customer_name", f"customer {number} is {where}: give its customer_name to add it as a new " \
                                "customer, or correct the number"
    return "customer_number", f"customer {number} is {where}: correct the number"


def invoice_problem(number: str, facts: IntacctFacts) -> tuple[str, str | None]:
    """(message, the screen that fixes it) for an invoice number the ledger does not have."""
    if facts.invoices is None:
        return "no such invoice in the ledger", None
    found = facts.invoices.get(number)
    if found is None:
        return f"invoice {number} is neither in the ledger nor in Intacct: correct the number", None
    if not found.open:
        return (f"invoice {number} is {found.state.lower() or 'closed'} in Intacct and not in the ledger: there is "
                "nothing open on it to apply the payment to"), None
    return (f"invoice {number} is in Intacct but not yet in the ledger: import invoices first (Invoices → Import), "
            "then upload this file again"), "invoices"


def linked_text(found: IntacctCustomer) -> str:
    return f"{found.number} ({found.name})"
