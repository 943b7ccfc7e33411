"""The console's entry point: only a router.

Sets up the page, gates everything behind sign-in, and builds the navigation for the signed-in user's
role (a page left out of the list cannot be reached). Run detail and record detail are hidden pages
reached by links, deep-linkable with query parameters.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from console import state
from console.widgets import sidebar_status
from storage.models import Role

st.set_page_config(page_title="Intacct A/R sync", page_icon=":material/sync_alt:", layout="wide")
state.get_engine()  # migrate (and create the first admin from the environment) before any page runs

user = state.current_user()  # re-read from the database on every rerun: demotions and deactivations bite at once
state.deliver_session_cookie()
if user is None:
    # The sign-in form also answers at every page's address (a page's identity is its URL path), so a deep
    # link such as /run_detail?run=12 opens that run right after signing in instead of "Page not found".
    aliases = [st.Page(state.SIGN_IN, title="Sign in", url_path=Path(path).stem, visibility="hidden")
               for path in state.ROUTED_PAGES]
    st.navigation([st.Page(state.SIGN_IN, title="Sign in", icon=":material/login:", default=True), *aliases],
                  position="hidden").run()
    st.stop()

sync_page = st.Page(state.ACCOUNTING_SYNC, title="Accounting sync", icon=":material/sync:", default=True)
intacct = [sync_page]
if user.can(Role.ACCOUNTANT):
    intacct.append(st.Page(state.IMPORTS, title="Imports", icon=":material/download:"))
if user.can(Role.ADMIN):
    intacct += [st.Page(state.CONNECTION, title="Connection", icon=":material/link:"),
                st.Page(state.MAPPING, title="Account mapping", icon=":material/account_tree:")]
sections: dict[str, list] = {
    "Intacct": intacct,
    "Ledger": [st.Page(state.CUSTOMERS, title="Customers", icon=":material/groups:"),
               st.Page(state.INVOICES, title="Invoices", icon=":material/request_quote:"),
               st.Page(state.PAYMENTS, title="Payments", icon=":material/payments:")],
}
if user.can(Role.ACCOUNTANT):
    sections["Ledger"] += [st.Page(state.NEW_INVOICE, title="New invoice", icon=":material/note_add:"),
                           st.Page(state.NEW_PAYMENT, title="Record payment", icon=":material/price_check:"),
                           st.Page(state.UPLOAD, title="Upload CSV", icon=":material/upload_file:")]
if user.can(Role.ADMIN):
    sections["Admin"] = [st.Page(state.SETTINGS, title="Settings & users", icon=":material/settings:")]
sections["Ledger"] += [
    st.Page(state.RUN_DETAIL, title="Run detail", icon=":material/receipt_long:", visibility="hidden"),
    st.Page(state.RECORD_DETAIL, title="Record history", icon=":material/history:", visibility="hidden"),
]

page = st.navigation(sections)
sidebar_status(user)
page.run()
