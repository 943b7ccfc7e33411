"""Per-process and per-browser-session state for the console: the shared engine, the signed-in user,
role checks, page addresses and one-shot messages that survive a rerun.

The engine is built once per process and database URL (`st.cache_resource`) and migrated there; pages
open a short `Session` per use and never keep one.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import streamlit as st
from sqlalchemy.engine import Engine

from storage.db import database_url, make_engine
from storage.migrate import upgrade_database
from storage.models import IntacctConnection, Role
from storage.secrets import SecretBox, SecretKeyInvalid, SecretKeyMismatch
from sync_engine.users import UserError, ensure_first_admin

# Page files, listed once so links and switch_page calls cannot drift from app.py.
SIGN_IN = "screens/sign_in.py"
ACCOUNTING_SYNC = "screens/accounting_sync.py"
IMPORTS = "screens/imports.py"
CONNECTION = "screens/connection.py"
MAPPING = "screens/account_mapping.py"
CUSTOMERS = "screens/customers.py"
INVOICES = "screens/invoices.py"
PAYMENTS = "screens/payments.py"
SETTINGS = "screens/settings.py"
RUN_DETAIL = "screens/run_detail.py"
RECORD_DETAIL = "screens/record_detail.py"
UPLOAD = "screens/ledger_upload.py"
NEW_INVOICE = "screens/new_invoice.py"
NEW_PAYMENT = "screens/new_payment.py"
ROUTED_PAGES = (ACCOUNTING_SYNC, IMPORTS, CONNECTION, MAPPING, CUSTOMERS, INVOICES, PAYMENTS, SETTINGS, RUN_DETAIL,
                RECORD_DETAIL, UPLOAD, NEW_INVOICE, NEW_PAYMENT)

_RANK = {Role.VIEWER: 0, Role.ACCOUNTANT: 1, Role.ADMIN: 2}


@st.cache_resource(show_spinner="Opening the database…")
def _engine_for(url: str) -> Engine:
    engine = make_engine(url)
    upgrade_database(engine)
    _bootstrap_admin(engine)
    return engine


def _bootstrap_admin(engine: Engine) -> None:
    """Create the first admin from CONSOLE_ADMIN_USER / CONSOLE_ADMIN_PASSWORD when there is no user yet."""
    username = os.environ.get("CONSOLE_ADMIN_USER", "").strip()
    password = os.environ.get("CONSOLE_ADMIN_PASSWORD", "")
    if not username or not password:
        return
    from storage.db import read_session

    with read_session(engine) as session:
        try:
            ensure_first_admin(session=session, username=username, password=password)
        except UserError as exc:
            logging.getLogger(__name__).warning("CONSOLE_ADMIN_USER could not be created: %s", exc)


def get_engine() -> Engine:
    """The process-wide engine for the configured database, migrated on first use."""
    return _engine_for(database_url())


@dataclass(frozen=True)
class CurrentUser:
    username: str
    display_name: str
    role: str

    def can(self, role: str) -> bool:
        """True when this user's role is at least `role` (viewer < accountant < admin)."""
        return _RANK[Role(self.role)] >= _RANK[Role(role)]


def current_user() -> CurrentUser | None:
    data = st.session_state.get("user")
    return CurrentUser(**data) if data else None


def require_user(role: str = Role.VIEWER) -> CurrentUser:
    """The signed-in user, stopping the page unless they have at least `role`.

    app.py already leaves pages out of the menu by role; this second check keeps a screen safe on its own,
    whatever route reaches it.
    """
    user = current_user()
    if user is None:
        st.warning("Please sign in first: reload the console's home page.", icon=":material/login:")
        st.stop()
    if not user.can(role):
        st.error(f"This page is for the {Role(role).value} role and above; you are signed in as "
                 f"{user.role}. Ask an administrator if you need access.", icon=":material/lock:")
        st.stop()
    return user


def sign_in(username: str, display_name: str, role: str) -> None:
    st.session_state["user"] = {"username": username, "display_name": display_name, "role": role}


def sign_out() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def flash(kind: str, message: str, key: str = "flash") -> None:
    """Keep a message for the next render (callbacks run before the page draws)."""
    st.session_state[key] = (kind, message)


def show_flash(key: str = "flash") -> None:
    kind, message = st.session_state.pop(key, (None, None))
    if kind:
        getattr(st, kind)(message)


def credentials_problem(connection: IntacctConnection | None) -> str | None:
    """The plain reason stored passwords cannot be opened with the current key, or None when they can."""
    if connection is None:
        return None
    try:
        box = SecretBox()
        box.decrypt(connection.user_password_enc)
        box.decrypt(connection.sender_password_enc)
    except (SecretKeyMismatch, SecretKeyInvalid) as exc:
        return str(exc)
    return None
