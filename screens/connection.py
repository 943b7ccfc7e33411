"""Connection page (admin): the Intacct company's web services credentials, Save, Test connection and the
change history. Stored passwords are never shown: the password boxes stay empty and blank keeps them."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from console.change_words import change_rows
from console.state import credentials_problem, flash, get_engine, guarded, require_user, show_flash
from console.tables import CHANGE_COLUMNS, show_table
from console.widgets import ago, connection_badge, when
from storage.config import settings
from storage.db import read_session, write_session
from storage.models import Role
from storage.secrets import SecretKeyInvalid
from sync_engine.services.connection import ConnectionNotConfigured, test_connection
from sync_engine.services.settings import ConnectionForm, SettingsError, get_connection, save_connection
from sync_engine.sync.audit import audit_trail

user = require_user(Role.ADMIN)
FIELDS = {"endpoint_url": "conn_url", "company_id": "conn_company", "user_id": "conn_user", "sender_id": "conn_sender",
          "entity_id": "conn_entity", "intacct_timezone": "conn_tz"}
SECRETS = {"user_password": "conn_user_pw", "sender_password": "conn_sender_pw"}
# The INTACCT_DEMO_* settings (storage.config) behind "Use the local demo company".
DEMO_FIELDS = {"endpoint_url": "conn_url", "sender_id": "conn_sender", "company_id": "conn_company",
               "user_id": "conn_user"}
# The demo passwords go from the environment into server-side session state only: never into a widget.
DEMO_SECRETS = ("user_password", "sender_password")
DEMO_HELD = "conn_demo_secrets"


@guarded(Role.ADMIN)
def _use_demo() -> None:
    demo = settings().demo_company
    for field, key in DEMO_FIELDS.items():
        st.session_state[key] = demo[field]
    st.session_state["conn_entity"] = ""
    st.session_state[DEMO_HELD] = {field: demo[field] for field in DEMO_SECRETS}
    for key in SECRETS.values():
        st.session_state[key] = ""
    flash("info", "Filled in the local demo company; its passwords are stored on the server, not shown. "
                  "Save, then test the connection.")


@guarded(Role.ADMIN)
def _save() -> None:
    held = st.session_state.get(DEMO_HELD) or {}
    form = ConnectionForm(**{f: st.session_state.get(k, "") for f, k in FIELDS.items()},
                          **{f: st.session_state.get(k, "") or held.get(f, "") for f, k in SECRETS.items()})
    try:
        with write_session(get_engine()) as session:
            save_connection(session=session, form=form, actor=user.username)
    except (SettingsError, SecretKeyInvalid) as exc:
        flash("error", f"Not saved: {exc}")
        return
    for key in SECRETS.values():
        st.session_state[key] = ""
    st.session_state.pop(DEMO_HELD, None)
    flash("success", "Connection saved. Test it now to check the credentials with Intacct.")


@guarded(Role.ADMIN)
def _test() -> None:
    try:
        with st.spinner("Signing in to Intacct…"), read_session(get_engine()) as session:
            check = test_connection(session=session)
    except ConnectionNotConfigured as exc:
        flash("warning", str(exc))
        return
    except Exception as exc:  # noqa: BLE001 - a person pressed a button: show what went wrong, not a traceback
        flash("error", f"The connection test could not run: {exc}")
        return
    if check.ok:  # the status banner below shows the result; a toast confirms the click
        st.toast("Connection works.", icon=":material/check_circle:")
    else:
        st.toast("Intacct refused the sign-in: see the message on the page.", icon=":material/error:")


with read_session(get_engine()) as session:
    connection = get_connection(session=session)
    history = audit_trail(session=session, entity="connection", limit=50)

title, badge = st.columns([5, 1], vertical_alignment="bottom")
title.title("Intacct connection")
with badge:
    connection_badge(connection)
st.caption("The web services user the console signs in as. Use a dedicated web services user (\"Restrict user "
           "access to web services only\"), so a person's password change or 2-step verification never stops syncs.")
show_flash()
if connection is not None:
    if connection.status == "failing":
        st.error(f"**Sign-in failing** (tested {ago(connection.last_tested_at)}): {connection.last_test_message}\n\n"
                 "Correct the values below (leave a password blank to keep the stored one), **Save**, then "
                 "**Test connection**. A successful test resumes a paused auto-sync.", icon=":material/error:")
    elif connection.status == "ok":
        st.success(f"Tested {ago(connection.last_tested_at)}: {connection.last_test_message}",
                   icon=":material/check_circle:")
    else:
        st.info("Not tested since the last change: press **Test connection**.", icon=":material/help:")
    problem = credentials_problem(connection)
    if problem:
        st.error(f"{problem[0].upper()}{problem[1:]}. Type the user password and the sender password again and save.",
                 icon=":material/key_off:")

for field, key in FIELDS.items():
    st.session_state.setdefault(key, (getattr(connection, field, None) if connection else None)
                                or ("UTC" if field == "intacct_timezone" else ""))
if any(settings().demo_company.values()):
    st.button("Use the local demo company", icon=":material/science:", on_click=_use_demo,
              help="Fills in the sandbox company from the INTACCT_DEMO_* settings of this machine.")

keep = "Stored. Leave blank to keep" if connection else ""
if st.session_state.get(DEMO_HELD):
    keep = "Stored (demo company). Leave blank to use it"
with st.form("connection"):
    left, right = st.columns(2)
    left.text_input("Company ID", key="conn_company", help="Company > Company Info > ID. Spaces are removed.")
    left.text_input("User ID", key="conn_user", help="The web services user, e.g. 'ws_console'.")
    left.text_input("User password", key="conn_user_pw", type="password", placeholder=keep)
    left.text_input("Entity / location ID (optional)", key="conn_entity",
                    help="Sign in at an entity of a multi-entity company; empty signs in at the top level.")
    right.text_input("Sender ID", key="conn_sender", help="Your Web Services sender ID (from Sage).")
    right.text_input("Sender password", key="conn_sender_pw", type="password", placeholder=keep)
    right.text_input("Gateway URL", key="conn_url", placeholder="https://api.intacct.com/ia/xml/xmlgw.phtml")
    right.text_input("Intacct company time zone", key="conn_tz",
                     help="Zone of Intacct's 'modified' timestamps, e.g. America/New_York; used for sync windows.")
    st.form_submit_button("Save", type="primary", icon=":material/save:", on_click=_save)

st.button("Test connection", icon=":material/network_check:", on_click=_test, disabled=connection is None,
          help="Signs in to Intacct with the saved credentials." if connection else "Save the connection first.")

with st.expander(f"Change history ({len(history)})"):
    if history:
        show_table(pd.DataFrame(change_rows(history, when)), CHANGE_COLUMNS)
    else:
        st.caption("No changes yet: the first save is recorded here.")
