"""Payments page: payments received in our ledger and the invoices they pay, with their state in Intacct
(written, pending, failed with Intacct's message); a row opens the payment's change history."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from console.state import ACCOUNTING_SYNC, NEW_PAYMENT, get_engine, require_user
from console.widgets import (ORIGIN, SYNC_STATE, choice, empty_state, ledger_table, money, money_column,
                             summary_metrics)
from storage.db import read_session
from storage.models import Role
from sync_engine.history import ledger_counts, list_payments

user = require_user()
st.title("Payments")
if user.can(Role.ACCOUNTANT):
    st.page_link(NEW_PAYMENT, label="Record payment", icon=":material/price_check:")
st.caption("Payments received here are written to Intacct as A/R payments applied to the same invoices. "
           "Intacct cannot edit a posted payment, only reverse it.")

with read_session(get_engine()) as session:
    total = ledger_counts(session=session)["payment"]
if total == 0:
    empty_state("No payments yet", "Payments recorded in our ledger appear here, and the accounting sync writes "
                                   "them to Intacct.", [(ACCOUNTING_SYNC, "Open Accounting sync", ":material/sync:")])
    st.stop()

search_col, origin_col, state_col = st.columns([3, 1, 1], vertical_alignment="bottom")
search = search_col.text_input("Search", placeholder="Reference, customer or Intacct key", key="pay_search",
                               icon=":material/search:")
with origin_col:
    origin = choice("Origin", ORIGIN, key="pay_origin")
with state_col:
    sync_state = choice("Sync state", SYNC_STATE, key="pay_state")

with read_session(get_engine()) as session:
    rows = list_payments(session=session, search=search, origin=origin, sync_state=sync_state)
if not rows:
    empty_state("No payment matches these filters", "Clear the search or pick 'All' in the filters.")
    st.stop()

summary_metrics("Payments shown", len(rows), total, "Received (voids excluded)",
                [(r.payment.currency, r.payment.amount) for r in rows if not r.payment.voided],
                ("Waiting for Intacct", sum(1 for r in rows if r.payment.sync_state in ("not_synced", "pending"))))

frame = pd.DataFrame([{
    "Received": r.payment.received_on, "Reference": r.payment.reference, "Customer": r.customer_name,
    "Method": r.payment.method, "Currency": r.payment.currency, "Amount": money(r.payment.amount),
    "Applied to": ", ".join(r.applied_to) or "—", "Voided": r.payment.voided,
    "Origin": ORIGIN.get(r.payment.origin, r.payment.origin),
    "Sync": SYNC_STATE.get(r.payment.sync_state, r.payment.sync_state),
    "Intacct key": r.payment.intacct_recordno or "", "Sync error": r.payment.sync_error or "",
} for r in rows])
ledger_table(frame, [r.payment.id for r in rows], record_type="payment", key="payments_table",
             column_config={"Amount": money_column(), "Sync error": st.column_config.TextColumn(width="large")})
