"""Run detail (hidden page, `?run=ID`): one sync or import with its counts, window, duration and error, and
every record it touched, failures first with Intacct's error number, message and the fix; Retry failed and
Cancel."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from console.state import ACCOUNTING_SYNC, IMPORTS, RECORD_DETAIL, flash, get_engine, require_user, show_flash
from console.widgets import (RUN_TRIGGER, STEP, ago, download_csv, empty_state, plain, plural, record_link,
                             run_link, run_progress, run_status_badge, run_title, span, when)
from storage.db import read_session, write_session
from storage.models import ACTIVE_RUN_STATUSES, Role, SyncRun
from sync_engine.history import run_duration
from sync_engine.queue import QueueError, cancel_run, retry_failed, run_items

user = require_user()
ACTIONS = ["failed", "created", "updated", "unchanged", "skipped"]
CATEGORY = {"transient": "Will be retried", "authentication": "Sign-in refused", "record": "Needs attention",
            "validation": "Needs attention", "ambiguous": "Being checked with Intacct"}


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


raw = st.query_params.get("run", "")
with read_session(get_engine()) as session:
    run = session.get(SyncRun, int(raw)) if raw.isdigit() else None
    items = run_items(session=session, run_id=run.id) if run else []
if run is None:
    st.title("Run not found")
    empty_state(f"There is no run {raw!r}." if raw else "No run was chosen.",
                "Open a run from Recent Syncs or Imports.", [(ACCOUNTING_SYNC, "Recent Syncs", ":material/sync:")])
    st.stop()

st.page_link(ACCOUNTING_SYNC if run.kind == "accounting_sync" else IMPORTS,
             label="Recent Syncs" if run.kind == "accounting_sync" else "Imports", icon=":material/arrow_back:")
head, badge = st.columns([5, 1], vertical_alignment="bottom")
head.title(run_title(run))
with badge:
    run_status_badge(run.status)
window = (f" · Intacct changes from {when(run.window_from)} to {when(run.window_to, with_zone=True)}"
          if run.window_from or run.window_to else "")
st.caption(f"{RUN_TRIGGER.get(run.trigger, run.trigger)} · requested by {run.requested_by or 'auto-sync'} "
           f"{when(run.queued_at)} ({ago(run.queued_at)}) · "
           + (f"took {span(run_duration(run))}" if run.started_at else "not started") + window)
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

cols = st.columns(5)
for col, (label, value) in zip(cols, [("Created", run.created_count), ("Updated", run.updated_count),
                                      ("Unchanged", run.unchanged_count), ("Skipped", run.skipped_count),
                                      ("Failed", run.failed_count)]):
    col.metric(label, f"{value:,}")
if run.failed_count and run.status not in ACTIVE_RUN_STATUSES and can_act:
    st.button(f"Retry the {plural(run.failed_count, 'failed record')}".replace("the 1 ", "the "), type="primary", icon=":material/replay:",
              on_click=_act, args=("retry", run.id))

st.subheader("Records")
if not items:
    st.caption("This run has not touched any record yet." if run.status in ACTIVE_RUN_STATUSES
               else "This run touched no record: nothing had changed." if run.status == "succeeded"
               else "This run stopped before touching any record.")
    st.stop()
failures = [i for i in items if i.action == "failed"]
for item in failures[:10]:
    with st.container(border=True):
        st.markdown(f":red[:material/error:] **{plain(item.label)}** · "
                    + (f"Intacct error `{item.errorno}` · " if item.errorno else "")
                    + CATEGORY.get(item.error_category or "", "Failed"))
        st.markdown(plain(item.message or "Intacct gave no message."))
        if item.correction:
            st.caption(f"What to do: {item.correction}")
        if item.record_id:
            record_link(item.record_type, item.record_id, "Open the record")
if len(failures) > 10:
    st.caption(f"{len(failures) - 10:,} more failures are in the table below.")
shown = st.pills("Show", ACTIONS, selection_mode="multi", default=ACTIONS, key="run_actions",
                 format_func=lambda a: f"{a.capitalize()} ({sum(1 for i in items if i.action == a):,})")
items = sorted((i for i in items if i.action in shown), key=lambda i: (i.action != "failed", i.id))
frame = pd.DataFrame([{
    "Record": i.label, "Result": i.action.capitalize(), "Step": STEP.get(i.step, i.step),
    "Intacct error": i.errorno or "", "Message": i.message or "", "What to do": i.correction or "",
    "Status": CATEGORY.get(i.error_category or "", i.error_category or ""), "Intacct key": i.intacct_key or "",
    "At": when(i.at),
} for i in items])
event = st.dataframe(frame, hide_index=True, key="run_items", on_select="rerun", selection_mode="single-row",
                     column_config={"Message": st.column_config.TextColumn(width="large"),
                                    "What to do": st.column_config.TextColumn(width="large")})
st.caption("Select a row to open the record and its change history.")
if event and event.selection.rows and items[event.selection.rows[0]].record_id:
    picked = items[event.selection.rows[0]]
    st.switch_page(RECORD_DETAIL, query_params={"type": picked.record_type, "id": str(picked.record_id)})
download_csv(frame, f"run-{run.id}.csv")
