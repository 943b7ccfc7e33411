"""Record history (hidden page, `?type=customer|invoice|payment&id=N`): the record as it is now, then each
stored version as a field-by-field diff (field, before, after, the run that changed it), then what syncs did
to it."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from console.state import CUSTOMERS, INVOICES, PAYMENTS, RUN_DETAIL, get_engine, require_user
from console.widgets import (ORIGIN, PREVIEW_RESULT, SYNC_STATE, ago, diff_frame, empty_state, fields_grid, local, money, money_column,
                             run_link, time_columns, when)
from storage.db import read_session
from sync_engine.history import (RECORD_MODELS, invoice_lines, load_record, preview_run_ids, record_activity,
                                 record_history)

user = require_user()
LIST_PAGE = {"customer": CUSTOMERS, "invoice": INVOICES, "payment": PAYMENTS}
SOURCE = {"import": "Imported from Intacct", "edit": "Edited in our ledger", "export": "Written to Intacct"}

kind, raw = st.query_params.get("type", ""), st.query_params.get("id", "")
with read_session(get_engine()) as session:
    record = load_record(session=session, record_type=kind, record_id=int(raw)) if raw.isdigit() else None
    if record is not None:
        history = record_history(session=session, record_type=kind, record_id=record.id)
        activity = record_activity(session=session, record_type=kind, record_id=record.id)
        lines = invoice_lines(session=session, invoice_id=record.id) if kind == "invoice" else []
        previews = preview_run_ids(session=session)
if record is None:
    st.title("Record not found")
    what = kind if kind in RECORD_MODELS else "record"
    empty_state(f"There is no {what} {raw!r}." if raw else "No record was chosen.", "It may have been removed; open it again from the ledger lists.",
                [(CUSTOMERS, "Customers", ":material/groups:")])
    st.stop()

if kind == "customer":
    title = f"Customer {record.name}"
    fields = {"Number": record.number, "Email": record.email, "Phone": record.phone, "City": record.city,
              "Country": record.country, "Currency": record.currency, "Terms": record.payment_terms,
              "Active": "yes" if record.active else "no", "Open balance": money(record.balance, record.currency),
              "Intacct customer ID": record.intacct_customer_id, "Intacct record no.": record.intacct_recordno}
elif kind == "invoice":
    title = f"Invoice {record.number}"
    fields = {"Date": record.invoice_date, "Due": record.due_date,
              "Status": record.status.replace("_", " ").capitalize(),
              "Total": money(record.total, record.currency), "Paid": money(record.amount_paid, record.currency),
              "Balance": money(record.balance, record.currency), "PO number": record.po_number,
              "Description": record.description, "Intacct key": record.intacct_recordno,
              "Intacct state": record.intacct_state}
else:
    title = f"Payment {record.reference}"
    fields = {"Received": record.received_on, "Amount": money(record.amount, record.currency),
              "Method": record.method, "Voided": "yes" if record.voided else "no", "Intacct key": record.intacct_recordno}

st.title(title)
st.caption(f"{ORIGIN.get(record.origin, record.origin)} · {SYNC_STATE.get(record.sync_state, record.sync_state)} · "
           f"last changed {when(record.updated_at)} ({ago(record.updated_at)})")
if record.sync_error:
    st.error(f"Last sync failed: {record.sync_error}", icon=":material/error:")

st.page_link(LIST_PAGE[kind], label=f"All {kind}s", icon=":material/arrow_back:")
fields_grid(fields)
if lines:
    st.markdown("**Lines**")
    st.dataframe(pd.DataFrame([{"#": ln.line_no, "Description": ln.description or "", "Quantity": str(ln.quantity),
                                "Unit price": money(ln.unit_price), "Amount": money(ln.amount),
                                "Account label": ln.account_label or "", "G/L account": ln.gl_account_no or "",
                                "Location": ln.location_id or "", "Department": ln.department_id or ""}
                               for ln in lines]), hide_index=True,
                 column_config={"Unit price": money_column(), "Amount": money_column()})

st.subheader("Change history")
if not history:
    st.caption("No change recorded yet: versions appear when an import or an edit changes this record.")
for version in history:
    with st.container(border=True):
        head, link = st.columns([4, 1], vertical_alignment="center")
        head.markdown(f"**Version {version.version}** · {ago(version.changed_at)} ({when(version.changed_at)}) · "
                      f"{SOURCE.get(version.source, version.source)}"
                      + (f" by {version.changed_by}" if version.changed_by else ""))
        if version.run_id:
            with link:
                run_link(version.run_id, f"Run #{version.run_id}")
        if version.version == 1 and version.changes:
            with st.expander(f"First seen: {len(version.changes)} fields as they arrived"):
                st.dataframe(diff_frame(version.changes), hide_index=True)
        elif version.changes:
            st.dataframe(diff_frame(version.changes), hide_index=True)
        else:
            st.caption("Stored without field changes (first snapshot).")

if activity:
    st.subheader("Sync activity")
    st.caption("What each sync did to this record. Previews are marked: nothing was written by them. Select a row "
               "to open the run.")
    event = st.dataframe(pd.DataFrame([{
        "When": local(i.at), "When (exact)": local(i.at),
        "Run": f"#{i.run_id}" + (" (preview)" if i.run_id in previews else ""),
        "Result": PREVIEW_RESULT.get(i.action, i.action) if i.run_id in previews else i.action.capitalize(),
        "Intacct error": i.errorno or "", "Message": i.message or ""} for i in activity]),
        hide_index=True, key="record_activity", on_select="rerun", selection_mode="single-row",
        column_config={**time_columns(), "Message": st.column_config.TextColumn(width="large")})
    if event and event.selection.rows:
        st.switch_page(RUN_DETAIL, query_params={"run": str(activity[event.selection.rows[0]].run_id)})
