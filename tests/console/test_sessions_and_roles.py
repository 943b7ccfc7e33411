"""Sessions and roles as a user notices them: deactivation and demotion bite on the next click, sessions idle
out and end at sign-out on the server, and the demo company's passwords never reach a widget."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from console import state
from storage.db import read_session
from storage.models import ConsoleSession, SyncRun
from storage.secrets import SecretBox
from sync_engine import sessions
from sync_engine.settings import get_connection
from sync_engine.users import update_user
from tests.console.conftest import texts
from tests.console.seed import seed_connection


def _button(at, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def test_a_deactivated_user_is_signed_out_on_the_next_click(app_as, db) -> None:
    at = app_as("admin", state.CONNECTION)
    with read_session(db) as session:
        from sync_engine.users import create_user

        create_user(session=session, username="second-admin", password="another-admin-pw", role="admin", actor="t")
        update_user(session=session, username="admin-user", actor="second-admin", active=False)
    at.text_input(key="conn_company").input("EVIL-CO")
    _button(at, "Save").click().run()
    with read_session(db) as session:
        assert get_connection(session=session) is None  # the Save callback refused
    assert "Sign in" in [s.value for s in at.subheader]
    assert "Your session has ended" in texts(at)


def test_a_user_demoted_to_viewer_cannot_sync_from_the_open_page(app_as, db) -> None:
    seed_connection(db)
    at = app_as("accountant")
    sync_now = _button(at, "Sync Now")
    assert not sync_now.disabled
    with read_session(db) as session:
        update_user(session=session, username="accountant-user", actor="admin", role="viewer")
    sync_now.click().run()  # the button drawn while they were an accountant
    with read_session(db) as session:
        assert session.exec(select(SyncRun)).first() is None
    assert _button(at, "Sync Now").disabled
    assert "this needs the accountant role and you are now viewer" in texts(at)


def test_sign_out_ends_the_session_on_the_server(app_as, db) -> None:
    at = app_as("viewer")
    hashed = at.session_state["console_session"]
    at.button(key="sign_out").click().run()
    with read_session(db) as session:
        row = session.exec(select(ConsoleSession).where(ConsoleSession.token_hash == hashed)).one()
        assert row.ended_at is not None
        assert sessions.resume(session=session, hashed=hashed) is None


def test_sessions_idle_out_and_have_an_absolute_lifetime(db) -> None:
    from sync_engine.users import create_user

    rules = sessions.SessionRules(idle=timedelta(minutes=30), lifetime=timedelta(hours=2))
    with read_session(db) as session:
        user = create_user(session=session, username="kim", password="kims-password", role="viewer", actor="t")
        token, row = sessions.start_session(session=session, user_id=user.id, rules=rules)
        start = row.created_at
        hashed = sessions.token_hash(token)
        assert row.token_hash == hashed and token not in str(row.model_dump())
        # Used every 20 minutes it lives until the absolute lifetime ends.
        for minutes in range(20, 120, 20):
            assert sessions.resume(session=session, hashed=hashed, rules=rules,
                                   now=start + timedelta(minutes=minutes)) is not None
        assert sessions.resume(session=session, hashed=hashed, rules=rules, now=start + timedelta(minutes=121)) is None
        token, row = sessions.start_session(session=session, user_id=user.id, rules=rules, now=start)
        hashed = sessions.token_hash(token)
        assert sessions.resume(session=session, hashed=hashed, rules=rules, now=start + timedelta(minutes=31)) is None
        # Once ended, it stays ended even within the rules again.
        assert sessions.resume(session=session, hashed=hashed, rules=rules, now=start + timedelta(minutes=1)) is None


def test_idle_minutes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_SESSION_IDLE_MINUTES", "5")
    monkeypatch.setenv("CONSOLE_SESSION_MAX_HOURS", "nonsense")
    rules = sessions.SessionRules.from_environment()
    assert rules.idle == timedelta(minutes=5) and rules.lifetime == sessions.DEFAULT_MAX


def test_a_password_reset_ends_the_users_sessions(db) -> None:
    from sync_engine.users import create_user

    with read_session(db) as session:
        user = create_user(session=session, username="kim", password="kims-password", role="viewer", actor="t")
        token, _ = sessions.start_session(session=session, user_id=user.id)
        update_user(session=session, username="kim", actor="admin", password="a-new-password")
        assert sessions.resume(session=session, hashed=sessions.token_hash(token)) is None


def test_the_demo_company_passwords_stay_on_the_server(app_as, db, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = {"INTACCT_DEMO_URL": "http://127.0.0.1:8765/ia/xml/xmlgw.phtml", "INTACCT_DEMO_COMPANY_ID": "DEMO-AR",
            "INTACCT_DEMO_USER_ID": "ws_console", "INTACCT_DEMO_SENDER_ID": "ar-console-sender",
            "INTACCT_DEMO_USER_PASSWORD": "demo-user-secret", "INTACCT_DEMO_SENDER_PASSWORD": "demo-sender-secret"}
    for name, value in demo.items():
        monkeypatch.setenv(name, value)
    at = app_as("admin", state.CONNECTION)
    _button(at, "Use the local demo company").click().run()
    for key in ("conn_user_pw", "conn_sender_pw"):
        box = at.text_input(key=key)
        assert box.value == "" and box.placeholder.startswith("Stored (demo company)")
    assert at.text_input(key="conn_company").value == "DEMO-AR"
    _button(at, "Save").click().run()
    with read_session(db) as session:
        connection = get_connection(session=session)
    box = SecretBox()
    assert box.decrypt(connection.user_password_enc) == "demo-user-secret"
    assert box.decrypt(connection.sender_password_enc) == "demo-sender-secret"
