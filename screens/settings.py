"""Settings & users (admin): email (SMTP) for import results with a test email, the console's users and their
roles, and the log of every settings change."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from console.change_words import change_rows
from console.state import flash, get_engine, guarded, require_user, show_flash
from console.tables import CHANGE_COLUMNS, show_table
from console.widgets import ago, when
from storage.db import read_session, write_session
from storage.models import Role
from storage.secrets import SecretKeyInvalid
from sync_engine.services.notify import send_test_email
from sync_engine.services.settings import SettingsError, get_notification_settings, save_notification_settings
from sync_engine.services.users import ROLE_LABELS, UserError, create_user, list_users, update_user
from sync_engine.sync.audit import audit_trail

user = require_user(Role.ADMIN)
ss = st.session_state
EMAIL = ("enabled", "smtp_host", "smtp_port", "security", "smtp_user", "smtp_password", "sender", "recipients",
         "console_base_url")


@guarded(Role.ADMIN)
def _save_email() -> None:
    try:
        with write_session(get_engine()) as session:
            save_notification_settings(session=session, actor=user.username,
                                       **{f: ss.get(f"mail_{f}", "") for f in EMAIL})
    except (SettingsError, SecretKeyInvalid, ValueError) as exc:
        flash("error", f"Not saved: {exc}", key="mail_flash")
        return
    ss["mail_smtp_password"] = ""
    flash("success", "Email settings saved.", key="mail_flash")


@guarded(Role.ADMIN)
def _test_email() -> None:
    with read_session(get_engine()) as session:
        message = send_test_email(session=session, to=ss.get("mail_test_to", ""))
    flash("success" if message.startswith("Sent") else "error", message, key="mail_flash")


@guarded(Role.ADMIN)
def _add_user() -> None:
    try:
        with write_session(get_engine()) as session:
            new = create_user(session=session, username=ss.get("new_username", ""), password=ss.get("new_password", ""),
                              role=ss.get("new_role", Role.VIEWER), display_name=ss.get("new_name", ""),
                              email=ss.get("new_email", ""), actor=user.username)
    except UserError as exc:
        flash("error", str(exc), key="user_flash")
        return
    for key in ("new_username", "new_password", "new_name", "new_email"):
        ss[key] = ""
    flash("success", f"{new.username} can now sign in as {new.role}.", key="user_flash")


@guarded(Role.ADMIN)
def _update_user(username: str) -> None:
    try:
        with write_session(get_engine()) as session:
            changed = update_user(session=session, username=username, actor=user.username,
                                  role=ss[f"edit_role_{username}"], active=ss[f"edit_active_{username}"],
                                  password=ss.get(f"edit_password_{username}"))
    except UserError as exc:
        flash("error", str(exc), key="user_flash")
        return
    ss[f"edit_password_{username}"] = ""
    flash("success", f"Saved {changed.username}.", key="user_flash")


st.title("Settings & users")
with read_session(get_engine()) as session:
    mail = get_notification_settings(session=session)
    users = list_users(session=session)
    changes = audit_trail(session=session, limit=300)
email_tab, users_tab, log_tab = st.tabs([":material/mail: Email", ":material/group: Users",
                                         ":material/history: Change log"])

with email_tab:
    st.caption("When email is on, finished imports email their result, so people can leave the Imports page.")
    show_flash("mail_flash")
    for f in EMAIL:
        value = "" if f == "smtp_password" else getattr(mail, f)
        ss.setdefault(f"mail_{f}", "" if value is None else value)
    with st.form("email"):
        st.toggle("Send emails", key="mail_enabled")
        a, b, c = st.columns([3, 1, 1])
        a.text_input("SMTP server", key="mail_smtp_host")
        b.number_input("Port", min_value=1, max_value=65535, step=1, key="mail_smtp_port")
        c.selectbox("Security", ["none", "starttls", "ssl"], key="mail_security")
        a, b = st.columns(2)
        a.text_input("SMTP user (optional)", key="mail_smtp_user")
        b.text_input("SMTP password", type="password", key="mail_smtp_password",
                     placeholder="Stored. Leave blank to keep" if mail.smtp_password_enc else "")
        a.text_input("Sender address", key="mail_sender")
        b.text_input("Recipients", key="mail_recipients", placeholder="ar-team@example.com, controller@example.com")
        st.text_input("Console address (for links in emails)", key="mail_console_base_url")
        st.form_submit_button("Save email settings", type="primary", icon=":material/save:", on_click=_save_email)
    with st.container(border=True):
        st.caption("Check the saved settings (save changes first): sends one short email now, even while emails "
                   "are off. Leave the address empty to use the saved recipients.")
        to, send = st.columns([3, 1], vertical_alignment="bottom")
        to.text_input("Send a test email to (optional)", key="mail_test_to", placeholder="you@example.com")
        send.button("Send a test email", icon=":material/outgoing_mail:", on_click=_test_email, width="stretch")

with users_tab:
    show_flash("user_flash")
    show_table(pd.DataFrame([{"User": u.username, "Name": u.display_name, "Email": u.email or "",
                              "Role": str(u.role).capitalize(), "Can sign in": u.active,
                              "Last sign-in": ago(u.last_login_at)} for u in users]))
    st.caption(" · ".join(ROLE_LABELS.values()))
    add, edit = st.columns(2)
    with add, st.form("add_user"):
        st.markdown("**Add a user**")
        st.text_input("User name", key="new_username")
        st.text_input("Full name", key="new_name")
        st.text_input("Email", key="new_email")
        st.selectbox("Role", list(Role), key="new_role", index=2, format_func=lambda r: r.value.capitalize())
        st.text_input("Initial password", type="password", key="new_password", help="At least 8 characters.")
        st.form_submit_button("Add user", icon=":material/person_add:", on_click=_add_user)
    with edit.container(border=True):
        st.markdown("**Change a user**")
        chosen = st.selectbox("User", [u.username for u in users], key="edit_user")
        picked = next(u for u in users if u.username == chosen)
        with st.form(f"edit_{picked.username}", border=False):
            roles = [r.value for r in Role]
            st.selectbox("Role", roles, index=roles.index(picked.role), key=f"edit_role_{picked.username}",
                         format_func=str.capitalize)
            st.checkbox("Can sign in", value=picked.active, key=f"edit_active_{picked.username}")
            st.text_input("New password (optional)", type="password", key=f"edit_password_{picked.username}")
            st.form_submit_button("Save user", icon=":material/manage_accounts:", on_click=_update_user,
                                  args=(picked.username,))

with log_tab:
    if changes:
        show_table(pd.DataFrame(change_rows(changes, when, with_entity=True)), CHANGE_COLUMNS)
    else:
        st.caption("No settings have changed yet.")
