"""Settings → Email → Send a test email: read back from a real SMTP server, and plain reasons when it fails."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from console import state
from sync_engine.notify import send_test_email
from tests.console.conftest import app_as, db, texts  # noqa: F401  (fixtures)
from tests.notify.conftest import SMTP_PASSWORD, SMTP_USER, Inbox, free_port
from tests.notify.helpers import configure_email


def test_a_test_email_goes_to_the_saved_recipients_even_while_emails_are_off(engine, smtp_server: Inbox) -> None:
    configure_email(engine, smtp_server.port, enabled=False)
    with Session(engine) as session:
        message = send_test_email(session=session)
    assert message.startswith("Sent to ar-team@example.test, controller@example.test.")
    assert "Emails are off" in message
    [envelope] = smtp_server.envelopes
    assert sorted(envelope.rcpt_tos) == ["ar-team@example.test", "controller@example.test"]
    [mail] = smtp_server.messages
    assert mail["Subject"] == "Test email from the Intacct A/R sync console"
    assert "127.0.0.1" in mail.get_content()


def test_a_typed_address_replaces_the_recipients(engine, smtp_server: Inbox) -> None:
    configure_email(engine, smtp_server.port)
    with Session(engine) as session:
        assert send_test_email(session=session, to=" me@example.test ") == "Sent to me@example.test."
        assert send_test_email(session=session, to="not-an-address") == (
            "Could not send: not an email address: not-an-address")
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [["me@example.test"]]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_failures_are_plain_and_never_show_the_password(engine, auth_smtp_server: Inbox) -> None:
    configure_email(engine, auth_smtp_server.port, user=SMTP_USER, password="wrong-" + SMTP_PASSWORD)
    with Session(engine) as session:
        refused = send_test_email(session=session)
        assert refused.startswith("Could not send: the SMTP server refused the user name or password")
        assert SMTP_PASSWORD not in refused
    configure_email(engine, auth_smtp_server.port, user=SMTP_USER, password=SMTP_PASSWORD)
    with Session(engine) as session:
        assert send_test_email(session=session).startswith("Sent to")
    configure_email(engine, free_port())  # nobody listens there
    with Session(engine) as session:
        assert send_test_email(session=session, timeout=5).startswith("Could not send: could not connect to 127.0.0.1")
    assert len(auth_smtp_server.envelopes) == 1


def test_nothing_saved_yet_says_so(engine) -> None:
    with Session(engine) as session:
        assert send_test_email(session=session).startswith("Could not send: no email settings are saved yet")


def test_the_settings_page_sends_a_test_email(app_as, db, smtp_server: Inbox) -> None:  # noqa: F811
    configure_email(db, smtp_server.port)
    at = app_as("admin", state.SETTINGS)
    at.text_input(key="mail_test_to").input("controller@example.test")
    next(b for b in at.button if b.label == "Send a test email").click().run()
    assert not at.exception
    assert "Sent to controller@example.test." in texts(at)
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [["controller@example.test"]]
