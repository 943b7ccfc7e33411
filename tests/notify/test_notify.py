"""Run emails read back from a real SMTP server on loopback: import completion, new-error digests, failures."""
from __future__ import annotations

import pytest

from storage.models import ItemAction, RunKind, RunStatus, RunTrigger
from sync_engine.services.notify import notify_run_finished
from sync_engine.worker.loop import Scheduler
from tests.notify.conftest import SMTP_PASSWORD, SMTP_USER, Inbox, free_port
from tests.notify.helpers import BASE_URL, configure_email, failure, finished_run, notification_status
from tests.scheduler.executors import scripted_executor
from tests.scheduler.helpers import add_connection, get_run, queue_runs

RECIPIENT_LIST = ["ar-team@example.test", "controller@example.test"]


def _parts(message) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())


def test_import_email_has_counts_duration_failures_and_the_run_link(engine, smtp_server: Inbox) -> None:
    connection = add_connection(engine)
    configure_email(engine, smtp_server.port)
    run_id = finished_run(
        engine, connection, kind=RunKind.CUSTOMER_IMPORT, trigger=RunTrigger.MANUAL, status=RunStatus.PARTLY_FAILED,
        created_count=40, updated_count=3, unchanged_count=120, failed_count=2,
        items=[{"label": "Customer C-1", "action": ItemAction.CREATED},
               failure("Customer C-7", "Customer C-7 has no <name> & was skipped"),
               failure("Customer C-9", "Invalid currency XYZ", errorno=None)],
    )

    status = notify_run_finished(engine=engine, run_id=run_id)

    assert status == "sent to " + ", ".join(RECIPIENT_LIST) == notification_status(engine, run_id)
    [envelope] = smtp_server.envelopes
    assert sorted(envelope.rcpt_tos) == sorted(RECIPIENT_LIST) and envelope.mail_from == "ar-sync@example.test"
    [message] = smtp_server.messages
    assert message["Subject"] == (f"Customer import #{run_id} finished with failures: "
                                  "40 created, 3 updated, 120 unchanged, 2 failed")
    assert message["Auto-Submitted"] == "auto-generated"
    text, page = _parts(message)
    link = f"{BASE_URL}/run_detail?run={run_id}"
    for expected in ("Created: 40", "Updated: 3", "Failed: 2", "Duration: 2 min 5 s", "manual by ana",
                     "Customer C-7: [BL03000018] Customer C-7 has no <name> & was skipped",
                     "Customer C-9: Invalid currency XYZ", link):
        assert expected in text
    assert "Customer C-1" not in text  # only failures are listed
    assert "&lt;name&gt; &amp; was skipped" in page and f"href='{link}'" in page


def test_a_long_failure_list_is_cut_to_the_first_twenty(engine, smtp_server: Inbox) -> None:
    connection = add_connection(engine)
    configure_email(engine, smtp_server.port)
    run_id = finished_run(engine, connection, kind=RunKind.INVOICE_IMPORT, trigger=RunTrigger.MANUAL,
                          status=RunStatus.PARTLY_FAILED, failed_count=25,
                          items=[failure(f"Invoice INV-{n:03}", "Customer not found") for n in range(25)])
    notify_run_finished(engine=engine, run_id=run_id)
    text, _ = _parts(smtp_server.messages[0])
    assert "Failures (first 20 of 25):" in text
    assert "INV-019" in text and "INV-020" not in text


