"""Writing run emails: subject and headers here, the bodies (plain text and HTML) in Jinja2 templates.

The templates live in `templates/` beside this module: `import.*` (the completion email of an import),
`digest.*` (new errors after a sync), `page.html.j2` (the HTML frame and failure table) and `test_email.txt.j2`.
HTML templates escape every value; the plain-text ones do not need to.
"""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from storage.models import RunKind, RunStatus, RunTrigger, SyncRun, SyncRunItem
from sync_engine.services.notify.smtp_settings import SmtpConfig

MAX_LISTED_FAILURES = 20
KIND_NAMES: dict[str, str] = {RunKind.ACCOUNTING_SYNC: "Accounting sync", RunKind.CUSTOMER_IMPORT: "Customer import",
                              RunKind.INVOICE_IMPORT: "Invoice import"}
STATUS_PHRASES: dict[str, str] = {RunStatus.SUCCEEDED: "succeeded", RunStatus.PARTLY_FAILED: "finished with failures",
                                  RunStatus.FAILED: "failed", RunStatus.INTERRUPTED: "was interrupted"}

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html.j2"]), trim_blocks=True, lstrip_blocks=True,
                         keep_trailing_newline=True, undefined=StrictUndefined)


def _render(name: str, **context: Any) -> str:
    return _templates.get_template(name).render(**context)


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


def new_message(config: SmtpConfig, subject: str) -> EmailMessage:
    """An empty message with the headers every email of ours carries."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = config.sender.rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a robot
    return message


def test_email_text(host: str, port: int, security: str, sender: str) -> str:
    return _render("test_email.txt.j2", host=host, port=port, security=security, sender=sender)


def build_import_email(*, run: SyncRun, failures: list[SyncRunItem], config: SmtpConfig,
                       limit: int = MAX_LISTED_FAILURES) -> EmailMessage:
    """The completion email of an import: outcome, counts, duration, the first failures, the link."""
    kind = _kind(run)
    outcome = STATUS_PHRASES.get(run.status, run.status)
    counts = _counts(run)
    count_text = ", ".join(f"{n} {label.lower()}" for label, n in counts if n or label == "Failed")
    subject = f"{kind} #{run.id} {outcome}: {count_text}"
    total_failed = max(run.failed_count, len(failures))
    shown = failures[:limit]
    context = {
        "run": run, "kind": kind, "outcome": outcome, "counts": counts, "subject": subject,
        "link": config.run_link(run.id),  # type: ignore[arg-type]
        "started": _fmt_time(run.started_at), "finished": _fmt_time(run.finished_at),
        "duration": format_duration(run), "trigger": _trigger_text(run),
        "more": f" (first {len(shown)} of {total_failed})" if total_failed > len(shown) else "",
        "failures": [_failure_line(i) for i in shown], "items": shown,
    }
    message = new_message(config, subject)
    message.set_content(_render("import.txt.j2", **context))
    message.add_alternative(_render("import.html.j2", **context), subtype="html")
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
    shown = new[:limit]
    context = {
        "run": run, "subject": subject, "run_error_is_new": run_error_is_new,
        "link": config.run_link(run.id),  # type: ignore[arg-type]
        "headline": f"{kind} #{run.id} ({_trigger_text(run)}, {_fmt_time(run.started_at)}) "
                    f"{STATUS_PHRASES.get(run.status, run.status)}.",
        "more": f" (first {len(shown)} of {len(new)})" if len(new) > len(shown) else "",
        "failures": [_failure_line(i) for i in shown], "items": shown, "new_count": len(new),
        "already": failing_now - len(new),
    }
    message = new_message(config, subject)
    message.set_content(_render("digest.txt.j2", **context))
    message.add_alternative(_render("digest.html.j2", **context), subtype="html")
    return message
