"""Accounting sync page: Enable/Disable Auto-Sync, Sync Now and Preview next sync (queued for the scheduler,
never run here), the live progress of the active run, the last sync at a glance, Recent Syncs, runs over time
and the records still failing by cause, a whole cause markable "don't sync" with a reason."""
from __future__ import annotations

import streamlit as st
from sqlmodel import Session

from console.state import flash, get_engine, guarded, require_user, show_flash
from console.widgets import (
    activity_chart,
    connection_warning,
    credentials_blocked,
    empty_state,
    failure_groups_table,
    is_preview,
    last_run_summary,
    live_runs_table,
    needs_connection,
    next_sync_caption,
    run_link,
    run_progress,
    setup_checklist,
    sync_blocker,
)
from storage.db import read_session, write_session
from storage.models import Role, RunKind, SyncRun
from sync_engine.schedule.queue import active_run, enqueue_run, recent_runs, retry_failed
from sync_engine.services.heartbeat import scheduler_status
from sync_engine.services.history import failure_groups, run_activity
from sync_engine.services.record_actions import RecordActionError, skip_records
from sync_engine.services.settings import get_connection, get_mapping, get_schedule, set_auto_sync

user = require_user()
can_run = user.can(Role.ACCOUNTANT)


def _recent_syncs(session: Session) -> list[SyncRun]:
    return recent_runs(session=session, kind=RunKind.ACCOUNTING_SYNC, limit=50)


@guarded(Role.ACCOUNTANT)
def _start(connection_id: int, preview: bool) -> None:
    with write_session(get_engine()) as session:
        run = enqueue_run(session=session, connection_id=connection_id, kind=RunKind.ACCOUNTING_SYNC,
                          requested_by=user.username, options={"preview": True} if preview else None)
    if is_preview(run) != preview or run.requested_by != user.username:
        # enqueue_run hands back the run already queued or running instead of starting a second one
        flash("warning", f"Nothing new was started: run #{run.id} ({'a preview' if is_preview(run) else 'a sync'}) "
                         f"is already {run.status}. Try again when it has finished.")
        return
    what = "Preview" if preview else "Sync"
    st.toast(f"{what} #{run.id} is queued; progress shows below.", icon=":material/schedule:")


@guarded(Role.ACCOUNTANT)
def _toggle_auto(connection_id: int) -> None:
    with write_session(get_engine()) as session:
        schedule = set_auto_sync(session=session, connection_id=connection_id, enabled=st.session_state["auto_sync"],
                                 actor=user.username)
    st.toast("Auto-sync is on: the first sync starts within a minute." if schedule.enabled else "Auto-sync is off.")


@guarded(Role.ACCOUNTANT)
def _retry(run_id: int) -> None:
    with write_session(get_engine()) as session:
        run = retry_failed(session=session, run_id=run_id, requested_by=user.username)
    st.toast(f"Retry queued as run #{run.id}.", icon=":material/replay:")


@guarded(Role.ACCOUNTANT)
def _skip_group(keys: list[tuple[str, int]]) -> None:
    try:
        with write_session(get_engine()) as session:
            result = skip_records(session=session, records=keys, reason=st.session_state.get("group_reason", ""),
                                  actor=user.username)
    except RecordActionError as exc:
        flash("error", str(exc))
        return
    st.session_state["group_reason"] = ""
    refused = "".join(f"\n- {line}" for line in result.refused)
    if result.skipped:
        flash("success" if not refused else "warning",
              f"{len(result.skipped):,} marked don't sync." + (f" Not marked:{refused}" if refused else ""))
    else:
        flash("error", f"Nothing was marked:{refused}")


st.title("Accounting sync")
st.caption("Keeps Intacct up to date: reads customers and invoices changed there, writes our invoices and "
           "payments to it. Auto-sync runs about once an hour.")
with read_session(get_engine()) as session:
    connection = get_connection(session=session)
    schedule = get_schedule(session=session, connection_id=connection.id) if connection else None
    mapping = get_mapping(session=session, connection_id=connection.id) if connection else None
    scheduler = scheduler_status(session=session)
    active = active_run(session=session, connection_id=connection.id) if connection else None
    runs = _recent_syncs(session)
    activity = run_activity(session=session, days=14, kinds=(RunKind.ACCOUNTING_SYNC,))
    groups = failure_groups(session=session)