def test_digest_lists_only_new_errors_and_is_not_repeated(engine, smtp_server: Inbox) -> None:
    connection = add_connection(engine)
    configure_email(engine, smtp_server.port)
    a = failure("Invoice INV-1", "Location L10 is not valid for account 4000")
    b = failure("Invoice INV-2", "Customer C-404 not found")
    c = failure("Payment PAY-7", "Period is closed")

    first = finished_run(engine, connection, items=[a, b], failed_count=2)
    assert notify_run_finished(engine=engine, run_id=first).startswith("sent to ")
    [digest] = smtp_server.messages
    assert digest["Subject"] == f"Accounting sync #{first}: 2 new errors"
    text, _ = _parts(digest)
    assert "Invoice INV-1: [BL03000018] Location L10" in text and "Invoice INV-2" in text

    # The next hour fails the same way: nothing new, no email.
    second = finished_run(engine, connection, items=[b, a], failed_count=2)
    assert notify_run_finished(engine=engine, run_id=second) == "not sent: no new errors (already reported)"
    assert len(smtp_server.messages) == 1

    # INV-2 is fixed, a payment starts failing, INV-1 fails with another message: those two are new.
    a_changed = failure("Invoice INV-1", "Department D1 is inactive")
    third = finished_run(engine, connection, items=[a, {"label": "Invoice INV-2", "action": ItemAction.UPDATED}, c],
                         failed_count=2)
    fourth = finished_run(engine, connection, items=[a_changed, c], failed_count=2)
    assert notify_run_finished(engine=engine, run_id=third).startswith("sent to ")
    assert notify_run_finished(engine=engine, run_id=fourth).startswith("sent to ")
    third_text, _ = _parts(smtp_server.messages[1])
    fourth_text, _ = _parts(smtp_server.messages[2])
    assert "Payment PAY-7" in third_text and "Invoice INV-1" not in third_text.split("New errors")[1]
    assert "1 other record still failing as before" in third_text
    assert "Department D1 is inactive" in fourth_text and "Payment PAY-7" not in fourth_text.split("New errors")[1]


def test_a_preview_mails_nothing_and_does_not_hide_a_real_new_error(engine, smtp_server: Inbox) -> None:
    connection = add_connection(engine)
    configure_email(engine, smtp_server.port)
    broken = failure("Invoice INV-5", "Account label 'Old' does not exist in Intacct")
    preview = finished_run(engine, connection, trigger=RunTrigger.MANUAL, items=[broken], failed_count=1,
                           options={"preview": True})
    assert notify_run_finished(engine=engine, run_id=preview) is None
    real = finished_run(engine, connection, items=[broken], failed_count=1)
    assert notify_run_finished(engine=engine, run_id=real).startswith("sent to ")
    [digest] = smtp_server.messages
    assert "Invoice INV-5" in _parts(digest)[0]


def test_a_clean_sync_sends_nothing(engine, smtp_server: Inbox) -> None:
    connection = add_connection(engine)
    configure_email(engine, smtp_server.port)
    run_id = finished_run(engine, connection, status=RunStatus.SUCCEEDED, created_count=4,
                          items=[{"label": "Invoice INV-1", "action": ItemAction.CREATED}])
    assert notify_run_finished(engine=engine, run_id=run_id) is None
    assert smtp_server.messages == [] and notification_status(engine, run_id) is None


def test_an_authentication_failure_is_mailed_once(engine, smtp_server: Inbox) -> None:
    connection = add_connection(engine)
    configure_email(engine, smtp_server.port)
    fields = dict(status=RunStatus.FAILED, error_category="authentication",
                  error_message="Sign-in information is incorrect")
    first = finished_run(engine, connection, **fields)  # type: ignore[arg-type]
    second = finished_run(engine, connection, trigger=RunTrigger.MANUAL, **fields)  # type: ignore[arg-type]
    assert notify_run_finished(engine=engine, run_id=first).startswith("sent to ")
    assert notify_run_finished(engine=engine, run_id=second) == "not sent: no new errors (already reported)"
    [message] = smtp_server.messages
    assert message["Subject"] == f"Accounting sync #{first}: failed (authentication)"
    text, _ = _parts(message)
    assert "Sign-in information is incorrect" in text and "auto-sync is paused" in text


