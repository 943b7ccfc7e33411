"""Record history (hidden page, `?type=customer|invoice|payment&id=N`): the record as it is now, then each
stored version as a field-by-field diff (field, before, after, the run that changed it), then what syncs did
to it. Accountants can mark a ledger record not yet in Intacct "Don't sync" (or "Sync again"), with a reason
that stays in its history."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from console.state import (
    CUSTOMERS,
    INVOICES,
    PAYMENTS,
    RUN_DETAIL,
    flash,
    get_engine,
    guarded,
    require_user,
    show_flash,
)
from console.tables import show_table
from console.widgets import (
    ORIGIN,
    PREVIEW_RESULT,
    SYNC_STATE,
    ago,
    diff_frame,
    empty_state,
    fields_grid,
    local,
    money,
    money_column,
    plain,
    run_link,
    time_columns,
    when,
)
from storage.db import read_session, write_session
from storage.models import Customer, Origin, Role, SyncState
from sync_engine.schedule.queue import QueueError, retry_records
from sync_engine.services.history import (
    RECORD_MODELS,
    invoice_lines,
    invoice_payments,
    load_record,
    payment_invoices,
    preview_run_ids,
    record_activity,
    record_history,
)
from sync_engine.services.ledger_entry import customers_for_picker, open_invoices
from sync_engine.services.record_actions import RecordActionError, resume_record, skip_record, sync_actions
from sync_engine.services.record_fixes import (
    FixError,
    can_fix,
    set_invoice_customer,
    set_line_account_label,
    set_payment_invoice,
    set_payment_method,
)
from sync_engine.services.settings import get_connection
from sync_engine.services.voids import void_invoice, void_payment
from sync_engine.sync.intacct_lists import choices
from sync_engine.sync.write_rules import METHODS

user = require_user()
LIST_PAGE = {"customer": CUSTOMERS, "invoice": INVOICES, "payment": PAYMENTS}
SOURCE = {"import": "Imported from Intacct", "edit": "Edited in our ledger", "export": "Written to Intacct"}


@guarded(Role.ACCOUNTANT)
def _change_sync(record_type: str, record_id: int, skip: bool) -> None:
    action = skip_record if skip else resume_record
    try:
        with write_session(get_engine()) as session:
            message = action(session=session, record_type=record_type, record_id=record_id,
                             reason=st.session_state.get("sync_reason", ""), actor=user.username)
    except RecordActionError as exc:
        flash("error", str(exc))
        return
    st.session_state["sync_reason"] = ""
    flash("success", message)

@guarded(Role.ACCOUNTANT)
def _void(record_type: str, record_id: int) -> None:
    action = void_invoice if record_type == "invoice" else void_payment
    try:
        with write_session(get_engine()) as session:
            message = action(session=session, reason=st.session_state.get("void_reason", ""), actor=user.username,
                             role=user.role, **{f"{record_type}_id": record_id})
    except RecordActionError as exc:
        flash("error", str(exc))
        return
    st.session_state["void_reason"] = ""
    flash("success", message)


@guarded(Role.ACCOUNTANT)
def _fix(action, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """Run one correction from the "Fix and retry" panel; its message (or refusal) shows on the next render."""
    try:
        with write_session(get_engine()) as session:
            flash("success", action(session=session, actor=user.username, **kwargs), key="flash_fix")
    except FixError as exc:
        flash("error", str(exc), key="flash_fix")


@guarded(Role.ACCOUNTANT)
def _retry(record_type: str, record_id: int, label: str) -> None:
    with write_session(get_engine()) as session:
        connection = get_connection(session=session)
        if connection is None:
            flash("error", "Intacct is not connected.", key="flash_fix")
            return
        try:
            run = retry_records(session=session, connection_id=connection.id, records=[(record_type, record_id)],  # type: ignore[arg-type]
                                requested_by=user.username)
        except QueueError as exc:
            flash("error", str(exc), key="flash_fix")
            return
    flash("success", f"{label} is queued to be written to Intacct on its own (run #{run.id}).", key="flash_fix")


kind, raw = st.query_params.get("type", ""), st.query_params.get("id", "")
with read_session(get_engine()) as session:
    record = load_record(session=session, record_type=kind, record_id=int(raw)) if raw.isdigit() else None
    if record is not None:
        history = record_history(session=session, record_type=kind, record_id=record.id)
        activity = record_activity(session=session, record_type=kind, record_id=record.id)
        lines = invoice_lines(session=session, invoice_id=record.id) if kind == "invoice" else []
        applied = invoice_payments(session=session, invoice_id=record.id) if kind == "invoice" else []
        pays = payment_invoices(session=session, payment_id=record.id) if kind == "payment" else []
        previews = preview_run_ids(session=session)
        actions = sync_actions(session=session, record_type=kind, record_id=record.id)
        fix_refusal = can_fix(session=session, record_type=kind, record=record) if kind != "customer" else "customer"
        connection = get_connection(session=session)
        owner = session.get(Customer, record.customer_id) if kind in ("invoice", "payment") else None
        fix_customers = list(customers_for_picker(session=session)) if not fix_refusal else []
        fix_labels = ([c.value for c in choices(session=session, connection_id=connection.id,
                                                list_name="account_labels")]
                      if connection and not fix_refusal else [])
        fix_invoices = open_invoices(session=session,
                                     customer_id=record.customer_id) if kind == "payment" and not fix_refusal else []
if record is None:
    st.title("Record not found")
    what = kind if kind in RECORD_MODELS else "record"
    empty_state(f"There is no {what} {raw!r}." if raw else "No record was chosen.",
                "It may have been removed; open it again from the ledger lists.",
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
    fields = {"Customer": f"{owner.name} ({owner.number})" if owner else None,
              "Date": record.invoice_date, "Due": record.due_date,
              "Status": record.status.replace("_", " ").capitalize(),
              "Total": money(record.total, record.currency), "Paid": money(record.amount_paid, record.currency),
              "Balance": money(record.balance, record.currency), "PO number": record.po_number,
              "Description": record.description, "Intacct key": record.intacct_recordno,
              "Intacct state": record.intacct_state}
else:
    title = f"Payment {record.reference}"
    fields = {"Customer": f"{owner.name} ({owner.number})" if owner else None,
              "Received": record.received_on, "Amount": money(record.amount, record.currency),
              "Method": record.method, "Voided": "yes" if record.voided else "no",
              "Intacct key": record.intacct_recordno}

st.title(title)
st.caption(f"{ORIGIN.get(record.origin, record.origin)} · {SYNC_STATE.get(record.sync_state, record.sync_state)} · "
           f"last changed {when(record.updated_at)} ({ago(record.updated_at)})")
if record.sync_error:
    if record.sync_state == SyncState.FAILED:
        st.error(f"Last sync failed: {record.sync_error}", icon=":material/error:")
    else:  # a record that waits (for its customer or invoice, or a "don't sync" one) has not failed
        st.info(f"Waiting: {record.sync_error}", icon=":material/schedule:")

st.page_link(LIST_PAGE[kind], label=f"All {kind}s", icon=":material/arrow_back:")
show_flash()
if record.sync_state == SyncState.SKIPPED and actions:
    st.info(f"**Marked don't sync** by {actions[0].actor} {ago(actions[0].at)} ({when(actions[0].at)}): "
            f"{plain(actions[0].note or '')}", icon=":material/block:")
fields_grid(fields)

FIXABLE_STATES = (SyncState.FAILED, SyncState.NOT_SYNCED)
if (user.can(Role.ACCOUNTANT) and kind in ("invoice", "payment") and not fix_refusal
        and record.sync_state in FIXABLE_STATES):
    with st.container(border=True):
        st.markdown("**Fix and retry**")
        st.caption("Correct what the error is about, then retry this record alone (or wait for the next sync).")
        show_flash("flash_fix")
        by_customer = {c.id: c for c in fix_customers}
        if kind == "invoice":
            if lines:
                line_col, label_col, button_col = st.columns([1, 3, 1.4], vertical_alignment="bottom")
                line_no = line_col.selectbox("Line", [ln.line_no for ln in lines], key="fix_line")
                line = next(ln for ln in lines if ln.line_no == line_no)
                label_options = ["", *fix_labels] + ([line.account_label] if line.account_label and
                                                     line.account_label not in fix_labels else [])
                if fix_labels:
                    label_col.selectbox("Account label", label_options, key=f"fix_label_{line.id}",
                                        index=label_options.index(line.account_label or ""),
                                        format_func=lambda v: v or "— the item's or the mapped label",
                                        help="Active labels as last read from Intacct.")
                else:
                    label_col.text_input("Account label", key=f"fix_label_{line.id}", value=line.account_label or "")
                button_col.button("Save label", icon=":material/save:", width="stretch",
                                  on_click=lambda lid=line.id: _fix(
                    set_line_account_label, line_id=lid, account_label=st.session_state.get(f"fix_label_{lid}")))
            cust_col, cust_button = st.columns([4, 1.4], vertical_alignment="bottom")
            cust_col.selectbox("Customer", list(by_customer), key="fix_customer",
                               index=list(by_customer).index(record.customer_id) if record.customer_id in by_customer
                               else None, format_func=lambda i: f"{by_customer[i].name} ({by_customer[i].number})")
            cust_button.button("Change customer", icon=":material/person:", width="stretch",
                               on_click=lambda rid=record.id: _fix(set_invoice_customer, invoice_id=rid,
                                                     customer_id=st.session_state.get("fix_customer")))
        else:
            choices_by_id = {inv.id: inv for inv in fix_invoices}
            for inv, amount in pays:
                if inv is None:
                    continue
                options = [i for i in choices_by_id if i != inv.id]
                if not options:
                    continue
                move_col, move_button = st.columns([4, 1.4], vertical_alignment="bottom")
                move_col.selectbox(f"Apply the {money(amount, record.currency)} on {inv.number} to", options,
                                   key=f"fix_apply_{inv.id}", format_func=lambda i, c=choices_by_id: (
                                       f"{c[i].number} (open {money(c[i].balance, c[i].currency)})"))
                move_button.button("Move", key=f"fix_move_{inv.id}", icon=":material/swap_horiz:", width="stretch",
                                   on_click=lambda old=inv.id, rid=record.id: _fix(set_payment_invoice, payment_id=rid,
                                                                    old_invoice_id=old,
                                                                    new_invoice_id=st.session_state.get(
                                                                        f"fix_apply_{old}")))
            method_col, method_button = st.columns([4, 1.4], vertical_alignment="bottom")
            method_col.selectbox("Method", METHODS, key="fix_method",
                                 index=METHODS.index(record.method) if record.method in METHODS else None)
            method_button.button("Save method", icon=":material/save:", width="stretch",
                                 on_click=lambda rid=record.id: _fix(set_payment_method, payment_id=rid,
                                                       method=st.session_state.get("fix_method")))
        st.button("Retry this record", type="primary", icon=":material/replay:", on_click=_retry,
                  args=(kind, record.id, title), help="Queues a sync that writes only this record to Intacct.")

# Only a ledger record that has not reached Intacct can be held back; anything else is voided or reversed instead.
if user.can(Role.ACCOUNTANT) and record.origin == Origin.LEDGER and not record.intacct_recordno:
    with st.container(border=True):
        skipped = record.sync_state == SyncState.SKIPPED
        st.markdown("**Sync to Intacct**")
        st.caption("Sync again puts it back in line for the next sync." if skipped else
                   "Don't sync keeps this record out of every sync until someone chooses Sync again (payments "
                   "and invoices that need it wait too). The reason is kept in the history below.")
        reason_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        reason_col.text_input("Reason (required)", key="sync_reason", max_chars=500,
                              placeholder="e.g. duplicate of INV-1001, entered by mistake")
        button_col.button("Sync again" if skipped else "Don't sync",
                          icon=":material/sync:" if skipped else ":material/block:", on_click=_change_sync,
                          args=(kind, record.id, not skipped), width="stretch")
voided = record.status == "voided" if kind == "invoice" else getattr(record, "voided", False)
if user.can(Role.ACCOUNTANT) and kind in ("invoice", "payment") and record.origin == Origin.LEDGER and not voided:
    with st.expander("Void this " + kind, icon=":material/cancel:"):
        st.caption("Voiding keeps the record and its history. " + (
            "It is in Intacct: the next sync reverses it there (posted records are never edited)."
            if record.intacct_recordno else "It is not in Intacct yet, so it will never be sent."))
        reason_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        reason_col.text_input("Reason (required)", key="void_reason", max_chars=500,
                              placeholder="e.g. cheque bounced, entered twice")
        button_col.button("Void", icon=":material/cancel:", on_click=_void, args=(kind, record.id), width="stretch")
elif voided and kind in ("invoice", "payment"):
    st.info("Voided" + (" and reversed in Intacct." if record.reversed_in_intacct else
                        (": the next sync reverses it in Intacct." if record.intacct_recordno else ".")),
            icon=":material/cancel:")
if kind == "invoice":
    st.markdown("**Payments applied**")
    if applied:
        show_table(pd.DataFrame([{"Received": a.payment.received_on, "Reference": a.payment.reference,
                                  "From": ORIGIN.get(a.payment.origin, a.payment.origin),
                                  "Applied": money(a.amount, record.currency),
                                  "State": "Voided" if a.payment.voided else
                                           SYNC_STATE.get(a.payment.sync_state, a.payment.sync_state)}
                                 for a in applied]))
    else:
        st.caption("No payment applied yet, in the ledger or in Intacct.")
if pays:
    st.markdown("**Pays invoices**")
    show_table(pd.DataFrame([{"Invoice": inv.number, "Applied": money(amount, record.currency),
                              "Invoice balance": money(inv.balance, inv.currency)} for inv, amount in pays]))
if lines:
    st.markdown("**Lines**")
    show_table(pd.DataFrame([{"#": ln.line_no, "Description": ln.description or "", "Quantity": str(ln.quantity),
                              "Unit price": money(ln.unit_price), "Amount": money(ln.amount),
                              "Account label": ln.account_label or "", "G/L account": ln.gl_account_no or "",
                              "Location": ln.location_id or "", "Department": ln.department_id or ""}
                             for ln in lines]), {"Unit price": money_column(), "Amount": money_column()})

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
                show_table(diff_frame(version.changes))
        elif version.changes:
            show_table(diff_frame(version.changes))
        else:
            st.caption("Stored without field changes (first snapshot).")

if actions:
    st.subheader("Don't sync / Sync again")
    show_table(pd.DataFrame([{"When": local(a.at), "When (exact)": local(a.at), "Who": a.actor,
                              "Change": f"{SYNC_STATE.get(a.old_value, a.old_value)} → "
                                        f"{SYNC_STATE.get(a.new_value, a.new_value)}",
                              "Reason": a.note or ""} for a in actions]),
               {**time_columns(), "Reason": st.column_config.TextColumn(width="large")})

if activity:
    st.subheader("Sync activity")
    st.caption("What each sync did to this record. Previews are marked: nothing was written by them. Select a row "
               "to open the run.")
    event = show_table(pd.DataFrame([{
        "When": local(i.at), "When (exact)": local(i.at),
        "Run": f"#{i.run_id}" + (" (preview)" if i.run_id in previews else ""),
        "Result": PREVIEW_RESULT.get(i.action, i.action) if i.run_id in previews else i.action.capitalize(),
        "Intacct error": i.errorno or "", "Message": i.message or ""} for i in activity]),
        {**time_columns(), "Message": st.column_config.TextColumn(width="large")}, key="record_activity",
        on_select="rerun", selection_mode="single-row")
    if event and event.selection.rows:
        st.switch_page(RUN_DETAIL, query_params={"run": str(activity[event.selection.rows[0]].run_id)})
