"""The Import button at the top right of Customers and Invoices: choose the source (Intacct), preview or start.

It only queues the one-time import (or its preview) for the scheduler, like the Imports page it links to.
"""
from __future__ import annotations

import streamlit as st

from console.state import IMPORTS, CurrentUser, get_engine
from storage.db import read_session, write_session
from storage.models import Role, RunKind
from sync_engine.import_preview import preview_import
from sync_engine.queue import enqueue_run
from sync_engine.settings import get_connection

NOUN = {RunKind.CUSTOMER_IMPORT: "customers", RunKind.INVOICE_IMPORT: "outstanding invoices"}


def _queue(kind: str, preview: bool, user: CurrentUser) -> None:
    options = {"outstanding_only": True} if kind == RunKind.INVOICE_IMPORT else {}
    with write_session(get_engine()) as session:
        connection = get_connection(session=session)
        if connection is None:
            return
        if preview:
            run = preview_import(session=session, connection_id=connection.id, kind=kind, options=options,  # type: ignore[arg-type]
                                 requested_by=user.username)
        else:
            run = enqueue_run(session=session, connection_id=connection.id, kind=kind,  # type: ignore[arg-type]
                              requested_by=user.username, options=options)
    st.toast(f"{'Preview' if preview else 'Import'} #{run.id} is queued: follow it on Imports.",
             icon=":material/schedule:")


def import_button(kind: str, user: CurrentUser) -> None:
    """Title row helper: call inside the right-hand column of the page's title row."""
    if not user.can(Role.ACCOUNTANT):
        return
    with read_session(get_engine()) as session:
        connected = get_connection(session=session) is not None
    with st.popover("Import", icon=":material/download:", width="stretch", disabled=not connected,
                    help=None if connected else "Connect Intacct first"):
        st.radio("From", ["Intacct"], key=f"import_source_{kind}", horizontal=True)
        st.caption(f"Reads the {NOUN[kind]} from Intacct into the ledger. Preview shows what would change first.")
        st.button("Preview", key=f"import_preview_{kind}", icon=":material/visibility:", on_click=_queue,
                  args=(kind, True, user), width="stretch")
        st.button("Start", key=f"import_start_{kind}", type="primary", icon=":material/play_arrow:", on_click=_queue,
                  args=(kind, False, user), width="stretch")
        st.page_link(IMPORTS, label="Imports page", icon=":material/open_in_new:")
