"""Run detail (hidden page, `?run=ID`): one sync, preview or import with its counts, the Intacct window it
read, API requests and duration; its failures grouped by cause (Intacct's error number, message and fix,
"needs attention" or "will retry"); the field-by-field changes it made to each record; every record it
touched, exportable as CSV. Retry failed and Cancel."""
from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from console.state import ACCOUNTING_SYNC, IMPORTS, RECORD_DETAIL, flash, get_engine, guarded, require_user, show_flash
from console.tables import show_table
from console.widgets import (
    CATEGORY,
    PAGE_ROWS,
    PREVIEW_BANNER,
    PREVIEW_RESULT,
    RUN_TRIGGER,
    STEP,
    ago,
    download_csv,
    empty_state,
    failure_group_cards,
    field_label,
    fields_grid,
    is_preview,
    local,
    page_offset,
    plural,
    run_badges,
    run_changes_section,
    run_counts,
    run_link,
    run_progress,
    run_title,
    span,
    time_columns,
    when,
)
from storage.db import read_session, write_session
from storage.models import ACTIVE_RUN_STATUSES, Role, SyncRun
from sync_engine.schedule.queue import QueueError, cancel_run, retry_failed, retry_records
from sync_engine.services.history import (
    changed_fields,
    group_run_failures,
    run_change_counts,
    run_changes,
    run_duration,
    run_failed_items,
    run_item_counts,
    run_items_page,
)
from sync_engine.sync.error_catalogue import cause as catalogue_cause

user = require_user()
ACTIONS = ["failed", "created", "updated", "skipped"]  # unchanged records are counted, not listed
RESULT = {a: a.capitalize() for a in ACTIONS}


@guarded(Role.ACCOUNTANT)
def _act(what: str, run_id: int) -> None:
    try:
        with write_session(get_engine()) as session:
            if what == "cancel":
                run = cancel_run(session=session, run_id=run_id)
                flash("info", "Cancelled." if run.status == "cancelled" else "Stopping after the current record…")
            else:
                run = retry_failed(session=session, run_id=run_id, requested_by=user.username)
                flash("success", f"Retry queued as run #{run.id}.")
    except QueueError as exc:
        flash("error", str(exc))


@guarded(Role.ACCOUNTANT)
def _retry(records: list[tuple[str, int]], connection_id: int) -> None:
    with write_session(get_engine()) as session:
        try:
            queued = retry_records(session=session, connection_id=connection_id, records=records,
                                   requested_by=user.username)
        except QueueError as exc:
            flash("error", str(exc))
            return
    flash("success", f"Queued: run #{queued.id} will write {plural(len(records), 'record')} to Intacct.")


raw = st.query_params.get("run", "")
with read_session(get_engine()) as session:
    run = session.get(SyncRun, int(raw)) if raw.isdigit() else None
    # One page of everything: counts by action, the failures (to group), the first changed records.
    counts = run_item_counts(session=session, run_id=run.id) if run else {}
    failed_items = run_failed_items(session=session, run_id=run.id) if run else []
    changes = run_changes(session=session, run_id=run.id, limit=30, updates_only=True) if run else []
    change_counts = run_change_counts(session=session, run_id=run.id) if run else (0, 0)
if run is None:
    st.title("Run not found")
    empty_state(f"There is no run {raw!r}." if raw else "No run was chosen.",
                "Open a run from Recent Syncs or Imports.", [(ACCOUNTING_SYNC, "Recent Syncs", ":material/sync:")])
    st.stop()

preview = is_preview(run)
st.page_link(ACCOUNTING_SYNC if run.kind == "accounting_sync" else IMPORTS,
             label="Recent Syncs" if run.kind == "accounting_sync" else "Imports", icon=":material/arrow_back:")
head, badge = st.columns([4, 2], vertical_alignment="bottom")
head.title(run_title(run))
with badge:
    run_badges(run)
if preview:
    st.info(f"**{PREVIEW_BANNER}** Intacct and the ledger are exactly as they were. Each row below says what "
            "a sync would do; failures are problems a sync would hit. Use **Sync Now** to do it for real.",
            icon=":material/visibility:")
if run.window_to:
    window = (f"{when(run.window_from)} → {when(run.window_to, with_zone=True)}" if run.window_from
              else f"everything up to {when(run.window_to, with_zone=True)} (first sync)")
else:
    window = None
fields_grid({"Requested": f"{run.requested_by or 'auto-sync'}, {ago(run.queued_at)} ({when(run.queued_at)})",
             "Trigger": RUN_TRIGGER.get(run.trigger, run.trigger),
             "Duration": span(run_duration(run)) if run.started_at else "not started",
             "Changes read from Intacct": window,
             "Requests sent to Intacct": f"{run.api_requests:,}" if run.started_at else None}, columns=3)
