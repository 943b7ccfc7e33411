"""Read back what this run wrote: the Intacct state of the invoices and the balances of the customers it touched.

After invoices, payments or reversals reach Intacct, Intacct's TOTALPAID / TOTALDUE / STATE of the invoices
involved and the TOTALDUE of their customers have changed. One read of exactly those records (through the
same upserts as an import) makes the ledger current at once, so Balances vs Intacct is empty after a
successful sync, and the next sync finds them unchanged (their WHENMODIFIED is then the one we hold).
Finally every invoice a not-yet-sent ledger payment applies to gets its derived amounts refreshed.
"""
from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import Customer, Invoice, PaymentApplication
from sync_engine.intacct import filters
from sync_engine.sync import amounts, objects, windows
from sync_engine.sync.imports import store_customers, store_invoices
from sync_engine.sync.record_values import batches
from sync_engine.sync.run_context import RunContext


def _touched(ctx: RunContext) -> tuple[list[str], list[str]]:
    """(invoice keys, customer IDs) in Intacct that this run's confirmed writes changed."""
    ids = {kind: [record_id for t, record_id in ctx.written if t == kind] for kind in ("customer", "invoice",
                                                                                       "payment")}
    with Session(ctx.engine) as session:
        invoice_ids = set(ids["invoice"])
        if ids["payment"]:
            invoice_ids.update(session.exec(select(PaymentApplication.invoice_id).where(
                col(PaymentApplication.payment_id).in_(ids["payment"]))))
        invoices = list(session.exec(select(Invoice).where(col(Invoice.id).in_(invoice_ids)))) if invoice_ids else []
        customer_ids = set(ids["customer"]) | {inv.customer_id for inv in invoices}
        customers = (list(session.exec(select(Customer).where(col(Customer.id).in_(customer_ids))))
                     if customer_ids else [])
    keys = sorted({inv.intacct_recordno for inv in invoices if inv.intacct_recordno})
    numbers = sorted({c.intacct_customer_id for c in customers if c.intacct_customer_id})
    return keys, numbers


def read_back(ctx: RunContext) -> None:
    """Refresh from Intacct what this run's writes changed, then settle derived invoice amounts."""
    if ctx.preview:
        return
    keys, numbers = _touched(ctx)
    ctx.begin_step("read_back", total=len(keys) + len(numbers))
    for chunk in batches(numbers, 500):
        records = list(windows.read_records(ctx, objects.CUSTOMER, filters.in_("CUSTOMERID", chunk)))
        with ctx.ledger_session() as session, ctx.quiet():
            store_customers(ctx, records, session)
    for chunk in batches(keys, 500):
        records = list(windows.read_records(ctx, objects.AR_INVOICE,
                                            filters.in_(objects.AR_INVOICE.key_field, chunk)))
        with ctx.quiet():
            store_invoices(ctx, records, outstanding_only=True)
    settle_amounts(ctx)
    ctx.flush()


def settle_amounts(ctx: RunContext) -> None:
    """Derived amounts of every invoice a ledger payment not yet reflected in Intacct applies to."""
    if ctx.preview:
        return
    with ctx.ledger_session() as session:
        amounts.refresh_with_versions(session, amounts.invoices_with_pending_payments(session), run_id=ctx.run_id,
                                      source="import")
