"""Sign-in page (throttled per user name after repeated failures); on a brand-new installation (no users yet) it
creates the first administrator instead."""
from __future__ import annotations

import streamlit as st

from console.state import flash, get_engine, show_flash, sign_in
from storage.db import read_session, write_session
from storage.models import Role
from sync_engine.users import (MIN_PASSWORD_LENGTH, SignInThrottled, UserError, authenticate, count_users,
                               create_user)


def _sign_in() -> None:
    password = st.session_state.pop("login_password", "")  # don't keep it in the session afterwards
    try:
        with write_session(get_engine()) as session:
            user = authenticate(session=session, username=st.session_state.get("login_user", ""), password=password)
    except SignInThrottled as exc:
        flash("error", str(exc))
        return
    if user is None:
        flash("error", "Wrong user name or password, or the account is disabled. Check Caps Lock and try again; "
                       "an administrator can reset your password in Settings.")
        return
    sign_in(user)


def _create_first_admin() -> None:
    password = st.session_state.get("first_password", "")
    if password != st.session_state.get("first_password2", ""):
        flash("error", "The two passwords differ: type the same password twice.")
        return
    with read_session(get_engine()) as session:
        if count_users(session=session) > 0:
            flash("warning", "An administrator was created meanwhile: sign in instead.")
            return
        try:
            user = create_user(session=session, username=st.session_state.get("first_user", ""), password=password,
                               role=Role.ADMIN, display_name=st.session_state.get("first_name", ""),
                               email=st.session_state.get("first_email", ""), actor="setup")
        except UserError as exc:
            flash("error", str(exc))
            return
    sign_in(user)


_, middle, _ = st.columns([1, 2, 1])
with middle:
    st.title(":material/sync_alt: Intacct A/R sync")
    with read_session(get_engine()) as session:
        first_visit = count_users(session=session) == 0
    show_flash()
    show_flash("sign_in_notice")
    if first_visit:
        st.subheader("Create the first administrator")
        st.caption("Nobody has an account yet. The administrator connects Intacct, maps accounts and adds the "
                   "finance team's accounts in Settings.")
        with st.form("first_admin"):
            st.text_input("User name", key="first_user", placeholder="e.g. jdoe")
            st.text_input("Full name", key="first_name")
            st.text_input("Email (for import results)", key="first_email")
            st.text_input("Password", type="password", key="first_password",
                          help=f"At least {MIN_PASSWORD_LENGTH} characters.")
            st.text_input("Password again", type="password", key="first_password2")
            st.form_submit_button("Create administrator and sign in", type="primary", on_click=_create_first_admin)
    else:
        st.subheader("Sign in")
        with st.form("sign_in"):
            st.text_input("User name", key="login_user", autocomplete="username")
            st.text_input("Password", type="password", key="login_password", autocomplete="current-password")
            st.form_submit_button("Sign in", type="primary", on_click=_sign_in, icon=":material/login:")
