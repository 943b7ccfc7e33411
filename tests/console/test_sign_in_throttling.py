"""Sign-in throttling: five failures for a name within 15 minutes lock that name for 15 minutes, the same way
whether or not such a user exists; a success clears the count; other names are unaffected."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from storage.models import SignInFailure
from storage.types import utcnow
from sync_engine.users import SignInThrottled, authenticate, create_user, update_user
from tests.console.conftest import APP, PASSWORD, add_user, texts

GOOD = "right-password-1"


def _fail(session: Session, name: str, at, times: int = 1) -> None:  # type: ignore[no-untyped-def]
    for _ in range(times):
        assert authenticate(session=session, username=name, password="wrong", now=at) is None


@pytest.mark.parametrize("name", ["kim", "nobody-here"])
def test_five_failures_lock_the_name_for_fifteen_minutes_known_or_not(engine, name: str) -> None:
    start = utcnow()
    with Session(engine) as session:
        create_user(session=session, username="kim", password=GOOD, role="viewer", actor="t")
        _fail(session, name, start, 4)
        _fail(session, name, start + timedelta(minutes=10))
        for attempt_at in (start + timedelta(minutes=10, seconds=1), start + timedelta(minutes=24)):
            with pytest.raises(SignInThrottled, match="try again in 1 minute|try again in 15 minutes"):
                authenticate(session=session, username=name.upper(), password=GOOD, now=attempt_at)
        with pytest.raises(SignInThrottled) as refused:
            authenticate(session=session, username=name, password=GOOD, now=start + timedelta(minutes=11))
        assert "try again in 14 minutes" in str(refused.value)
        assert authenticate(session=session, username="someone-else", password="x", now=start + timedelta(minutes=11)) is None
        unlocked = start + timedelta(minutes=25, seconds=1)
        if name == "kim":
            assert authenticate(session=session, username="kim", password=GOOD, now=unlocked) is not None
            # A success clears the count: four new failures do not lock.
            _fail(session, "kim", unlocked, 4)
            assert authenticate(session=session, username="kim", password=GOOD, now=unlocked) is not None
        else:
            assert authenticate(session=session, username=name, password="wrong", now=unlocked) is None


def test_failures_spread_over_more_than_the_window_do_not_lock(engine) -> None:
    start = utcnow()
    with Session(engine) as session:
        create_user(session=session, username="kim", password=GOOD, role="viewer", actor="t")
        for minute in (0, 4, 8, 12, 16, 20):  # never five within 15 minutes
            _fail(session, "kim", start + timedelta(minutes=minute))
        assert authenticate(session=session, username="kim", password=GOOD, now=start + timedelta(minutes=21))


def test_old_failures_are_pruned(engine) -> None:
    start = utcnow()
    with Session(engine) as session:
        for n in range(20):
            _fail(session, f"made-up-{n}", start)
        _fail(session, "kim", start + timedelta(hours=1))
        assert session.exec(select(func.count()).select_from(SignInFailure)).one() == 1


def test_the_sign_in_page_says_to_wait(db) -> None:
    add_user(db, "casey", "accountant")
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    for _ in range(5):
        at.text_input(key="login_user").input("casey")
        at.text_input(key="login_password").input("not the password")
        at.button[0].click().run()
        assert "Wrong user name or password" in texts(at)
    at.text_input(key="login_user").input("casey")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert "Too many failed sign-ins for this user name: try again in 15 minutes" in texts(at)
    assert "user" not in at.session_state


def test_a_password_reset_lifts_the_lock(engine) -> None:
    start = utcnow()
    with Session(engine) as session:
        create_user(session=session, username="kim", password=GOOD, role="viewer", actor="t")
        _fail(session, "kim", start, 5)
        update_user(session=session, username="kim", actor="admin", password="brand-new-pw")
        assert authenticate(session=session, username="kim", password="brand-new-pw", now=start) is not None


def test_thirty_simultaneous_attempts_check_at_most_five_passwords(engine) -> None:
    """Parallel guessing (several browsers or machines at once) gets no more tries than one after another."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    with Session(engine) as session:
        create_user(session=session, username="kim", password=GOOD, role="viewer", actor="t")
    start = threading.Barrier(30)

    def attempt(n: int) -> str:
        with Session(engine) as session:
            start.wait()
            try:
                user = authenticate(session=session, username="kim", password=f"guess-{n}")
            except SignInThrottled:
                return "refused"
            return "checked" if user is None else "signed in"

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(attempt, range(30)))
    assert outcomes.count("checked") == 5 and outcomes.count("refused") == 25, outcomes
    with Session(engine) as session, pytest.raises(SignInThrottled):
        authenticate(session=session, username="kim", password=GOOD)
