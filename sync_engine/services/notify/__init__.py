"""Run emails: the scheduler calls `notify_run_finished` after every run; the console sends a test email.

`rules` decides whether a finished run is worth an email, `compose` writes it (Jinja2 templates under
`templates/`), `send` sends it. Sending never fails a run: the outcome is written to `SyncRun.notification_status`
("sent to a@x, b@y" or "email failed: <reason>"). SMTP settings come from NotificationSettings; the password is
decrypted only to log in and never appears in a message or a status.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from email.message import EmailMessage

from sqlalchemy.engine import Engine

from storage.db import read_session, write_session
from storage.models import RunStatus, SyncRun
from storage.secrets import SecretBox
from sync_engine.services.notify.compose import build_digest_email, build_import_email
from sync_engine.services.notify.rules import (
    REPORTED_STATUSES,
    new_failures,
    run_error_is_new,
    run_failures,
    wants_completion_email,
)
from sync_engine.services.notify.send import Refusals, redact, refusals_text, send_email
from sync_engine.services.notify.send import send_test_email as send_test_email
from sync_engine.services.notify.smtp_settings import NotifyError, SmtpConfig, smtp_config

log = logging.getLogger("sync_engine.services.notify")

MAX_STATUS_LENGTH = 480


Sender = Callable[[SmtpConfig, EmailMessage], Refusals]


def notify_run_finished(*, engine: Engine, run_id: int, box: SecretBox | None = None,
                        send: Sender = send_email) -> str | None:
    """Email about a finished run when the rules above call for it, and record the outcome on the run.

    Returns the notification status written (None when there was nothing to say). Never raises for a
    mail problem: that is recorded as "email failed: <reason>".
    """
    with read_session(engine) as session:
        run = session.get(SyncRun, run_id)
        if run is None or run.status not in REPORTED_STATUSES or run.is_preview:
            return None  # a preview is watched on screen by the person who asked for it
        config: SmtpConfig | None = None
        config_error: str | None = None
        try:
            config = smtp_config(session=session, box=box)
        except NotifyError as exc:
            config_error = str(exc)
        failures = run_failures(session=session, run_id=run_id)
        if wants_completion_email(run):
            if config_error:
                return _record(engine, run_id, f"email failed: {config_error}")
            if config is None:
                return _record(engine, run_id, "not sent: email notifications are off")
            message = build_import_email(run=run, failures=failures, config=config)
        else:
            new = new_failures(session=session, run=run, failures=failures) if failures else []
            error_is_new = run_error_is_new(session=session, run=run)
            if not new and not error_is_new:
                if failures or run.status == RunStatus.FAILED:
                    return _record(engine, run_id, "not sent: no new errors (already reported)")
                return None
            if config_error:
                return _record(engine, run_id, f"email failed: {config_error}")
            if config is None:
                return None
            message = build_digest_email(run=run, new=new, failing_now=len(failures), run_error_is_new=error_is_new,
                                         config=config)
    try:
        refused = send(config, message) or {}
    except NotifyError as exc:
        log.warning("email about run #%s failed: %s", run_id, exc)
        return _record(engine, run_id, f"email failed: {exc}")
    except Exception as exc:  # a mail problem must never fail the run or the scheduler
        log.exception("email about run #%s failed", run_id)
        return _record(engine, run_id, redact(f"email failed: {type(exc).__name__}: {exc}", config))
    delivered = [r for r in config.recipients if r not in refused]
    status = f"sent to {', '.join(delivered)}"
    if refused:
        status += f"; refused: {refusals_text(refused)}"
    return _record(engine, run_id, status)


def _record(engine: Engine, run_id: int, status: str) -> str:
    status = status if len(status) <= MAX_STATUS_LENGTH else status[:MAX_STATUS_LENGTH - 1] + "…"
    with write_session(engine) as session:
        run = session.get(SyncRun, run_id)
        if run is not None:
            run.notification_status = status
            session.add(run)
    return status

