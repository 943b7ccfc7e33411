"""Invoices page: A/R aging of open balances, then the ledger's invoices, searchable and filterable, with
origin, sync state, Intacct key and balances; a row opens the invoice's lines and change history."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from console.import_button import import_button
from console.state import CONNECTION, IMPORTS, NEW_INVOICE, get_engine, require_user
from console.widgets import (
    ORIGIN,
    PAGE_ROWS,
    SYNC_STATE,
    aging_chart,
    choice,
    empty_state,
    ledger_table,
    money,
    money_column,
    page_offset,
    plural,
    summary_metrics,
)
from storage.db import read_session
from storage.models import Role, RunKind
from sync_engine.services.history import invoice_aging, invoice_totals, ledger_counts, list_invoices
from sync_engine.services.settings import get_connection

user = require_user()
STATUS = {"draft": "Draft", "open": "Open", "partially_paid": "Partly paid", "paid": "Paid", "voided": "Voided"}
title_col, action_col = st.columns([5, 1], vertical_alignment="bottom")
title_col.title("Invoices")
with action_col:
    import_button(RunKind.INVOICE_IMPORT, user)
if user.can(Role.ACCOUNTANT):
    st.page_link(NEW_INVOICE, label="New invoice", icon=":material/note_add:")

with read_session(get_engine()) as session:
    total = ledger_counts(session=session)["invoice"]
    connected = get_connection(session=session) is not None
if total == 0:
    links = []
    if user.can(Role.ACCOUNTANT) and connected:
        links.append((IMPORTS, "Import outstanding invoices", ":material/download:"))
    if user.can(Role.ADMIN) and not connected:
        links.append((CONNECTION, "Connect Intacct first", ":material/link:"))
    empty_state("No invoices yet", "Import outstanding invoices from Intacct on Imports (after the customers), "
                                   "or wait for the next accounting sync.", links)
    st.stop()

chart_area = st.container()  # above the filters, drawn once they are known: the chart honours them

search_col, status_col, origin_col, state_col = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
search = search_col.text_input("Search", placeholder="Invoice number, customer, PO or Intacct key",
                               key="inv_search", icon=":material/search:")
with status_col:
    status = choice("Status", STATUS, key="inv_status")
with origin_col:
    origin = choice("Origin", ORIGIN, key="inv_origin")
with state_col:
    sync_state = choice("Sync state", SYNC_STATE, key="inv_state")

filters = {"search": search, "status": status, "origin": origin, "sync_state": sync_state}
with read_session(get_engine()) as session:
    totals = invoice_totals(session=session, **filters)
    aging = invoice_aging(session=session, **filters)
if any(b.invoices for b in aging):
    with chart_area:
        st.markdown("**Open balance by age** (days past due)"
                    + (" · of the invoices matching the filters" if any(filters.values()) else ""))
        aging_chart(aging)
if not totals.count:
    empty_state("No invoice matches these filters", "Clear the search or pick 'All' in the filters.")
    st.stop()

summary_metrics("Invoices shown", totals.count, total, "Open balance", list(totals.amounts.items()),
                ("Failing to sync", totals.failing))
left_out = [plural(n, "draft") if state == "draft" else f"{n:,} {STATUS.get(state, state).lower()}"
            for state, n in sorted(totals.left_out.items())]
st.caption(f"Open balance of {plural(totals.counted or 0, 'open or partly paid invoice')}"
           + (f" ({', '.join(left_out)} excluded: nothing is owed on them)." if left_out else ".")
           + " Customers shows the balance Intacct last reported for each customer.")
offset = page_offset(totals.count, key="inv_page")
with read_session(get_engine()) as session:
    rows = list_invoices(session=session, **filters, limit=PAGE_ROWS, offset=offset)

frame = pd.DataFrame([{
    "Number": r.invoice.number, "Customer": r.customer_name, "Date": r.invoice.invoice_date,
    "Due": r.invoice.due_date, "Currency": r.invoice.currency, "Total": money(r.invoice.total),
    "Paid": money(r.invoice.amount_paid), "Balance": money(r.invoice.balance),
    "Status": STATUS.get(r.invoice.status, r.invoice.status), "Origin": ORIGIN.get(r.invoice.origin, r.invoice.origin),
    "Sync": SYNC_STATE.get(r.invoice.sync_state, r.invoice.sync_state), "Intacct key": r.invoice.intacct_recordno or "",
    "Sync error": r.invoice.sync_error or "",
} for r in rows])
ledger_table(frame, [r.invoice.id for r in rows], record_type="invoice", key="invoices_table",
             column_config={"Total": money_column(), "Paid": money_column(), "Balance": money_column(),
                            "Sync error": st.column_config.TextColumn(width="large")})
