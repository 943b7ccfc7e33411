"""Record payment (accountant+): a payment received, applied to one or more open invoices of the customer,
checked as it is typed and written to Intacct at the next sync. Saved through `sync_engine.services.ledger_entry`, the
same path as the CSV upload."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import streamlit as st

from console.forms import blank, editor_rows, parse_amount, show_problems
from console.state import PAYMENTS, RECORD_DETAIL, flash, get_engine, guarded, require_user, show_flash
from console.tables import column_widths
from console.widgets import money
from storage.db import read_session, write_session
from storage.models import Role
from sync_engine.services.ledger_entry import (
    EntryError,
    PaymentEntry,
    add_payment,
    check_payment,
    customers_for_picker,
    open_invoices,
)
from sync_engine.sync.write_rules import METHODS

user = require_user(Role.ACCOUNTANT)


def _open_rows(customer_id: int | None) -> list[dict]:
    if customer_id is None:
        return []
    with read_session(get_engine()) as session:
        return [{"id": inv.id, "Invoice": inv.number, "Date": inv.invoice_date.isoformat(),
                 "Due": inv.due_date.isoformat() if inv.due_date else "", "Open balance": f"{inv.balance:.2f}",
                 "Apply": ""} for inv in open_invoices(session=session, customer_id=customer_id)]


def _entry() -> tuple[PaymentEntry, dict[str, str]]:
    state = st.session_state
    problems: dict[str, str] = {}
    customer_id = state.get("np_customer")
    try:
        amount = parse_amount(state.get("np_amount"))
    except ValueError as exc:
        problems["amount"], amount = str(exc), None
    applications = []
    for row in editor_rows(f"np_apply_{customer_id}", _open_rows(customer_id)):
        if blank(row.get("Apply")):
            continue
        try:
            applied = parse_amount(row["Apply"])
        except ValueError as exc:
            problems[f"applications.{row['Invoice']}"] = f"Invoice {row['Invoice']}: {exc}"
            continue
        if applied is not None:
            applications.append((int(row["id"]), applied))
    entry = PaymentEntry(customer_id=customer_id, reference=state.get("np_reference", ""),
                         received_on=state.get("np_received"), amount=amount, method=state.get("np_method", METHODS[0]),
                         currency=state.get("np_currency") or "USD", applications=applications)
    return entry, problems


@guarded(Role.ACCOUNTANT)
def _save() -> None:
    entry, problems = _entry()
    if problems:
        flash("error", "Not saved: " + " ".join(problems.values()))
        return
    try:
        with write_session(get_engine()) as session:
            payment = add_payment(session=session, entry=entry, actor=user.username)
            session.commit()
            reference, payment_id = payment.reference, payment.id
    except EntryError as exc:
        flash("error", "Not saved: " + " ".join(exc.problems.values()))
        return
    flash("success", f"Payment {reference} is in the ledger. It will be written to Intacct at the next sync.")
    st.session_state["np_saved"] = payment_id
    for key in [k for k in st.session_state if str(k).startswith("np_apply_")] + ["np_reference", "np_amount"]:
        st.session_state.pop(key, None)


st.title("Record payment")
st.caption("A payment received, applied to the customer's open invoices. It is written to Intacct at the next sync.")
with read_session(get_engine()) as session:
    customers = list(customers_for_picker(session=session))
show_flash()
if st.session_state.get("np_saved"):
    st.page_link(RECORD_DETAIL, label="Open the payment just recorded", icon=":material/open_in_new:",
                 query_params={"type": "payment", "id": str(st.session_state["np_saved"])})
st.page_link(PAYMENTS, label="All payments", icon=":material/arrow_back:")
if not customers:
    st.info("There is no customer yet: import customers and invoices from Intacct first.", icon=":material/groups:")
    st.stop()

by_id = {c.id: c for c in customers}
left, right = st.columns(2)
left.selectbox("Customer", list(by_id), key="np_customer", index=None, placeholder="Type to search by name or number",
               format_func=lambda i: f"{by_id[i].name} ({by_id[i].number})")
right.text_input("Reference", key="np_reference", max_chars=60, placeholder="Check number, wire reference…")
a, b, c, d = st.columns(4)
a.date_input("Received on", key="np_received", value=date.today(), format="YYYY-MM-DD")
b.text_input("Amount", key="np_amount", placeholder="e.g. 1250.00")
c.selectbox("Method", METHODS, key="np_method")
customer = by_id.get(st.session_state.get("np_customer"))
st.session_state.setdefault("np_currency", customer.currency if customer else "USD")
d.text_input("Currency", key="np_currency", max_chars=3)

rows = _open_rows(customer.id if customer else None)
if customer is not None:
    st.markdown("**Apply to open invoices**")
    if rows:
        open_frame = pd.DataFrame(rows)
        st.data_editor(open_frame, key=f"np_apply_{customer.id}", hide_index=True, width="stretch",
                       disabled=["Invoice", "Date", "Due", "Open balance"],
                       column_order=["Invoice", "Date", "Due", "Open balance", "Apply"],
                       column_config=column_widths(open_frame, {
                           "Open balance": st.column_config.TextColumn(alignment="right"),
                           "Apply": st.column_config.TextColumn("Apply", help="Amount of this payment applied to "
                                                                "the invoice, e.g. 500.00")}))
    else:
        st.caption(f"{customer.name} has no open invoice: the payment is recorded unapplied.")

entry, parse_problems = _entry()
with read_session(get_engine()) as session:
    problems = {**check_payment(session=session, entry=entry), **parse_problems}
applied = sum((amount for _, amount in entry.applications), Decimal("0"))
if entry.amount is not None:
    st.markdown(f"**Applied {money(applied, entry.currency)} of {money(entry.amount, entry.currency)}**"
                + (f" · {money(entry.amount - applied, entry.currency)} left unapplied"
                   if entry.amount > applied else ""))
touched = bool(customer or st.session_state.get("np_reference") or st.session_state.get("np_amount"))
if touched and problems:
    show_problems(problems)
st.button("Record payment", type="primary", icon=":material/add:", on_click=_save, disabled=not touched)