if needs_connection(connection, user):
    st.button("Sync Now", type="primary", icon=":material/sync:", disabled=True, help="Connect Intacct first.")
    st.stop()
blocked = credentials_blocked(connection, user)
connection_warning(connection, user)
show_flash()

with st.container(border=True):
    left, right = st.columns([3, 2], vertical_alignment="center")
    with left:
        enabled = bool(schedule and schedule.enabled)
        st.toggle("Auto-Sync (hourly)", value=enabled, key="auto_sync", on_change=_toggle_auto,
                  args=(connection.id,), disabled=not can_run)
        if schedule and schedule.paused_reason:
            st.warning("**Auto-sync is paused** because Intacct refused the sign-in; hourly retries with a wrong "
                       "password could lock the user out. It resumes once the connection is fixed and tests "
                       "successfully.", icon=":material/pause_circle:")
        elif enabled:
            next_sync_caption(connection.id)
        else:
            st.caption("Auto-sync is off: syncs only run when someone presses Sync Now.")
    with right:
        why, fix = sync_blocker(connection, user, blocked=blocked, active=active)
        now_col, preview_col = st.columns(2)
        now_col.button("Sync Now", type="primary", icon=":material/sync:", on_click=_start, args=(connection.id, False),
                       disabled=why is not None, width="stretch",
                       help=why or "Queues a sync; the scheduler starts it within seconds.")
        preview_col.button("Preview next sync", icon=":material/visibility:", on_click=_start,
                           args=(connection.id, True), disabled=why is not None, width="stretch",
                           help=why or "Reads Intacct and lists what a sync would create, change and send, "
                                       "with any validation problems. Writes nothing.")
        if why:
            st.caption(why)
            if fix and connection.status != "failing":  # the red banner above already links the fix
                st.page_link(fix[0], label=fix[1], icon=fix[2])
        if active is not None:
            run_link(active.id, f"Open run #{active.id}")
        elif not why and not scheduler.alive:
            st.caption(":orange[:material/heart_broken: The scheduler is not running: a sync started now waits "
                       "in the queue until it runs again.]")

if active is not None:
    run_progress(active.id)

finished = [r for r in runs if r.finished_at]
last = next((r for r in finished if not is_preview(r)), None)
if last is not None:
    last_run_summary(last)
else:
    setup_checklist(connection, bool(mapping and mapping.validated_at), runs)

st.subheader("Recent Syncs")
if runs:
    live_runs_table(runs, load=_recent_syncs, key="recent_syncs")
else:
    empty_state("No syncs yet", "Press Preview next sync to see what would happen without writing anything, or "
                                "Sync Now to do it. Each run appears here with what it created, updated and failed.")

if activity:
    st.subheader("Last 14 days")
    activity_chart(activity)

if groups:
    st.subheader("Records still failing")
    st.caption("Grouped by Intacct's error: fix the cause once (mapping, customer, period), then retry them all.")
    failure_groups_table(groups)
    if can_run:
        st.button(f"Retry {sum(g.count for g in groups):,} failed records now", icon=":material/replay:",
                  on_click=_retry, args=(max(g.last_run_id for g in groups),), disabled=active is not None)
        with st.expander("Don't sync a group"):
            st.caption("For records that should never reach Intacct (duplicates, test entries). Only ledger records "
                       "not yet in Intacct can be marked; each keeps the reason in its history, and Sync again on "
                       "its page sends it later.")
            index = st.selectbox("Group", range(len(groups)), key="group_pick",
                                 format_func=lambda i: f"{groups[i].count:,} × {groups[i].message[:90]}")
            st.text_input("Reason (required)", key="group_reason", max_chars=500)
            st.button(f"Don't sync these {groups[index].count:,}", icon=":material/block:", on_click=_skip_group,
                      args=(groups[index].keys,), disabled=active is not None)
elif finished:
    st.success("No record is failing.", icon=":material/task_alt:")
