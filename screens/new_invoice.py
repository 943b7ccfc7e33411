"""New invoice (accountant+): an invoice entered in our ledger — customer, number, dates, currency and lines
(item, description, quantity, price, account label from Intacct's list) — checked as it is typed and written to
Intacct at the next sync. Saved through `sync_engine.services.ledger_entry`, the same path as the CSV upload."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import streamlit as st

from console.forms import blank, editor_rows, parse_amount, show_problems
from console.state import INVOICES, MAPPING, RECORD_DETAIL, flash, get_engine, guarded, require_user, show_flash
from console.tables import column_widths
from console.widgets import money
from storage.db import read_session, write_session
from storage.models import Role
from sync_engine.services.ledger_entry import (
    EntryError,
    InvoiceEntry,
    LineEntry,
    add_invoice,
    check_invoice,
    customers_for_picker,
)
from sync_engine.services.settings import get_connection, get_mapping
from sync_engine.sync.intacct_lists import choices, last_refreshed

user = require_user(Role.ACCOUNTANT)
LINES_KEY = "ni_lines"
COLUMNS = ["Item", "Description", "Quantity", "Unit price", "Account label"]
BASE_LINES = [{"Item": "", "Description": "", "Quantity": "1", "Unit price": "", "Account label": ""}]


def _entry() -> tuple[InvoiceEntry, dict[str, str]]:
    """The invoice as typed now, and the problems found while reading the numbers."""
    problems: dict[str, str] = {}
    lines = []
    for n, row in enumerate((r for r in editor_rows(LINES_KEY, BASE_LINES)
                             if not all(blank(r.get(c)) for c in COLUMNS if c != "Quantity")), start=1):
        try:
            quantity = parse_amount(row.get("Quantity")) or Decimal("1")
        except ValueError as exc:
            problems[f"lines.{n}.quantity"], quantity = f"Line {n}: {exc}", Decimal("1")
        try:
            price = parse_amount(row.get("Unit price"))
        except ValueError as exc:
            problems[f"lines.{n}.amount"], price = f"Line {n}: {exc}", Decimal("0")
        lines.append(LineEntry(item_code=None if blank(row.get("Item")) else str(row["Item"]).strip(),
                               description=None if blank(row.get("Description")) else str(row["Description"]),
                               quantity=quantity, unit_price=price,
                               account_label=None if blank(row.get("Account label")) else str(row["Account label"])))
    state = st.session_state
    entry = InvoiceEntry(number=state.get("ni_number", ""), customer_id=state.get("ni_customer"),
                         invoice_date=state.get("ni_date"), due_date=state.get("ni_due"),
                         currency=state.get("ni_currency", "USD"), description=state.get("ni_description") or None,
                         lines=lines)
    return entry, problems


@guarded(Role.ACCOUNTANT)
def _save(connection_id: int) -> None:
    entry, problems = _entry()
    if problems:
        flash("error", "Not saved: " + " ".join(problems.values()))
        return
    try:
        with write_session(get_engine()) as session:
            invoice = add_invoice(session=session, entry=entry, actor=user.username, connection_id=connection_id)
            session.commit()
            number, invoice_id = invoice.number, invoice.id
    except EntryError as exc:
        flash("error", "Not saved: " + " ".join(exc.problems.values()))
        return
    flash("success", f"Invoice {number} is in the ledger. It will be written to Intacct at the next sync.")
    st.session_state["ni_saved"] = invoice_id
    for key in ("ni_number", "ni_description", LINES_KEY):
        st.session_state.pop(key, None)


st.title("New invoice")
st.caption("Enter an invoice in our ledger. It is checked as you type and written to Intacct at the next sync.")
with read_session(get_engine()) as session:
    connection = get_connection(session=session)
    connection_id = connection.id if connection else None
    mapping = get_mapping(session=session, connection_id=connection_id) if connection_id else None
    customers = list(customers_for_picker(session=session))
    labels = choices(session=session, connection_id=connection_id, list_name="account_labels") if connection_id else []
    refreshed = last_refreshed(session=session, connection_id=connection_id) if connection_id else None
show_flash()
if st.session_state.get("ni_saved"):
    st.page_link(RECORD_DETAIL, label="Open the invoice just added", icon=":material/open_in_new:",
                 query_params={"type": "invoice", "id": str(st.session_state["ni_saved"])})
st.page_link(INVOICES, label="All invoices", icon=":material/arrow_back:")
if not customers:
    st.info("There is no customer yet: import customers from Intacct (Imports) or upload invoices as CSV first.",
            icon=":material/groups:")
    st.stop()

by_id = {c.id: c for c in customers}
left, right = st.columns(2)
left.selectbox("Customer", list(by_id), key="ni_customer", index=None, placeholder="Type to search by name or number",
               format_func=lambda i: f"{by_id[i].name} ({by_id[i].number})")
right.text_input("Invoice number", key="ni_number", max_chars=60, placeholder="e.g. INV-3001")
a, b, c = st.columns(3)
a.date_input("Invoice date", key="ni_date", value=date.today(), format="YYYY-MM-DD")
b.date_input("Due date", key="ni_due", value=date.today() + timedelta(days=30), format="YYYY-MM-DD")
chosen = by_id.get(st.session_state.get("ni_customer"))
st.session_state.setdefault("ni_currency", chosen.currency if chosen else "USD")
c.text_input("Currency", key="ni_currency", max_chars=3)
st.text_input("Description (optional)", key="ni_description", max_chars=400)

st.markdown("**Lines**")
mapped = mapping.item_account_label if mapping else None
if labels:
    label_column = st.column_config.SelectboxColumn(
        "Account label", options=[""] + [ch.value for ch in labels],
        help=f"Empty: the item's override, else the mapped label ({mapped or 'none mapped yet'}).")
else:
    label_column = st.column_config.TextColumn("Account label", help="Refresh Intacct's lists in Account mapping to "
                                                                     "pick from them.")
lines_frame = pd.DataFrame(BASE_LINES, columns=COLUMNS)
st.data_editor(lines_frame, key=LINES_KEY, num_rows="dynamic", hide_index=True,
               width="stretch", column_config=column_widths(lines_frame, {
                   "Item": st.column_config.TextColumn(help="Item or product code: picks its account override."),
                   "Description": st.column_config.TextColumn(width="large"),
                   "Quantity": st.column_config.TextColumn(help="e.g. 1 or 2.5"),
                   "Unit price": st.column_config.TextColumn(help="e.g. 1250.00"),
                   "Account label": {**label_column, "width": "medium"}}))
if not labels:
    st.caption("Account labels are not checked yet: Intacct's lists were never read."
               + (" Refresh them in Account mapping." if user.can(Role.ADMIN) else ""))
    if user.can(Role.ADMIN):
        st.page_link(MAPPING, label="Account mapping", icon=":material/account_tree:")
elif refreshed:
    st.caption(f"Account labels as read from Intacct on {refreshed:%Y-%m-%d %H:%M} UTC.")

entry, parse_problems = _entry()
with read_session(get_engine()) as session:
    problems = {**check_invoice(session=session, entry=entry, connection_id=connection_id), **parse_problems}
total = sum(((line.quantity * line.unit_price).quantize(Decimal("0.01")) for line in entry.lines
             if line.unit_price is not None), Decimal("0"))
st.markdown(f"**Total: {money(total, entry.currency or 'USD')}** · {len(entry.lines)} line(s)")
touched = bool(st.session_state.get("ni_number") or st.session_state.get("ni_customer") or entry.lines)
if touched and problems:
    show_problems(problems)
st.button("Add invoice", type="primary", icon=":material/add:", on_click=_save, args=(connection_id,),
          disabled=not touched)
