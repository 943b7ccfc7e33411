"""Per-process and per-browser-session state for the console: the shared engine, the signed-in user,
role checks, page addresses and one-shot messages that survive a rerun.

The engine is built once per process and database URL (`st.cache_resource`) and migrated there; pages
open a short `Session` per use and never keep one.
"""
from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from console import handoff
from console.handoff import COOKIE_NAME
from storage.db import database_url, make_engine, read_session
from storage.migrate import upgrade_database
from storage.models import IntacctConnection, Role, User
from storage.secrets import SecretBox, SecretKeyInvalid, SecretKeyMismatch
from sync_engine import sessions
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


_SESSION_KEY = "console_session"  # the SHA-256 of this browser's session token; the token itself is never kept


def current_user() -> CurrentUser | None:
    """The signed-in user as the database has them *now* (role and active flag re-read on every call).

    Resumes a session from the browser's cookie after a reload; returns None (and says why on the sign-in
    page) when the session ended, idled out, outlived its lifetime or its user was deactivated.
    """
    hashed = st.session_state.get(_SESSION_KEY)
    from_cookie = False
    if hashed is None:
        token = _cookie_token()
        if not token:
            return None
        hashed, from_cookie = sessions.token_hash(token), True
    with read_session(get_engine()) as session:
        live = sessions.resume(session=session, hashed=hashed)
    if live is None:
        if not from_cookie:
            _forget_user()
            flash("info", "Your session has ended: please sign in again.", key="sign_in_notice")
        return None
    st.session_state[_SESSION_KEY] = live.token_hash
    st.session_state["user"] = {"username": live.username, "display_name": live.display_name, "role": live.role}
    return CurrentUser(username=live.username, display_name=live.display_name, role=live.role)


def _cookie_token() -> str | None:
    try:
        token = st.context.cookies.get(COOKIE_NAME)
    except Exception:  # noqa: BLE001 - no browser request behind this run (tests, bare script runs)
        return None
    return token if isinstance(token, str) and 0 < len(token) <= 200 else None


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


def authorize(role: str) -> CurrentUser | None:
    """For callbacks: the user if they (still) have at least `role`, else None with a message on the page.

    A callback runs before the page script, with the page's variables from the previous run, so a user
    demoted or deactivated since the page was drawn would otherwise still act with the old role.
    """
    user = current_user()
    if user is None:
        return None
    if not user.can(role):
        flash("error", f"Not done: this needs the {Role(role).value} role and you are now {user.role}.")
        return None
    return user


def guarded(role: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorate a state-changing callback so it does nothing unless `authorize(role)` passes at click time."""

    def wrap(callback: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(callback)
        def checked(*args: Any, **kwargs: Any) -> None:
            if authorize(role) is not None:
                callback(*args, **kwargs)

        return checked

    return wrap


def sign_in(user: User) -> None:
    """Start a server-side session for `user` and hand its token to the browser as an HttpOnly cookie."""
    rules = sessions.SessionRules.from_environment()
    with read_session(get_engine()) as session:
        token, row = sessions.start_session(session=session, user_id=user.id, rules=rules)  # type: ignore[arg-type]
    st.session_state[_SESSION_KEY] = row.token_hash
    st.session_state["user"] = {"username": user.username, "display_name": user.display_name, "role": str(user.role)}
    st.session_state["cookie_handoff"] = handoff.park(token, max_age=rules.lifetime.total_seconds())


def deliver_session_cookie() -> None:
    """Draw the one-line script that claims the cookie after a sign-in, or clears it after a sign-out."""
    nonce = st.session_state.pop("cookie_handoff", None)
    if nonce:
        st.html(handoff.claim_script(nonce), unsafe_allow_javascript=True)
    if st.session_state.pop("cookie_clear", False):
        st.html(handoff.clear_script(), unsafe_allow_javascript=True)


def _forget_user() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def sign_out() -> None:
    """End the session on the server (the cookie stops working everywhere at once) and forget it here."""
    hashed = st.session_state.get(_SESSION_KEY)
    if hashed:
        with read_session(get_engine()) as session:
            sessions.end_session(session=session, hashed=hashed)
    _forget_user()
    st.session_state["cookie_clear"] = True


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
