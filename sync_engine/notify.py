"""Run emails: a completion email for each manual import, a digest of new errors after other runs.

The scheduler calls `notify_run_finished` after every run. Rules (after the "smart notifications" in
our field notes):

* a manual or retried customer/invoice import: always an email with counts, duration, the first
  failures and a link to the run in the console;
* any other run (hourly or Sync Now accounting syncs): an email only when it found errors that are new.
  A failure is new unless the record's previous outcome (its latest item in an earlier run of the same
  connection) was a failure with the same message; a run-level error (e.g. authentication) is new unless
  the previous completed run of the same kind ended with the same error. So a record that keeps failing
  the same way is reported once, not every hour.

Sending never fails a run: the outcome is written to `SyncRun.notification_status` ("sent to a@x, b@y" or
"email failed: <reason>"). SMTP settings come from NotificationSettings; the password is decrypted only
to log in and never appears in a message or a status.
"""
from __future__ import annotations

import html
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.db import read_session, write_session
from storage.models import ItemAction, NotificationSettings, RunKind, RunStatus, RunTrigger, SyncRun, SyncRunItem
from storage.secrets import SecretBox, SecretKeyInvalid, SecretKeyMismatch
from sync_engine.history import preview_run_ids

log = logging.getLogger(__name__)

MAX_LISTED_FAILURES = 20
SMTP_TIMEOUT_SECONDS = 15.0
MAX_STATUS_LENGTH = 480
IMPORT_KINDS = frozenset({RunKind.CUSTOMER_IMPORT, RunKind.INVOICE_IMPORT})
COMPLETED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.PARTLY_FAILED, RunStatus.FAILED)
# Runs that looked at every record they meant to; an interrupted one says nothing about the records it skipped.
REPORTED_STATUSES = frozenset({*COMPLETED_STATUSES, RunStatus.INTERRUPTED})
KIND_NAMES: dict[str, str] = {RunKind.ACCOUNTING_SYNC: "Accounting sync", RunKind.CUSTOMER_IMPORT: "Customer import",
              RunKind.INVOICE_IMPORT: "Invoice import"}
STATUS_PHRASES: dict[str, str] = {RunStatus.SUCCEEDED: "succeeded", RunStatus.PARTLY_FAILED: "finished with failures",
                  RunStatus.FAILED: "failed", RunStatus.INTERRUPTED: "was interrupted"}


Refusals = dict[str, tuple[int, bytes]]  # smtplib's refused recipients: address -> (code, reply)


class NotifyError(Exception):
    """An email that could not be sent; the message is safe to show and store (no credentials)."""


@dataclass(frozen=True)
class SmtpConfig:
    """Everything needed to send, with the password already decrypted (hidden from repr)."""

    host: str
    port: int
    security: str  # none | starttls | ssl
    user: str | None
    password: str | None = field(repr=False)
    sender: str
    recipients: tuple[str, ...]
    console_base_url: str

    def run_link(self, run_id: int) -> str:
        return run_link(self.console_base_url, run_id)


def run_link(console_base_url: str, run_id: int) -> str:
    """The console's deep link to one run."""
    return f"{console_base_url.rstrip('/')}/run_detail?run={run_id}"


def parse_recipients(text: str) -> tuple[str, ...]:
    return tuple(r.strip() for r in text.replace(";", ",").split(",") if r.strip())


def _saved_settings(session: Session) -> NotificationSettings | None:
    """The saved email settings (read only: unlike settings.get_notification_settings, never creates the row)."""
    return session.exec(select(NotificationSettings).order_by(col(NotificationSettings.id))).first()


def smtp_config(*, session: Session, box: SecretBox | None = None) -> SmtpConfig | None:
    """The SMTP settings, or None when email is off or has no recipients.

    Raises NotifyError when the stored password cannot be decrypted with the current key.
    """
    settings = _saved_settings(session)
    if settings is None or not settings.enabled:
        return None
    recipients = parse_recipients(settings.recipients)
    if not recipients:
        return None
    return _config(settings, recipients, box)


def _config(settings: NotificationSettings, recipients: tuple[str, ...], box: SecretBox | None) -> SmtpConfig:
    password = None
    if settings.smtp_password_enc:
        try:
            password = (box or SecretBox()).decrypt(settings.smtp_password_enc)
        except (SecretKeyMismatch, SecretKeyInvalid) as exc:
            raise NotifyError(f"the SMTP password cannot be read: {exc}") from exc
    return SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, security=settings.security,
                      user=settings.smtp_user or None, password=password, sender=settings.sender,
                      recipients=recipients, console_base_url=settings.console_base_url)


