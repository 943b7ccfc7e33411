"""Signing in: the first administrator, a wrong password, the environment bootstrap and role-based menus."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from console import state
from storage.db import read_session
from sync_engine.services.users import authenticate, count_users, get_user
from tests.console.conftest import APP, PASSWORD, add_user, texts


def _fresh_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    return at


def test_first_visit_creates_the_first_administrator(db) -> None:
    at = _fresh_app()
    assert "Create the first administrator" in texts(at)
    at.text_input(key="first_user").input("controller")
    at.text_input(key="first_name").input("Casey Controller")
    at.text_input(key="first_password").input("s3cret-enough")
    at.text_input(key="first_password2").input("s3cret-enough")
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["user"]["role"] == "admin"
    assert "Signed in as **Casey Controller** (admin)" in texts(at)
    with read_session(db) as session:
        assert get_user(session=session, username="controller").role == "admin"


def test_first_administrator_passwords_must_match(db) -> None:
    at = _fresh_app()
    at.text_input(key="first_user").input("controller")
    at.text_input(key="first_password").input("s3cret-enough")
    at.text_input(key="first_password2").input("s3cret-enouhg")
    at.button[0].click().run()
    assert "The two passwords differ" in texts(at)
    with read_session(db) as session:
        assert count_users(session=session) == 0


def test_wrong_password_says_so_and_right_one_signs_in(db) -> None:
    add_user(db, "casey", "accountant")
    at = _fresh_app()
    assert "Sign in" in [s.value for s in at.subheader]
    at.text_input(key="login_user").input("casey")
    at.text_input(key="login_password").input("not the password")
    at.button[0].click().run()
    assert "Wrong user name or password" in texts(at)
    assert "user" not in at.session_state
    at.text_input(key="login_user").input("casey")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert at.session_state["user"]["username"] == "casey"
    assert [t.value for t in at.title] == ["Accounting sync"]
    assert "login_password" not in at.session_state, "the password is not kept in the session"


def test_environment_creates_the_first_admin(db, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_ADMIN_USER", "ops")
    monkeypatch.setenv("CONSOLE_ADMIN_PASSWORD", "from-the-environment")
    at = _fresh_app()
    assert "Sign in" in [s.value for s in at.subheader]
    with read_session(db) as session:
        assert authenticate(session=session, username="ops", password="from-the-environment").role == "admin"


def test_sign_out_returns_to_sign_in(app_as) -> None:
    at = app_as("viewer")
    at.button(key="sign_out").click().run()
    assert "user" not in at.session_state
    assert "Sign in" in [s.value for s in at.subheader]


@pytest.mark.parametrize("role, page, allowed", [
    ("viewer", state.CONNECTION, False), ("viewer", state.SETTINGS, False), ("viewer", state.IMPORTS, False),
    ("viewer", state.CUSTOMERS, True), ("accountant", state.IMPORTS, True), ("accountant", state.MAPPING, False),
    ("admin", state.SETTINGS, True),
])
def test_menus_follow_the_role(app_as, role: str, page: str, allowed: bool) -> None:
    at = app_as(role)
    try:
        at.switch_page(page)
        at.run()
    except Exception:  # noqa: BLE001 - AppTest may refuse a page outside the navigation outright
        assert not allowed
        return
    titles = {state.CONNECTION: "Intacct connection", state.SETTINGS: "Settings & users", state.IMPORTS: "Imports",
              state.CUSTOMERS: "Customers", state.MAPPING: "Account mapping"}
    assert (titles[page] in [t.value for t in at.title]) is allowed


def test_viewer_cannot_start_a_sync(app_as, db) -> None:
    from tests.console.seed import seed_connection

    seed_connection(db)
    at = app_as("viewer")
    sync_now = next(b for b in at.button if b.label == "Sync Now")
    assert sync_now.disabled
