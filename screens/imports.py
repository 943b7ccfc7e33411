"""Imports page (accountant+): one-time customer and outstanding-invoice imports from Intacct. Start only
queues the import for the scheduler, so people can leave the page; the result is emailed when email is on."""
from __future__ import annotations

import streamlit as st

from console.state import SETTINGS, get_engine, guarded, require_user
from console.widgets import connection_warning, credentials_blocked, empty_state, needs_connection, run_progress, runs_table
from storage.db import read_session, write_session
from storage.models import ACTIVE_RUN_STATUSES, Role, RunKind
from sync_engine.queue import enqueue_run, recent_runs
from sync_engine.settings import get_connection, get_mapping, get_notification_settings

user = require_user(Role.ACCOUNTANT)
IMPORT_KINDS = (RunKind.CUSTOMER_IMPORT, RunKind.INVOICE_IMPORT)


@guarded(Role.ACCOUNTANT)
def _start(connection_id: int, kind: str) -> None:
    options = ({"active_only": st.session_state.get("customer_scope") == "Active customers only"}
               if kind == RunKind.CUSTOMER_IMPORT else {"outstanding_only": True})
    with write_session(get_engine()) as session:
        run = enqueue_run(session=session, connection_id=connection_id, kind=kind, requested_by=user.username,
                          options=options)
    st.toast(f"Import #{run.id} is queued.", icon=":material/schedule:")


st.title("Imports")
st.caption("One-time imports from Intacct, e.g. when setting up. With Auto-Sync on you rarely need them: the "
           "hourly sync already reads what changed.")
with read_session(get_engine()) as session:
    connection = get_connection(session=session)
    mapping = get_mapping(session=session, connection_id=connection.id) if connection else None
    email = get_notification_settings(session=session)
    imports = sorted((r for kind in IMPORT_KINDS for r in recent_runs(session=session, kind=kind, limit=25)),
                     key=lambda r: r.id, reverse=True)
if needs_connection(connection, user):
    st.stop()
blocked = credentials_blocked(connection, user)
connection_warning(connection, user)

if email.enabled and email.recipients:
    st.info(f"You can leave this page once an import starts: we'll email the result to {email.recipients}.",
            icon=":material/mail:")
else:
    st.info("Email is off, so results only show on this page. "
            + ("Turn it on under Settings & users → Email." if user.can(Role.ADMIN)
               else "An administrator can turn it on in Settings."), icon=":material/mail_off:")
    if user.can(Role.ADMIN):
        st.page_link(SETTINGS, label="Email settings", icon=":material/settings:")

active = {r.kind: r for r in imports if r.status in ACTIVE_RUN_STATUSES}
failing = connection.status == "failing" or blocked
customers, invoices = st.columns(2)
with customers.container(border=True):
    st.markdown("#### :material/groups: Customers")
    st.caption("Imports your A/R customer list from Intacct: new customers are added, changed ones updated.")
    st.radio("Which customers", ["All customers", "Active customers only"], key="customer_scope", horizontal=True,
             index=1 if mapping and mapping.active_customers_only else 0)
    st.button("Start customer import", key="start_customers", type="primary", icon=":material/play_arrow:",
              on_click=_start, args=(connection.id, RunKind.CUSTOMER_IMPORT),
              disabled=failing or RunKind.CUSTOMER_IMPORT in active)
with invoices.container(border=True):
    st.markdown("#### :material/request_quote: Outstanding invoices")
    st.caption("Imports invoices with an open balance in Intacct (and any customer they need). Paid and voided "
               "invoices are not imported.")
    st.button("Start invoice import", key="start_invoices", type="primary", icon=":material/play_arrow:",
              on_click=_start, args=(connection.id, RunKind.INVOICE_IMPORT),
              disabled=failing or RunKind.INVOICE_IMPORT in active)
if failing:
    st.caption("Imports are disabled until the Intacct connection works again.")

for run in active.values():
    run_progress(run.id)

st.subheader("Last imports")
if imports:
    runs_table(imports, key="last_imports")
else:
    empty_state("No imports yet", "Start a customer import first, then the outstanding invoices; imported "
                                  "records appear under Customers and Invoices.")