# --- deciding what is worth an email ---------------------------------------------------------------------


def _failure_key(item: SyncRunItem) -> tuple[str, str, str]:
    return item.record_type, item.label, (item.message or "").strip()


def run_failures(*, session: Session, run_id: int) -> list[SyncRunItem]:
    return list(session.exec(
        select(SyncRunItem).where(SyncRunItem.run_id == run_id, SyncRunItem.action == ItemAction.FAILED)
        .order_by(col(SyncRunItem.id))
    ).all())


def new_failures(*, session: Session, run: SyncRun, failures: list[SyncRunItem] | None = None) -> list[SyncRunItem]:
    """The failures of `run` that were not already failing with the same message before it."""
    assert run.id is not None
    failures = run_failures(session=session, run_id=run.id) if failures is None else failures
    if not failures:
        return []
    labels = sorted({f.label for f in failures})
    previews = preview_run_ids(session=session)
    previous: dict[tuple[str, str], SyncRunItem] = {}
    for start in range(0, len(labels), 500):  # stay far below SQLite's bound-parameter limit
        rows = session.exec(
            select(SyncRunItem).join(SyncRun, col(SyncRun.id) == col(SyncRunItem.run_id))
            .where(SyncRun.connection_id == run.connection_id, col(SyncRunItem.run_id) < run.id,
                   col(SyncRunItem.label).in_(labels[start:start + 500]))
            .order_by(col(SyncRunItem.id))
        ).all()
        for row in rows:
            if row.run_id not in previews:  # a preview emails nothing, so it reported nothing
                previous[(row.record_type, row.label)] = row  # ordered by id: the last one wins
    fresh = []
    for item in failures:
        before = previous.get((item.record_type, item.label))
        if before is None or before.action != ItemAction.FAILED or _failure_key(before) != _failure_key(item):
            fresh.append(item)
    return fresh


def previous_completed_run(*, session: Session, run: SyncRun) -> SyncRun | None:
    """The last real (not preview) run of the same kind that ran to an end before `run`."""
    earlier = session.exec(
        select(SyncRun).where(SyncRun.connection_id == run.connection_id, SyncRun.kind == run.kind,
                              col(SyncRun.id) < run.id, col(SyncRun.status).in_(COMPLETED_STATUSES))
        .order_by(col(SyncRun.id).desc())
    )
    return next((r for r in earlier if not r.is_preview), None)


def _run_error_is_new(*, session: Session, run: SyncRun) -> bool:
    if run.status != RunStatus.FAILED or not run.error_message:
        return False
    before = previous_completed_run(session=session, run=run)
    return not (before is not None and before.status == RunStatus.FAILED
                and (before.error_category, before.error_message) == (run.error_category, run.error_message))


def wants_completion_email(run: SyncRun) -> bool:
    """Manual (or retried) imports get an email whatever the outcome; other runs only for new errors."""
    return run.kind in IMPORT_KINDS and run.trigger != RunTrigger.AUTO


# --- building messages -----------------------------------------------------------------------------------


