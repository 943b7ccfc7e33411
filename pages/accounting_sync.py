"""Accounting sync page: Enable/Disable Auto-Sync, Sync Now (queued for the scheduler, never run here), the
live progress of the active run, Recent Syncs, runs over time and the records still failing by cause."""
from __future__ import annotations

import streamlit as st

from console.state import get_engine, require_user
from console.widgets import (activity_chart, ago, connection_warning, credentials_blocked, empty_state, failure_groups_table,
                             needs_connection, run_progress, runs_table, when)
from storage.db import read_session, write_session
from storage.models import Role, RunKind
from sync_engine.history import failure_groups, run_activity
from sync_engine.queue import active_run, enqueue_run, recent_runs, retry_failed
from sync_engine.settings import get_connection, get_schedule, set_auto_sync

user = require_user()
can_run = user.can(Role.ACCOUNTANT)


def _sync_now(connection_id: int) -> None:
    with write_session(get_engine()) as session:
        run = enqueue_run(session=session, connection_id=connection_id, kind=RunKind.ACCOUNTING_SYNC,
                          requested_by=user.username)
    st.toast(f"Sync #{run.id} is queued; progress shows below.", icon=":material/schedule:")


def _toggle_auto(connection_id: int) -> None:
    with read_session(get_engine()) as session:
        schedule = set_auto_sync(session=session, connection_id=connection_id, enabled=st.session_state["auto_sync"],
                                 actor=user.username)
    st.toast("Auto-sync is on: the first sync starts within a minute." if schedule.enabled else "Auto-sync is off.")


def _retry(run_id: int) -> None:
    with write_session(get_engine()) as session:
        run = retry_failed(session=session, run_id=run_id, requested_by=user.username)
    st.toast(f"Retry queued as run #{run.id}.", icon=":material/replay:")


st.title("Accounting sync")
st.caption("Keeps Intacct up to date: reads customers and invoices changed there, writes our invoices and "
           "payments to it. Auto-sync runs about once an hour.")
with read_session(get_engine()) as session:
    connection = get_connection(session=session)
    schedule = get_schedule(session=session, connection_id=connection.id) if connection else None
    active = active_run(session=session, connection_id=connection.id) if connection else None
    runs = recent_runs(session=session, kind=RunKind.ACCOUNTING_SYNC, limit=50)
    activity = run_activity(session=session, days=14, kinds=(RunKind.ACCOUNTING_SYNC,))
    groups = failure_groups(session=session)
if needs_connection(connection, user):
    st.button("Sync Now", type="primary", icon=":material/sync:", disabled=True, help="Connect Intacct first.")
    st.stop()
blocked = credentials_blocked(connection, user)
connection_warning(connection, user)
failing = connection.status == "failing"

with st.container(border=True):
    left, right = st.columns([3, 2], vertical_alignment="center")
    with left:
        enabled = bool(schedule and schedule.enabled)
        st.toggle("Auto-Sync (hourly)", value=enabled, key="auto_sync", on_change=_toggle_auto,
                  args=(connection.id,), disabled=not can_run)
        if schedule and schedule.paused_reason:
            st.warning(f"Auto-sync is paused: {schedule.paused_reason}", icon=":material/pause_circle:")
        elif enabled:
            st.caption(f"Next sync due {when(schedule.next_due_at)} ({ago(schedule.next_due_at)}).")
        else:
            st.caption("Auto-sync is off: syncs only run when someone presses Sync Now.")
    with right:
        why = ("Only accountants and administrators can start syncs." if not can_run
               else f"Run #{active.id} is already {active.status}." if active
               else "Fix the connection first: the last test failed." if failing
               else "Re-enter the Intacct credentials first." if blocked else None)
        st.button("Sync Now", type="primary", icon=":material/sync:", on_click=_sync_now, args=(connection.id,),
                  disabled=why is not None, help=why or "Queues a sync; the scheduler starts it within seconds.")
        if why:
            st.caption(why)

if active is not None:
    run_progress(active.id)

st.subheader("Recent Syncs")
if runs:
    runs_table(runs, key="recent_syncs")
else:
    empty_state("No syncs yet", "Press Sync Now or turn on Auto-Sync; each run appears here with what it "
                                "created, updated and failed.")

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
elif any(r.finished_at for r in runs):
    st.success("No record is failing.", icon=":material/task_alt:")
