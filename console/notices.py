"""Badges, empty states and the notices that say what to set up or fix before a sync can run."""
from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from console.formatting import (
    CONNECTION_STATUS,
    RUN_STATUS,
    ago,
    is_preview,
)
from console.state import (
    CONNECTION,
    MAPPING,
    CurrentUser,
    credentials_problem,
    current_user,
)
from storage.models import IntacctConnection, Role, SyncRun


def connection_badge(connection: IntacctConnection | None) -> None:
    if connection is None:
        st.badge("Not connected", color="gray", icon=":material/link_off:")
        return
    label, color, icon = CONNECTION_STATUS.get(connection.status, CONNECTION_STATUS["not_tested"])
    st.badge(label, color=color, icon=icon)


def empty_state(title: str, body: str, links: Sequence[tuple[str, str, str]] = ()) -> None:
    """A bordered box saying why a list is empty and what to do next; links are (page, label, icon)."""
    with st.container(border=True):
        st.markdown(f"**{title}**")
        st.caption(body)
        for page, label, icon in links:
            st.page_link(page, label=label, icon=icon)


def needs_connection(connection: IntacctConnection | None, user: CurrentUser) -> bool:
    """Say what to do when Intacct is not connected yet; True when there is no connection."""
    if connection is not None:
        return False
    links = [(CONNECTION, "Set up the Intacct connection", ":material/link:")] if user.can(Role.ADMIN) else []
    who = "" if links else " Ask an administrator to set it up."
    empty_state("Intacct is not connected yet",
                f"Syncs and imports need the company's web services credentials first.{who}", links)
    return True


def credentials_blocked(connection: IntacctConnection, user: CurrentUser) -> bool:
    """Explain stored credentials the current key cannot open (and how to fix it); True when that is the case.

    Pages keep showing their history below the message: only the actions that need Intacct are blocked.
    """
    problem = credentials_problem(connection)
    if not problem:
        return False
    st.error(f"The Intacct credentials cannot be read: {problem}. Re-enter the user password and the sender "
             "password on Connection and save; nothing else is lost.", icon=":material/key_off:")
    if user.can(Role.ADMIN):
        st.page_link(CONNECTION, label="Re-enter the credentials", icon=":material/key:")
    return True


def sync_blocker(connection: IntacctConnection, user: CurrentUser, *, blocked: bool,
                 active: SyncRun | None) -> tuple[str | None, tuple[str, str, str] | None]:
    """Why Sync Now / Preview cannot start right now, and the one link that fixes it (page, label, icon)."""
    admin = user.can(Role.ADMIN)
    fix = (CONNECTION, "Fix the connection", ":material/build:") if admin else None
    if not user.can(Role.ACCOUNTANT):
        return "Only accountants and administrators can start syncs.", None
    if blocked:
        return "The stored Intacct credentials cannot be read: re-enter them first.", fix
    if connection.status == "failing":
        return ("Intacct refused the sign-in at the last test, so a sync would fail the same way. "
                + ("Fix the credentials, then press Test connection." if admin
                   else "Ask an administrator to fix the connection.")), fix
    if active is not None:
        what = "A preview" if is_preview(active) else "A sync"
        return (f"{what} (run #{active.id}) is already {RUN_STATUS.get(active.status, (active.status,))[0].lower()}: "
                "wait for it to finish or open it to cancel it."), None
    return None, None


def setup_checklist(connection: IntacctConnection, mapping_validated: bool, runs: Sequence[SyncRun]) -> None:
    """First steps until the first real sync has finished: what is done, and a link to the next step."""
    steps = [(connection.status == "ok", "Connect Intacct and test the connection", CONNECTION),
             (mapping_validated, "Map the accounts and validate them against Intacct", MAPPING),
             (any(is_preview(r) and r.finished_at for r in runs), "Preview the first sync (writes nothing)", None),
             (any(not is_preview(r) and r.finished_at for r in runs), "Run the first sync", None)]
    with st.container(border=True):
        st.markdown("**Getting started**")
        for done, label, page in steps:
            mark = ":green[:material/check_circle:]" if done else ":gray[:material/radio_button_unchecked:]"
            if page and not done and (user := current_user()) is not None and user.can(Role.ADMIN):
                st.page_link(page, label=label, icon=":material/arrow_forward:")
            else:
                st.markdown(f"{mark} {label}")


def connection_warning(connection: IntacctConnection | None, user: CurrentUser) -> None:
    """A red banner when the last connection test failed: syncs would fail the same way."""
    if connection is not None and connection.status == "failing":
        st.error(f"Intacct sign-in is failing: {connection.last_test_message or 'no details'} "
                 f"(tested {ago(connection.last_tested_at)}). Syncs and imports will fail until this is fixed.",
                 icon=":material/error:")
        if user.can(Role.ADMIN):
            st.page_link(CONNECTION, label="Fix the connection", icon=":material/link:")
