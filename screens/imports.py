"""Imports page (accountant+): one-time customer and outstanding-invoice imports from Intacct. Preview lists
what an import would create, update (field by field) and leave out, and Apply runs it; Start runs it at once.
Both only queue work for the scheduler, so people can leave the page; the result is emailed when email is on."""
from __future__ import annotations

import streamlit as st
from sqlmodel import Session

from console.state import SETTINGS, flash, get_engine, guarded, require_user, show_flash
from console.tables import show_table
from console.widgets import (
    connection_warning,
    credentials_blocked,
    diff_frame,
    empty_state,
    live_runs_table,
    needs_connection,
    plural,
    run_link,
    run_progress,
)
from storage.db import read_session, write_session
from storage.models import ACTIVE_RUN_STATUSES, Role, RunKind, SyncRun
from sync_engine.schedule.queue import QueueError, enqueue_run, recent_runs
from sync_engine.services.import_preview import apply_preview, latest_preview, preview_import
from sync_engine.services.settings import get_connection, get_mapping, get_notification_settings

user = require_user(Role.ACCOUNTANT)
IMPORT_KINDS = (RunKind.CUSTOMER_IMPORT, RunKind.INVOICE_IMPORT)


def _last_imports(session: Session) -> list[SyncRun]:
    return sorted((r for kind in IMPORT_KINDS for r in recent_runs(session=session, kind=kind, limit=25)),
                  key=lambda r: r.id or 0, reverse=True)


def _options(kind: str) -> dict:
    return ({"active_only": st.session_state.get("customer_scope") == "Active customers only"}
            if kind == RunKind.CUSTOMER_IMPORT else {"outstanding_only": True})


@guarded(Role.ACCOUNTANT)
def _start(connection_id: int, kind: str) -> None:
    with write_session(get_engine()) as session:
        run = enqueue_run(session=session, connection_id=connection_id, kind=kind, requested_by=user.username,
                          options=_options(kind))
    st.toast(f"Import #{run.id} is queued.", icon=":material/schedule:")


@guarded(Role.ACCOUNTANT)
def _preview(connection_id: int, kind: str) -> None:
    with write_session(get_engine()) as session:
        run = preview_import(session=session, connection_id=connection_id, kind=kind, options=_options(kind),
                             requested_by=user.username)
    st.toast(f"Preview #{run.id} is queued: nothing is changed until you apply it.", icon=":material/visibility:")


@guarded(Role.ACCOUNTANT)
def _apply(run_id: int) -> None:
    try:
        with write_session(get_engine()) as session:
            run = apply_preview(session=session, run_id=run_id, requested_by=user.username)
    except QueueError as exc:
        flash("error", str(exc))
        return
    flash("success", f"Import #{run.id} is queued: it applies preview #{run_id}.")


def _preview_panel(kind: str, noun: str) -> None:
    """What the latest preview of this import found, with Apply."""
    with read_session(get_engine()) as session:
        found = latest_preview(session=session, kind=kind)
    if found is None:
        return
    if not found.ready:
        if found.run.status in ACTIVE_RUN_STATUSES:
            st.caption(f"Preview #{found.run.id} is running…")
        else:
            st.caption(f"Preview #{found.run.id} did not finish ({found.run.error_message or found.run.status}).")
        return
    st.markdown(f"**Preview #{found.run.id}**: would create {plural(len(found.created), noun)}, update "
                f"{len(found.updated):,}, leave out {len(found.left_out):,}; "
                f"{found.unchanged:,} already as in Intacct.")
    if found.created:
        with st.expander(f"Would create ({len(found.created):,})"):
            st.caption(", ".join(found.created[:200]) + (" …" if len(found.created) > 200 else ""))
    if found.updated:
        with st.expander(f"Would update ({len(found.updated):,})", expanded=True):
            for label, changes in found.updated[:50]:
                st.markdown(f"**{label}**")
                show_table(diff_frame(changes))
    if found.left_out:
        with st.expander(f"Would leave out ({len(found.left_out):,})"):
            for label, why in found.left_out[:100]:
                st.caption(f"{label}: {why}")
    run_link(found.run.id, "Open the preview")
    st.button(f"Apply preview #{found.run.id}", key=f"apply_{kind}", type="primary", icon=":material/done_all:",
              on_click=_apply, args=(found.run.id,), disabled=failing or kind in active)


def _import_buttons(connection_id: int, kind: str, noun: str, *, disabled: bool) -> None:
    """Preview and Start of one import, then the panel of its last preview."""
    preview_col, start_col = st.columns(2)
    preview_col.button(f"Preview {noun} import", key=f"preview_{noun}s", icon=":material/visibility:",
                       on_click=_preview, args=(connection_id, kind), disabled=disabled, width="stretch")
    start_col.button(f"Start {noun} import", key=f"start_{noun}s", type="primary", icon=":material/play_arrow:",
                     on_click=_start, args=(connection_id, kind), disabled=disabled, width="stretch")
    _preview_panel(kind, noun)


st.title("Imports")
st.caption("One-time imports from Intacct, e.g. when setting up. With Auto-Sync on you rarely need them: the "
           "hourly sync already reads what changed.")
with read_session(get_engine()) as session:
    connection = get_connection(session=session)
    mapping = get_mapping(session=session, connection_id=connection.id) if connection else None
    email = get_notification_settings(session=session)
    imports = _last_imports(session)
if needs_connection(connection, user):
    st.stop()
blocked = credentials_blocked(connection, user)
connection_warning(connection, user)
show_flash()

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
    _import_buttons(connection.id, RunKind.CUSTOMER_IMPORT, "customer",
                    disabled=failing or RunKind.CUSTOMER_IMPORT in active)
with invoices.container(border=True):
    st.markdown("#### :material/request_quote: Outstanding invoices")
    st.caption("Imports invoices with an open balance in Intacct (and any customer they need). Paid and voided "
               "invoices are not imported.")
    _import_buttons(connection.id, RunKind.INVOICE_IMPORT, "invoice",
                    disabled=failing or RunKind.INVOICE_IMPORT in active)
if failing:
    st.caption("Imports are disabled until the Intacct connection works again.")

for run in active.values():
    run_progress(run.id)

st.subheader("Last imports")
if imports:
    live_runs_table(imports, load=_last_imports, key="last_imports")
else:
    empty_state("No imports yet", "Start a customer import first, then the outstanding invoices; imported "
                                  "records appear under Customers and Invoices.")
