"""The sidebar on every page: connection health, auto-sync, the scheduler's heartbeat and the signed-in user."""
from __future__ import annotations

import streamlit as st

from console.formatting import (
    ago,
    due_words,
    plain,
)
from console.notices import connection_badge
from console.reader_time import when
from console.state import (
    CONNECTION,
    CurrentUser,
    current_user,
    get_engine,
    sign_out,
)
from storage.db import read_session
from storage.models import Role
from sync_engine.services.heartbeat import scheduler_status
from sync_engine.services.settings import get_connection, get_schedule, next_sync_due


def sidebar_status(user: CurrentUser) -> None:
    """Connection health, scheduler heartbeat and the signed-in user, on every page."""
    with st.sidebar:
        _health()
        st.divider()
        st.caption(f"Signed in as **{plain(user.display_name)}** ({user.role})")
        st.button("Sign out", icon=":material/logout:", on_click=sign_out, key="sign_out")


@st.fragment(run_every=15)
def _health() -> None:
    # Refreshed on its own so a scheduler that dies while the page sits open is noticed without a click.
    with read_session(get_engine()) as session:
        connection = get_connection(session=session)
        scheduler = scheduler_status(session=session)
        schedule = get_schedule(session=session, connection_id=connection.id) if connection and connection.id else None
        next_due = next_sync_due(session=session, connection_id=connection.id) if connection and connection.id else None
    user = current_user()
    admin = user is not None and user.can(Role.ADMIN)
    st.caption("Intacct connection")
    connection_badge(connection)
    if connection is not None and connection.status == "failing":
        st.caption(f"Intacct refused the sign-in {ago(connection.last_tested_at)}. Syncs fail until it is fixed.",
                   help=connection.last_test_message)
        if admin:
            st.page_link(CONNECTION, label="Fix the connection", icon=":material/build:")
    elif connection is not None:
        tested = f"tested {ago(connection.last_tested_at)}" if connection.last_tested_at else "never tested"
        st.caption(f"Company {connection.company_id} · {tested}")
    elif admin:
        st.page_link(CONNECTION, label="Set up the connection", icon=":material/link:")
    if connection is not None:
        st.caption("Auto-sync")
        if schedule is not None and schedule.paused_reason:
            st.badge("Paused", color="red", icon=":material/pause_circle:")
            st.caption("Intacct refused the sign-in, so hourly syncs stopped (to avoid locking the user out). "
                       "Fix the connection and test it to resume.")
        elif schedule is not None and schedule.enabled:
            st.badge("On", color="green", icon=":material/autorenew:")
            st.caption(f"Next sync {due_words(next_due)}", help=when(next_due, with_zone=True))
        else:
            st.badge("Off", color="gray", icon=":material/sync_disabled:")
    st.caption("Scheduler")
    if scheduler.alive:
        st.badge("Running", color="green", icon=":material/favorite:")
        st.caption(f"Last heartbeat {ago(scheduler.last_beat)}", help=scheduler.message)
    else:
        st.badge("Not running", color="red", icon=":material/heart_broken:")
        st.warning("Syncs wait in the queue until it runs again. "
                   + ((f"{'Restart' if scheduler.last_beat else 'Start'} it: `python -m sync_engine.scheduler`.")
                      if admin else "Tell your administrator."),
                   icon=":material/warning:")
        st.caption(f"Last heartbeat {ago(scheduler.last_beat)}" if scheduler.last_beat else "It has never run.",
                   help=scheduler.message)


@st.fragment(run_every=15)
def next_sync_caption(connection_id: int) -> None:
    """The main panel's "Next sync due …", refreshed like the sidebar so the two agree after an auto-run."""
    with read_session(get_engine()) as session:
        due = next_sync_due(session=session, connection_id=connection_id)
    st.caption(f"Next sync {due_words(due)}" + (f" ({when(due)})." if due is not None else "."))
