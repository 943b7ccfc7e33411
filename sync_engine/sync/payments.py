"""Payments received in the ledger reconciled onto Intacct as AR payments.

Each ledger payment becomes a `create_arpayment` into the account its routing rule names, an undeposited funds
G/L account (`undepfundsacct`) or a bank account (`bankaccountid`), else the mapping's undeposited funds account
(see `write_rules`), applied to
the Intacct RECORDNO of each invoice it pays, with the payment's reference, date and method. A payment
whose invoice is not in Intacct yet waits (skipped, with the reason) — runs write invoices before
payments, so it usually goes out in the same run. Posted payments are never edited: a payment voided in
the ledger after it reached Intacct is reversed there (`reverse_arpayment`), through the journal.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from sqlmodel import Session, SQLModel, col, select

from storage.db import write_session
from storage.models import Customer, Invoice, ItemAction, Origin, Payment, PaymentApplication, SyncState
from storage.types import utcnow
from sync_engine.intacct import filters, functions
from sync_engine.intacct.values import format_date, parse_decimal
from sync_engine.sync import deletions, objects
from sync_engine.sync.journal import WriteSpec, write_all
from sync_engine.sync.run_context import RunContext
from sync_engine.sync.write_rules import METHODS, Deposit, resolve_payment_deposit, routing_rules

# Ledger payments the next sync would write: the one definition the writes and the mapping page's summary share.
PENDING_PAYMENT = (col(Payment.origin) == Origin.LEDGER, col(Payment.intacct_recordno).is_(None),
                   col(Payment.voided).is_(False), col(Payment.sync_state) != SyncState.SKIPPED)


_Row = TypeVar("_Row", bound=SQLModel)


def _existing(session: Session, model: type[_Row], key: int | None) -> _Row:
    """The row a foreign key points at (it exists: the database enforces it)."""
    row = session.get(model, key)
    if row is None:
        raise LookupError(f"{model.__name__} {key} is missing")
    return row


def pending_payments(*, session: Session) -> list[Payment]:
    return list(session.exec(select(Payment).where(*PENDING_PAYMENT).order_by(col(Payment.id))))


def _spec(ctx: RunContext, payment: Payment, customer: Customer, applications: list[tuple[Invoice, Decimal]],
          deposit: Deposit) -> WriteSpec:
    payment_id = payment.id
    items = [functions.PaymentApplication(invoice_key=inv.intacct_recordno, amount=amount)  # type: ignore[arg-type]
             for inv, amount in applications]
    payload = {"customer": customer.number, "amount": str(payment.amount), "ref": payment.reference,
               "date": payment.received_on, "items": [(i.invoice_key, str(i.amount)) for i in items]}
    if deposit.is_bank:  # only then: the payloads of journal entries written before bank routing stay the same
        payload["bank_account"] = deposit.account

    def build(controlid: str) -> functions.Function:
        return functions.create_arpayment(
            customer_id=customer.number, amount=payment.amount,
            undeposited_account=None if deposit.is_bank else deposit.account,
            bank_account_id=deposit.account if deposit.is_bank else None,
            ref_id=payment.reference, date_received=payment.received_on, payment_method=payment.method,
            applications=items, currency=payment.currency, controlid=controlid)

    def lookup() -> str | None:
        candidates = ctx.client.iter_records("ARPYMT",
                                             ["RECORDNO", "CUSTOMERID", "DOCNUMBER", "RECEIPTDATE", "TOTALENTERED"],
                                             filter=filters.and_(filters.eq("CUSTOMERID", customer.number),
                                                                 filters.eq("DOCNUMBER", payment.reference)))
        for record in candidates:
            same_amount = parse_decimal(record.get("TOTALENTERED")) == payment.amount
            same_date = record.get("RECEIPTDATE") in (None, "", format_date(payment.received_on))
            if same_amount and same_date:
                return record["RECORDNO"]
        return None

    return WriteSpec(operation="create_payment", model=Payment, record_type="payment", record_id=payment_id,  # type: ignore[arg-type]
                     label=f"Payment {payment.reference} ({customer.number})", payload=payload, build=build,
                     lookup=lookup)


def _skip(ctx: RunContext, payment: Payment, label: str, message: str, *, failed: bool = False) -> None:
    with write_session(ctx.engine) as session:
        row = session.get(Payment, payment.id)
        assert row is not None
        row.sync_error = message
        if failed:
            row.sync_state = SyncState.FAILED
        session.add(row)
        ctx.item(session, record_type="payment", label=label, record_id=payment.id,
                 action=ItemAction.FAILED if failed else ItemAction.SKIPPED,
                 category="validation" if failed else None, message=message)


def _load_for_plan(session: Session, payments: list[Payment]) -> None:
    """Put the payments' customers and invoices in the session and their applications in session.info, with a
    few IN queries (a sync of thousands of payments would otherwise ask three times per payment)."""
    applications: dict[int, list[PaymentApplication]] = {}
    ids = [p.id for p in payments]
    for start in range(0, len(ids), 900):
        for app in session.exec(select(PaymentApplication)
                                .where(col(PaymentApplication.payment_id).in_(ids[start:start + 900]))
                                .order_by(col(PaymentApplication.id))):
            applications.setdefault(app.payment_id, []).append(app)
    session.info["applications"] = applications
    for model, wanted in ((Customer, {p.customer_id for p in payments}),
                          (Invoice, {a.invoice_id for apps in applications.values() for a in apps})):
        chunk_ids = sorted(wanted)
        for start in range(0, len(chunk_ids), 900):
            list(session.exec(select(model).where(col(model.id).in_(chunk_ids[start:start + 900]))))  # identity map


def write_payments(ctx: RunContext) -> None:
    """Post every ledger payment not yet in Intacct whose invoices are all there."""
    with Session(ctx.engine) as session:
        payments = pending_payments(session=session)
        if (chosen := ctx.only("payment")) is not None:
            payments = [p for p in payments if p.id in chosen]
        _load_for_plan(session, payments)  # customers, applications and invoices in three queries, not per payment
        plan = []
        for payment in payments:
            customer = _existing(session, Customer, payment.customer_id)
            applications = [(_existing(session, Invoice, app.invoice_id), app.amount)
                            for app in session.info["applications"].get(payment.id, [])]
            plan.append((payment, customer, applications))
        rules = routing_rules(session=session, connection_id=ctx.connection_id)
    ctx.begin_step("payment_writes", total=len(plan))
    specs = []
    for payment, customer, applications in plan:
        label = f"Payment {payment.reference} ({customer.number})"
        deposit = resolve_payment_deposit(method=payment.method, currency=payment.currency, rules=rules,
                                          mapping=ctx.mapping)
        if not deposit:
            _skip(ctx, payment, label, "No undeposited funds account is mapped: set one in Account mapping.",
                  failed=True)
        elif payment.method not in METHODS:
            _skip(ctx, payment, label, f"Payment method '{payment.method}' is not one Intacct accepts "
                                       f"({', '.join(METHODS)}).", failed=True)
        elif sum((amount for _, amount in applications), Decimal("0")) > payment.amount:
            _skip(ctx, payment, label, "The amounts applied to invoices exceed the payment.", failed=True)
        elif customer.sync_state == SyncState.SKIPPED and not customer.intacct_customer_id:
            _skip(ctx, payment, label, f"Customer {customer.number} is marked don't sync: the payment waits for it.")
        elif voided := [inv.number for inv, _ in applications if inv.status == "voided"]:
            _skip(ctx, payment, label, f"Invoice {', '.join(voided)} is voided (here, or reversed or deleted in "
                                       "Intacct): apply the payment to another invoice, or void the payment.",
                  failed=True)
        elif held := [inv.number for inv, _ in applications
                      if inv.sync_state == SyncState.SKIPPED and not inv.intacct_recordno]:
            _skip(ctx, payment, label, f"Invoice {', '.join(held)} is marked don't sync: the payment waits for it.")
        elif not customer.intacct_customer_id and not ctx.would_exist("customer", f"Customer {customer.number}"):
            _skip(ctx, payment, label, f"Waiting for customer {customer.number} to reach Intacct.")
        elif waiting := [inv.number for inv, _ in applications
                         if not inv.intacct_recordno and not ctx.would_exist("invoice", f"Invoice {inv.number}")]:
            _skip(ctx, payment, label, f"Waiting for invoice {', '.join(waiting)} to reach Intacct.")
        else:
            specs.append(_spec(ctx, payment, customer, applications, deposit))
            continue
        ctx.advance()
    write_all(ctx, specs)
    if ctx.only("payment") is None:  # a retry of chosen records reverses nothing else
        reverse_voided_payments(ctx)


def _reverse_spec(ctx: RunContext, payment: Payment, customer: Customer) -> WriteSpec:
    key = payment.intacct_recordno
    voided_on = max((payment.voided_at or utcnow()).date(), payment.received_on)

    def lookup() -> str | None:
        found = ctx.client.read("ARPYMT", [key], ["RECORDNO", "STATE"])  # type: ignore[list-item]
        state = (found[0].get("STATE") or "").strip().lower() if found else ""
        return key if state in ("v", "reversed", "voided") else None

    return WriteSpec(
        operation="reverse_payment", model=Payment, record_type="payment", record_id=payment.id,  # type: ignore[arg-type]
        label=f"Payment {payment.reference} ({customer.number}) (void)", payload={"key": key, "date": voided_on},
        build=lambda controlid: functions.reverse_arpayment(key, date_reversed=voided_on,  # type: ignore[arg-type]
                                                            description="Voided in the A/R ledger",
                                                            controlid=controlid),
        lookup=lookup, confirmed_values=lambda _key: {"reversed_in_intacct": True, "intacct_recordno": key},
        failure_prefix="Could not reverse in Intacct: ", created_action=ItemAction.UPDATED)


def reverse_voided_payments(ctx: RunContext) -> None:
    """Reverse in Intacct every ledger payment voided here after it was posted there."""
    with Session(ctx.engine) as session:
        voided = list(session.exec(select(Payment).where(
            Payment.origin == Origin.LEDGER, col(Payment.voided).is_(True), col(Payment.intacct_recordno).is_not(None),
            col(Payment.reversed_in_intacct).is_(False), Payment.sync_state != SyncState.SKIPPED)))
        customers = {c.id: c for c in session.exec(select(Customer).where(
            col(Customer.id).in_({p.customer_id for p in voided})))} if voided else {}
    voided = deletions.still_to_reverse(ctx, objects.AR_PAYMENT, voided)
    if voided:
        write_all(ctx, [_reverse_spec(ctx, payment, customers[payment.customer_id]) for payment in voided])
