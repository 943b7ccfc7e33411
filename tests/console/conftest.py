"""Console test fixtures: a fresh migrated SQLite database per test behind DATABASE_URL, a clean
`st.cache_resource`, and AppTest apps signed in with a chosen role."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from storage.db import read_session
from storage.models import Role
from sync_engine.users import create_user

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PASSWORD = "correct horse battery"


@pytest.fixture
def db(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The test's database, also the one the console opens (DATABASE_URL)."""
    monkeypatch.setenv("DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    for name in ("CONSOLE_ADMIN_USER", "CONSOLE_ADMIN_PASSWORD", "INTACCT_DEMO_URL"):
        monkeypatch.delenv(name, raising=False)
    st.cache_resource.clear()
    yield sqlite_engine
    st.cache_resource.clear()


def add_user(engine: Engine, username: str, role: str) -> None:
    with read_session(engine) as session:
        create_user(session=session, username=username, password=PASSWORD, role=role, actor="test")


@pytest.fixture
def app_as(db: Engine) -> Callable[..., AppTest]:
    """`app_as(role, page=None)`: an AppTest run signed in as a fresh user with `role`, on `page`."""

    def make(role: str = Role.ADMIN, page: str | None = None, query: dict | None = None) -> AppTest:
        username = f"{role}-user"
        add_user(db, username, role)
        at = AppTest.from_file(APP, default_timeout=30)
        at.session_state["console_session"] = signed_in(db, username)
        if query:
            at.query_params.update(query)
        at.run()
        if page:
            at.switch_page(page)
            at.run()
        return at

    return make


def signed_in(engine: Engine, username: str) -> str:
    """A live console session for `username`, as the value app.py keeps in st.session_state (the token hash)."""
    from sync_engine.sessions import start_session
    from sync_engine.users import get_user

    with read_session(engine) as session:
        user = get_user(session=session, username=username)
        _, row = start_session(session=session, user_id=user.id)
    return row.token_hash


def texts(at: AppTest) -> str:
    """Everything a person would read on the page, as one string (for 'is this message shown')."""
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "subheader", "header",
                 "toast", "exception"):
        parts += [str(getattr(el, "value", "")) for el in getattr(at, kind)]
    return "\n".join(parts)
