"""Customers page: the ledger's customers, searchable and filterable, with origin, sync state, Intacct ID and
open balance; a row opens the customer's change history. "Balances vs Intacct" lists customers whose open
invoices in our ledger do not add up to the balance last read from Intacct."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from console.import_button import import_button
from console.state import CONNECTION, IMPORTS, get_engine, require_user
from console.widgets import (
    ORIGIN,
    PAGE_ROWS,
    SYNC_STATE,
    choice,
    empty_state,
    ledger_table,
    local,
    money,
    money_column,
    page_offset,
    plural,
    summary_metrics,
    time_columns,
)
from storage.db import read_session
from storage.models import Role, RunKind
from sync_engine.services.history import balance_drift, customer_totals, ledger_counts, list_customers
from sync_engine.services.settings import get_connection

user = require_user()
title_col, action_col = st.columns([5, 1], vertical_alignment="bottom")
title_col.title("Customers")
with action_col:
    import_button(RunKind.CUSTOMER_IMPORT, user)

with read_session(get_engine()) as session:
    total = ledger_counts(session=session)["customer"]
    connected = get_connection(session=session) is not None
if total == 0:
    links = []
    if user.can(Role.ACCOUNTANT) and connected:
        links.append((IMPORTS, "Run a customer import", ":material/download:"))
    if user.can(Role.ADMIN) and not connected:
        links.append((CONNECTION, "Connect Intacct first", ":material/link:"))
    empty_state("No customers yet",
                "Run a customer import from Imports (or connect Intacct first); customers created in our "
                "ledger appear here too.", links)
    st.stop()

search_col, origin_col, state_col, active_col = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
search = search_col.text_input("Search", placeholder="Name, number, email or Intacct ID", key="cust_search",
                               icon=":material/search:")
with origin_col:
    origin = choice("Origin", ORIGIN, key="cust_origin")
with state_col:
    sync_state = choice("Sync state", SYNC_STATE, key="cust_state")
active_only = active_col.checkbox("Active only", key="cust_active")

filters = {"search": search, "origin": origin, "sync_state": sync_state, "active_only": active_only}
with read_session(get_engine()) as session:
    totals = customer_totals(session=session, **filters)
if not totals.count:
    empty_state("No customer matches these filters", "Clear the search or pick 'All' in the filters.")
else:
    summary_metrics("Customers shown", totals.count, total, "Open balance", list(totals.amounts.items()),
                    ("Failing to sync", totals.failing))
    st.caption(f"Open balance of {plural(totals.count, 'customer')} as Intacct last reported it (their total due): "
               "draft invoices and ledger invoices not yet written to Intacct are not in it. Invoices adds up the "
               "open invoices in our ledger.")
    offset = page_offset(totals.count, key="cust_page")
    with read_session(get_engine()) as session:
        customers = list_customers(session=session, **filters, limit=PAGE_ROWS, offset=offset)

    frame = pd.DataFrame([{
        "Number": c.number, "Name": c.name, "Email": c.email or "", "Currency": c.currency,
        "Balance": money(c.balance), "Active": c.active, "Origin": ORIGIN.get(c.origin, c.origin),
        "Sync": SYNC_STATE.get(c.sync_state, c.sync_state), "Intacct ID": c.intacct_customer_id or "",
        "Updated": local(c.updated_at), "Updated (exact)": local(c.updated_at), "Sync error": c.sync_error or "",
    } for c in customers])
    ledger_table(frame, [c.id for c in customers], record_type="customer", key="customers_table",
                 column_config={"Balance": money_column(), "Sync error": st.column_config.TextColumn(width="large"),
                                **time_columns("Updated")})

st.subheader("Balances vs Intacct")
st.caption("Customers known in Intacct whose open invoices in our ledger add up to a different amount than the "
           "balance last read from Intacct (its total due), per currency. A payment posted in our ledger but not "
           "yet synced shows as drift until the next sync has written it and read the balance back; so does an "
           "invoice waiting to be sent or marked don't sync. Select a row to open the customer.")
with read_session(get_engine()) as session:
    drift = balance_drift(session=session)
if drift:
    ledger_table(pd.DataFrame([{
        "Number": d.customer.number, "Name": d.customer.name, "Currency": d.currency,
        "Open in our ledger": money(d.ledger_open), "Balance in Intacct": money(d.intacct_balance),
        "Difference": money(d.difference), "Open invoices": d.open_invoices,
    } for d in drift]), [d.customer.id for d in drift], record_type="customer", key="drift_table",
        column_config={name: money_column() for name in ("Open in our ledger", "Balance in Intacct", "Difference")})
else:
    st.success("Every customer known in Intacct matches: open invoices add up to the balance Intacct reported.",
               icon=":material/task_alt:")