def test_email_off_sends_nothing_and_says_so_for_imports(engine, smtp_server: Inbox) -> None:
    connection = add_connection(engine)
    configure_email(engine, smtp_server.port, enabled=False)
    run_id = finished_run(engine, connection, kind=RunKind.CUSTOMER_IMPORT, trigger=RunTrigger.MANUAL,
                          status=RunStatus.SUCCEEDED)
    assert notify_run_finished(engine=engine, run_id=run_id) == "not sent: email notifications are off"
    assert smtp_server.messages == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_uses_the_stored_password_and_never_mails_it(engine, auth_smtp_server: Inbox) -> None:
    connection = add_connection(engine)
    configure_email(engine, auth_smtp_server.port, user=SMTP_USER, password=SMTP_PASSWORD)
    run_id = finished_run(engine, connection, kind=RunKind.INVOICE_IMPORT, trigger=RunTrigger.MANUAL,
                          status=RunStatus.SUCCEEDED, created_count=2)
    assert notify_run_finished(engine=engine, run_id=run_id).startswith("sent to ")
    [envelope] = auth_smtp_server.envelopes
    assert SMTP_PASSWORD.encode() not in envelope.original_content

    configure_email(engine, auth_smtp_server.port, user=SMTP_USER, password="wrong-password")
    again = finished_run(engine, connection, kind=RunKind.INVOICE_IMPORT, trigger=RunTrigger.MANUAL,
                         status=RunStatus.SUCCEEDED)
    status = notify_run_finished(engine=engine, run_id=again)
    assert status == "email failed: the SMTP server refused the user name or password (535)"
    assert "wrong-password" not in status and len(auth_smtp_server.envelopes) == 1


def _scheduler(engine, executor) -> Scheduler:  # type: ignore[no-untyped-def]
    return Scheduler(engine, executor=executor, scheduler_id="mailer-test", poll_seconds=0.05, heartbeat_seconds=0.1)


def test_the_scheduler_mails_when_an_import_finishes(engine, smtp_server: Inbox) -> None:
    connection = add_connection(engine)
    configure_email(engine, smtp_server.port)
    [run_id] = queue_runs(engine, connection, 1, kind=RunKind.CUSTOMER_IMPORT)
    executor = scripted_executor(RunStatus.SUCCEEDED, counts={"created_count": 12},
                                 items=[{"label": "Customer C-1", "action": ItemAction.CREATED}])
    assert _scheduler(engine, executor).run_once() == 0
    [message] = smtp_server.messages
    assert message["Subject"] == f"Customer import #{run_id} succeeded: 12 created, 0 failed"
    assert notification_status(engine, run_id).startswith("sent to ")


def test_smtp_down_leaves_the_run_succeeded_and_records_why(engine) -> None:
    connection = add_connection(engine)
    port = free_port()  # nothing listens here
    configure_email(engine, port)
    [run_id] = queue_runs(engine, connection, 1, kind=RunKind.INVOICE_IMPORT)
    assert _scheduler(engine, scripted_executor(RunStatus.SUCCEEDED)).run_once() == 0
    run = get_run(engine, run_id)
    assert run.status == RunStatus.SUCCEEDED
    assert run.notification_status == f"email failed: could not connect to 127.0.0.1:{port} (Connection refused)"


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_modes_verify_the_server_and_log_in(engine, tls_smtp_servers, security: str) -> None:
    server = tls_smtp_servers[security]
    connection = add_connection(engine)
    configure_email(engine, server.port, security=security, user=SMTP_USER, password=SMTP_PASSWORD,
                    recipients="ar-team@example.test")
    run_id = finished_run(engine, connection, kind=RunKind.CUSTOMER_IMPORT, trigger=RunTrigger.MANUAL,
                          status=RunStatus.SUCCEEDED, created_count=1)
    assert notify_run_finished(engine=engine, run_id=run_id) == "sent to ar-team@example.test"
    [envelope] = server.envelopes
    assert envelope.mail_from == "ar-sync@example.test"


def test_an_untrusted_certificate_is_refused(engine, tls_smtp_servers, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SSL_CERT_FILE")
    server = tls_smtp_servers["starttls"]
    connection = add_connection(engine)
    configure_email(engine, server.port, security="starttls")
    run_id = finished_run(engine, connection, kind=RunKind.CUSTOMER_IMPORT, trigger=RunTrigger.MANUAL,
                          status=RunStatus.SUCCEEDED)
    status = notify_run_finished(engine=engine, run_id=run_id)
    assert status.startswith(f"email failed: TLS with 127.0.0.1:{server.port} failed") and "CERTIFICATE" in status
    assert server.envelopes == []