def _fmt_time(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value else "—"


def format_duration(run: SyncRun) -> str:
    if not run.started_at or not run.finished_at:
        return "—"
    seconds = max(int((run.finished_at - run.started_at).total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _kind(run: SyncRun) -> str:
    return KIND_NAMES.get(run.kind, run.kind.replace("_", " ").capitalize())


def _counts(run: SyncRun) -> list[tuple[str, int]]:
    return [("Created", run.created_count), ("Updated", run.updated_count), ("Unchanged", run.unchanged_count),
            ("Skipped", run.skipped_count), ("Failed", run.failed_count)]


def _failure_line(item: SyncRunItem) -> str:
    code = f"[{item.errorno}] " if item.errorno else ""
    return f"{item.label}: {code}{item.message or 'failed'}"


def _trigger_text(run: SyncRun) -> str:
    who = f" by {run.requested_by}" if run.requested_by and run.trigger != RunTrigger.AUTO else ""
    names: dict[str, str] = {RunTrigger.AUTO: "hourly auto-sync", RunTrigger.RETRY: "retry"}
    return names.get(run.trigger, run.trigger) + who


def _new_message(config: SmtpConfig, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = config.sender.rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a robot
    return message


def _html_list(items: Iterable[SyncRunItem]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(i.label)}</td><td>{html.escape(i.errorno or '')}</td>"
        f"<td>{html.escape(i.message or 'failed')}</td></tr>" for i in items
    )
    return ("<table border='1' cellpadding='4' cellspacing='0' style='border-collapse:collapse'>"
            f"<tr><th>Record</th><th>Error</th><th>Message</th></tr>{rows}</table>")


def _html_page(title: str, paragraphs: list[str], table: str, link: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><body style='font-family:sans-serif'><h2>{html.escape(title)}</h2>{body}{table}"
            f"<p><a href='{html.escape(link, quote=True)}'>Open the run in the console</a></p></body></html>")


def build_import_email(*, run: SyncRun, failures: list[SyncRunItem], config: SmtpConfig,
                       limit: int = MAX_LISTED_FAILURES) -> EmailMessage:
    """The completion email of an import: outcome, counts, duration, the first failures, the link."""
    kind = _kind(run)
    outcome = STATUS_PHRASES.get(run.status, run.status)
    counts = _counts(run)
    count_text = ", ".join(f"{n} {label.lower()}" for label, n in counts if n or label == "Failed")
    subject = f"{kind} #{run.id} {outcome}: {count_text}"
    link = config.run_link(run.id)  # type: ignore[arg-type]
    total_failed = max(run.failed_count, len(failures))
    shown = failures[:limit]

    lines = [f"{kind} #{run.id} {outcome}.", "",
             f"Started:  {_fmt_time(run.started_at)} ({_trigger_text(run)})",
             f"Finished: {_fmt_time(run.finished_at)}",
             f"Duration: {format_duration(run)}", "",
             "   ".join(f"{label}: {n}" for label, n in counts)]
    if run.error_message:
        lines += ["", f"Run error ({run.error_category or 'error'}): {run.error_message}"]
    if shown:
        more = f" (first {len(shown)} of {total_failed})" if total_failed > len(shown) else ""
        lines += ["", f"Failures{more}:"] + [f"  - {_failure_line(i)}" for i in shown]
    lines += ["", f"Open the run in the console: {link}"]

    message = _new_message(config, subject)
    message.set_content("\n".join(lines) + "\n")
    paragraphs = [
        f"{html.escape(kind)} #{run.id} <b>{html.escape(outcome)}</b>.",
        f"Started {html.escape(_fmt_time(run.started_at))} ({html.escape(_trigger_text(run))}); "
        f"duration {html.escape(format_duration(run))}.",
        " &nbsp; ".join(f"{label}: <b>{n}</b>" for label, n in counts),
    ]
    if run.error_message:
        paragraphs.append(f"Run error ({html.escape(run.error_category or 'error')}): {html.escape(run.error_message)}")
    if shown:
        more = f" (first {len(shown)} of {total_failed})" if total_failed > len(shown) else ""
        paragraphs.append(f"Failures{more}:")
    message.add_alternative(_html_page(subject, paragraphs, _html_list(shown) if shown else "", link), subtype="html")
    return message


def build_digest_email(*, run: SyncRun, new: list[SyncRunItem], failing_now: int, run_error_is_new: bool,
                       config: SmtpConfig, limit: int = MAX_LISTED_FAILURES) -> EmailMessage:
    """The digest after a sync: only what is new since the previous runs, plus how much is failing overall."""
    kind = _kind(run)
    parts = []
    if run_error_is_new:
        parts.append(f"failed ({run.error_category or 'error'})")
    if new:
        parts.append(f"{len(new)} new error{'s' if len(new) != 1 else ''}")
    subject = f"{kind} #{run.id}: {' and '.join(parts)}"
    link = config.run_link(run.id)  # type: ignore[arg-type]
    shown = new[:limit]
    already = failing_now - len(new)

    lines = [f"{kind} #{run.id} ({_trigger_text(run)}, {_fmt_time(run.started_at)}) "
             f"{STATUS_PHRASES.get(run.status, run.status)}."]
    if run_error_is_new:
        lines += ["", f"Run error ({run.error_category or 'error'}): {run.error_message}"]
        if run.error_category == "authentication":
            lines += ["Hourly auto-sync is paused until the connection is saved or tested successfully."]
    if shown:
        more = f" (first {len(shown)} of {len(new)})" if len(new) > len(shown) else ""
        lines += ["", f"New errors{more}:"] + [f"  - {_failure_line(i)}" for i in shown]
    if already > 0:
        lines += ["", f"{already} other record{'s' if already != 1 else ''} still failing as before "
                      "(already reported, not repeated here)."]
    lines += ["", f"Open the run in the console: {link}"]

    message = _new_message(config, subject)
    message.set_content("\n".join(lines) + "\n")
    paragraphs = [html.escape(lines[0])]
    if run_error_is_new:
        paragraphs.append(f"Run error ({html.escape(run.error_category or 'error')}): "
                          f"{html.escape(run.error_message or '')}")
    if shown:
        paragraphs.append(f"New errors ({len(new)}):")
    tail = (f"<p>{already} other record(s) still failing as before (already reported).</p>" if already > 0 else "")
    message.add_alternative(_html_page(subject, paragraphs, (_html_list(shown) if shown else "") + tail, link),
                            subtype="html")
    return message


# --- sending ---------------------------------------------------------------------------------------------


def send_email(config: SmtpConfig, message: EmailMessage, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> Refusals:
    """Send through the configured server; returns the refused recipients (empty when all accepted).

    Raises NotifyError with a reason safe to store.
    """
    try:
        context = ssl.create_default_context()
        if config.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=context)
            if config.user:
                smtp.login(config.user, config.password or "")
            return smtp.send_message(message, from_addr=config.sender, to_addrs=list(config.recipients))
    except smtplib.SMTPAuthenticationError as exc:
        raise NotifyError(f"the SMTP server refused the user name or password ({exc.smtp_code})") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise NotifyError(f"every recipient was refused: {_refusals(exc.recipients)}") from exc
    except smtplib.SMTPException as exc:
        raise NotifyError(_redact(f"SMTP error: {exc}", config)) from exc
    except ssl.SSLError as exc:
        raise NotifyError(f"TLS with {config.host}:{config.port} failed ({exc.reason or exc})") from exc
    except (socket.timeout, TimeoutError) as exc:
        raise NotifyError(f"{config.host}:{config.port} did not answer within {timeout:.0f} s") from exc
    except OSError as exc:
        raise NotifyError(f"could not connect to {config.host}:{config.port} ({exc.strerror or exc})") from exc


def _refusals(recipients: Refusals) -> str:
    return ", ".join(f"{addr} ({code})" for addr, (code, _msg) in recipients.items())


def _redact(text: str, config: SmtpConfig) -> str:
    return text.replace(config.password, "••••••") if config.password else text


def send_test_email(*, session: Session, to: str | None = None, box: SecretBox | None = None,
                    timeout: float = SMTP_TIMEOUT_SECONDS) -> str:
    """Send a short test email with the saved SMTP settings; returns "Sent to …" or "Could not send: …".

    Works while "Send emails" is off, so the settings can be checked before run emails are switched on.
    `to` (comma separated) replaces the saved recipients for this one email. Never raises for a mail problem.
    """
    settings = _saved_settings(session)
    if settings is None:
        return "Could not send: no email settings are saved yet. Fill them in and save first."
    recipients = parse_recipients(to) if to and to.strip() else parse_recipients(settings.recipients)
    if not recipients:
        return "Could not send: there is no recipient. Save at least one in Recipients, or type an address."
    if bad := [r for r in recipients if "@" not in r]:
        return f"Could not send: not an email address: {', '.join(bad)}"
    try:
        config = _config(settings, recipients, box)
        message = _new_message(config, "Test email from the Intacct A/R sync console")
        message.set_content(
            "This is a test email from the Intacct A/R sync console.\n\n"
            f"It went through {config.host}:{config.port} (security: {config.security}) from {config.sender}. "
            "If you can read it, run emails will reach this address.\n")
        refused = send_email(config, message, timeout=timeout)
    except NotifyError as exc:
        return f"Could not send: {exc}"
    accepted = [r for r in recipients if r not in refused]
    note = "" if settings.enabled else " Emails are off: turn on Send emails to get run results."
    if refused:
        return f"Sent to {', '.join(accepted)}; the server refused {_refusals(refused)}.{note}"
    return f"Sent to {', '.join(accepted)}.{note}"


# --- the entry point -------------------------------------------------------------------------------------


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
            error_is_new = _run_error_is_new(session=session, run=run)
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
        return _record(engine, run_id, _redact(f"email failed: {type(exc).__name__}: {exc}", config))
    delivered = [r for r in config.recipients if r not in refused]
    status = f"sent to {', '.join(delivered)}"
    if refused:
        status += f"; refused: {_refusals(refused)}"
    return _record(engine, run_id, status)


def _record(engine: Engine, run_id: int, status: str) -> str:
    status = status if len(status) <= MAX_STATUS_LENGTH else status[:MAX_STATUS_LENGTH - 1] + "…"
    with write_session(engine) as session:
        run = session.get(SyncRun, run_id)
        if run is not None:
            run.notification_status = status
            session.add(run)
    return status