if run.options.get("retry_of"):
    run_link(int(run.options["retry_of"]), f"Retries the failures of run #{run.options['retry_of']}")
show_flash()
if run.error_message:
    st.error(run.error_message, icon=":material/error:")
if run.notification_status:
    st.caption(f":material/mail: {run.notification_status}")

can_act = user.can(Role.ACCOUNTANT)
if run.status in ACTIVE_RUN_STATUSES:
    run_progress(run.id)
    if can_act:
        st.button("Cancel this run", icon=":material/cancel:", on_click=_act, args=("cancel", run.id),
                  disabled=run.cancel_requested)

run_counts(run)

groups = group_run_failures(failed_items)
if groups:
    st.subheader("Problems a sync would hit" if preview else "Failures by cause")
    failure_group_cards(groups, on_retry=partial(_retry, connection_id=run.connection_id)
                        if can_act and not preview else None)
    if run.status not in ACTIVE_RUN_STATUSES and can_act and not preview:
        st.button(f"Retry the {run.failed_count:,} failed record{'s' if run.failed_count != 1 else ''}",
                  type="primary", icon=":material/replay:", on_click=_act, args=("retry", run.id))

if not preview:
    st.subheader("Changes read from Intacct")
    if any(change_counts):
        run_changes_section(changes, counts=change_counts)
    else:
        st.caption("No customer or invoice changed in Intacct within this run's window."
                   if run.status not in ACTIVE_RUN_STATUSES else "Changes appear here as the run records them.")

st.subheader("Records")
if not any(counts.get(a) for a in ACTIONS):
    st.caption("This run has not touched any record yet." if run.status in ACTIVE_RUN_STATUSES
               else "This run touched no record: nothing had changed." if run.status == "succeeded"
               else "This run stopped before touching any record.")
    st.stop()
shown = st.pills("Show", ACTIONS, selection_mode="multi", default=ACTIONS, key="run_actions",
                 format_func=lambda a: f"{(PREVIEW_RESULT if preview else RESULT)[a]} ({counts.get(a, 0):,})")
offset = page_offset(sum(counts.get(a, 0) for a in shown or ()), key="run_items_page")
with read_session(get_engine()) as session:
    items = run_items_page(session=session, run_id=run.id, actions=list(shown or ()), limit=PAGE_ROWS, offset=offset)
    fields_by_record = {key: ", ".join(field_label(f) for f in names) for key, names in changed_fields(
        session=session, run_id=run.id,
        keys=[(i.record_type, i.record_id)
              for i in items if i.record_id is not None and i.action == "updated"]).items()}
frame = pd.DataFrame([{
    "Record": i.label, "Result": (PREVIEW_RESULT if preview else RESULT).get(i.action, i.action),
    "Step": STEP.get(i.step, i.step), "Changed fields": fields_by_record.get((i.record_type, i.record_id), ""),
    "Cause": catalogue_cause(i.cause, errorno=i.errorno, message=i.message, category=i.error_category).title
    if i.action == "failed" else "",
    "Intacct error": i.errorno or ("checked before sending" if i.action == "failed" else ""),
    "Message": i.message or "",
    "What to do": (i.correction or catalogue_cause(i.cause, errorno=i.errorno, message=i.message,
                                                   category=i.error_category).next_step)
                  if i.action == "failed" else "",
    "Status": CATEGORY.get(i.error_category or "", i.error_category or ""), "Intacct key": i.intacct_key or "",
    "At": local(i.at), "At (exact)": local(i.at),
} for i in items])
hidden = [c for c in ("Cause", "Intacct error", "Message", "What to do", "Status", "Changed fields", "Intacct key")
          if not frame.empty and not frame[c].astype(bool).any()]
event = show_table(frame.drop(columns=hidden), {"Message": st.column_config.TextColumn(width="large"),
                                              "What to do": st.column_config.TextColumn(width="large"),
                                              "Cause": st.column_config.TextColumn(width="medium"),
                                              **time_columns("At")},
                   key="run_items", on_select="rerun", selection_mode="single-row")
st.caption("Select a row to open the record and its change history.")
if event and event.selection.rows and items[event.selection.rows[0]].record_id:
    picked = items[event.selection.rows[0]]
    st.switch_page(RECORD_DETAIL, query_params={"type": picked.record_type, "id": str(picked.record_id)})
download_csv(frame.assign(At=frame["At (exact)"]).drop(columns=["At (exact)"]),
             f"{'preview' if preview else 'run'}-{run.id}.csv", label="Download these rows as CSV")
