"""Sending email over SMTP (plain, STARTTLS or SSL), and the test email Settings → Email sends.

Every failure becomes a `NotifyError` whose message is safe to show and store: no credentials in it.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from sqlmodel import Session

from storage.secrets import SecretBox
from sync_engine.services.notify.compose import new_message, test_email_text
from sync_engine.services.notify.smtp_settings import (
    NotifyError,
    SmtpConfig,
    config_for,
    parse_recipients,
    saved_settings,
)

SMTP_TIMEOUT_SECONDS = 15.0
Refusals = dict[str, tuple[int, bytes]]  # smtplib's refused recipients: address -> (code, reply)


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
        raise NotifyError(f"every recipient was refused: {refusals_text(exc.recipients)}") from exc
    except smtplib.SMTPException as exc:
        raise NotifyError(redact(f"SMTP error: {exc}", config)) from exc
    except ssl.SSLError as exc:
        raise NotifyError(f"TLS with {config.host}:{config.port} failed ({exc.reason or exc})") from exc
    except TimeoutError as exc:
        raise NotifyError(f"{config.host}:{config.port} did not answer within {timeout:.0f} s") from exc
    except OSError as exc:
        raise NotifyError(f"could not connect to {config.host}:{config.port} ({exc.strerror or exc})") from exc


def refusals_text(recipients: Refusals) -> str:
    return ", ".join(f"{addr} ({code})" for addr, (code, _msg) in recipients.items())


def redact(text: str, config: SmtpConfig) -> str:
    return text.replace(config.password, "••••••") if config.password else text


def send_test_email(*, session: Session, to: str | None = None, box: SecretBox | None = None,
                    timeout: float = SMTP_TIMEOUT_SECONDS) -> str:
    """Send a short test email with the saved SMTP settings; returns "Sent to …" or "Could not send: …".

    Works while "Send emails" is off, so the settings can be checked before run emails are switched on.
    `to` (comma separated) replaces the saved recipients for this one email. Never raises for a mail problem.
    """
    settings = saved_settings(session)
    if settings is None:
        return "Could not send: no email settings are saved yet. Fill them in and save first."
    recipients = parse_recipients(to) if to and to.strip() else parse_recipients(settings.recipients)
    if not recipients:
        return "Could not send: there is no recipient. Save at least one in Recipients, or type an address."
    if bad := [r for r in recipients if "@" not in r]:
        return f"Could not send: not an email address: {', '.join(bad)}"
    try:
        config = config_for(settings, recipients, box)
        message = new_message(config, "Test email from the Intacct A/R sync console")
        message.set_content(test_email_text(config.host, config.port, config.security, config.sender))
        refused = send_email(config, message, timeout=timeout)
    except NotifyError as exc:
        return f"Could not send: {exc}"
    accepted = [r for r in recipients if r not in refused]
    note = "" if settings.enabled else " Emails are off: turn on Send emails to get run results."
    if refused:
        return f"Sent to {', '.join(accepted)}; the server refused {refusals_text(refused)}.{note}"
    return f"Sent to {', '.join(accepted)}.{note}"

