"""The saved email settings as the sender needs them: SMTP server, sender, recipients, the decrypted password.

The password is decrypted only here, only to log in, and hidden from `repr`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from storage.models import NotificationSettings
from storage.secrets import SecretBox, SecretKeyInvalid, SecretKeyMismatch


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


def saved_settings(session: Session) -> NotificationSettings | None:
    """The saved email settings (read only: unlike settings.get_notification_settings, never creates the row)."""
    return session.exec(select(NotificationSettings).order_by(col(NotificationSettings.id))).first()


def smtp_config(*, session: Session, box: SecretBox | None = None) -> SmtpConfig | None:
    """The SMTP settings, or None when email is off or has no recipients.

    Raises NotifyError when the stored password cannot be decrypted with the current key.
    """
    settings = saved_settings(session)
    if settings is None or not settings.enabled:
        return None
    recipients = parse_recipients(settings.recipients)
    if not recipients:
        return None
    return config_for(settings, recipients, box)


def config_for(settings: NotificationSettings, recipients: tuple[str, ...], box: SecretBox | None) -> SmtpConfig:
    password = None
    if settings.smtp_password_enc:
        try:
            password = (box or SecretBox()).decrypt(settings.smtp_password_enc)
        except (SecretKeyMismatch, SecretKeyInvalid) as exc:
            raise NotifyError(f"the SMTP password cannot be read: {exc}") from exc
    return SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, security=settings.security,
                      user=settings.smtp_user or None, password=password, sender=settings.sender,
                      recipients=recipients, console_base_url=settings.console_base_url)

