"""Connection, account mapping, auto-sync and email settings: read, validate the form, save with an audit trail.

Pages call these; they never touch Intacct. Passwords are stored encrypted (storage.secrets) and a blank
password field on an edit keeps the stored one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from sqlmodel import Session, col, select

from storage.models import AccountMapping, IntacctConnection, NotificationSettings, SyncSchedule
from storage.secrets import SecretBox
from storage.types import utcnow
from sync_engine.schedule.pause import clear_pause
from sync_engine.sync.audit import record_changes
from sync_engine.sync.cleaning import visible

# Read here by the console, beside the forms that save them.
from sync_engine.sync.stored_connection import get_connection as get_connection
from sync_engine.sync.stored_connection import get_mapping as get_mapping


class SettingsError(ValueError):
    """A form value that cannot be saved; the message says which field and why."""


@dataclass
class ConnectionForm:
    endpoint_url: str
    company_id: str
    user_id: str
    sender_id: str
    user_password: str = ""  # blank on edit = keep
    sender_password: str = ""
    entity_id: str = ""
    intacct_timezone: str = "UTC"


@dataclass
class MappingForm:
    item_account_label: str = ""
    undeposited_funds_account: str = ""
    location_id: str = ""
    department_id: str = ""
    read_customers: bool = True
    read_invoices: bool = True
    write_invoices: bool = True
    write_payments: bool = True
    active_customers_only: bool = False


def _clean(value: str | None) -> str:
    # A trailing space or a pasted zero-width space in the company ID is a classic cause of "Sign-in
    # information is incorrect".
    return visible(value)


def save_connection(*, session: Session, form: ConnectionForm, actor: str,
                    box: SecretBox | None = None) -> IntacctConnection:
    """Create or update the connection from the form; raises SettingsError on a bad value."""
    box = box or SecretBox()
    values: dict[str, Any] = {
        "endpoint_url": _clean(form.endpoint_url), "company_id": _clean(form.company_id),
        "user_id": _clean(form.user_id), "sender_id": _clean(form.sender_id),
        "entity_id": _clean(form.entity_id) or None, "intacct_timezone": _clean(form.intacct_timezone) or "UTC",
    }
    for field, label in (("endpoint_url", "Gateway URL"), ("company_id", "Company ID"), ("user_id", "User ID"),
                         ("sender_id", "Sender ID")):
        if not values[field]:
            raise SettingsError(f"{label} is required.")
    parsed = urlparse(values["endpoint_url"])
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError("Gateway URL must be an http(s) address, e.g. https://api.intacct.com/ia/xml/xmlgw.phtml")
    connection = get_connection(session=session)
    if connection is None:
        if not form.user_password or not form.sender_password:
            raise SettingsError("Both the user password and the sender password are required to connect.")
        connection = IntacctConnection(user_password_enc="", sender_password_enc="", **values)
        old: dict = {}
    else:
        old = {k: getattr(connection, k) for k in values}
        for key, value in values.items():
            setattr(connection, key, value)
    secrets_changed = {}
    if form.user_password:
        connection.user_password_enc = box.encrypt(form.user_password)
        secrets_changed["user_password"] = True
    if form.sender_password:
        connection.sender_password_enc = box.encrypt(form.sender_password)
        secrets_changed["sender_password"] = True
    if old != values or secrets_changed:
        connection.status = "not_tested"
    connection.updated_at = utcnow()
    session.add(connection)
    session.flush()
    _ensure_companions(session=session, connection=connection)
    record_changes(session=session, actor=actor, entity="connection", entity_id=connection.id, old=old,
                   new={**values, **secrets_changed}, secret_fields=frozenset(secrets_changed))
    session.commit()
    session.refresh(connection)
    assert connection.id is not None
    # New credentials end an authentication pause of auto-sync (the circuit breaker, sync_engine.schedule.pause).
    clear_pause(session=session, connection_id=connection.id, actor=actor)
    return connection


def _ensure_companions(*, session: Session, connection: IntacctConnection) -> None:
    assert connection.id is not None  # flushed by the caller
    if session.exec(select(AccountMapping).where(AccountMapping.connection_id == connection.id)).first() is None:
        session.add(AccountMapping(connection_id=connection.id))
    if session.exec(select(SyncSchedule).where(SyncSchedule.connection_id == connection.id)).first() is None:
        session.add(SyncSchedule(connection_id=connection.id))


def save_mapping(*, session: Session, connection_id: int, form: MappingForm, actor: str) -> AccountMapping:
    """Save the account mapping (validated against Intacct separately, see sync_engine.services.connection)."""
    mapping = get_mapping(session=session, connection_id=connection_id) or AccountMapping(connection_id=connection_id)
    values = {
        "item_account_label": _clean(form.item_account_label) or None,
        "undeposited_funds_account": _clean(form.undeposited_funds_account) or None,
        "location_id": _clean(form.location_id) or None, "department_id": _clean(form.department_id) or None,
        "read_customers": form.read_customers, "read_invoices": form.read_invoices,
        "write_invoices": form.write_invoices, "write_payments": form.write_payments,
        "active_customers_only": form.active_customers_only,
    }
    if values["write_invoices"] and not values["item_account_label"]:
        raise SettingsError("Item account label is required to write invoices to Intacct.")
    if values["write_payments"] and not values["undeposited_funds_account"]:
        raise SettingsError("Undeposited funds account is required to reconcile payments onto Intacct.")
    old = {k: getattr(mapping, k) for k in values}
    for key, value in values.items():
        setattr(mapping, key, value)
    if old != values:
        mapping.validated_at = None
        mapping.validation_message = None
    mapping.updated_at = utcnow()
    mapping.updated_by = actor
    session.add(mapping)
    session.flush()
    record_changes(session=session, actor=actor, entity="account_mapping", entity_id=mapping.id, old=old, new=values)
    session.commit()
    session.refresh(mapping)
    return mapping


def get_schedule(*, session: Session, connection_id: int) -> SyncSchedule | None:
    return session.exec(select(SyncSchedule).where(SyncSchedule.connection_id == connection_id)).first()


def next_sync_due(*, session: Session, connection_id: int, now: datetime | None = None) -> datetime | None:
    """When the next auto-sync starts: the one answer every screen shows (None: auto-sync is off or paused).

    A slot that has passed but the scheduler has not picked up yet is due now, never "4 s ago"."""
    schedule = get_schedule(session=session, connection_id=connection_id)
    if schedule is None or not schedule.enabled or schedule.paused_reason:
        return None
    now = now or utcnow()
    if schedule.next_due_at is None or schedule.next_due_at <= now:
        return now
    return schedule.next_due_at


def set_auto_sync(*, session: Session, connection_id: int, enabled: bool, actor: str) -> SyncSchedule:
    """Turn hourly auto-sync on (first run due now) or off."""
    schedule = get_schedule(session=session, connection_id=connection_id) or SyncSchedule(connection_id=connection_id)
    old = {"auto_sync": schedule.enabled}
    schedule.enabled = enabled
    if enabled:
        schedule.next_due_at = utcnow() + timedelta(seconds=5)
        schedule.paused_reason = None
    schedule.updated_at = utcnow()
    session.add(schedule)
    record_changes(session=session, actor=actor, entity="sync_schedule", entity_id=connection_id, old=old,
                   new={"auto_sync": enabled})
    session.commit()
    session.refresh(schedule)
    return schedule


def get_notification_settings(*, session: Session) -> NotificationSettings:
    settings = session.exec(select(NotificationSettings).order_by(col(NotificationSettings.id))).first()
    if settings is None:
        settings = NotificationSettings()
        session.add(settings)
        session.commit()
        session.refresh(settings)
    return settings


def save_notification_settings(
    *, session: Session, actor: str, enabled: bool, smtp_host: str, smtp_port: int, security: str,
    smtp_user: str, smtp_password: str, sender: str, recipients: str, console_base_url: str,
    box: SecretBox | None = None,
) -> NotificationSettings:
    """Save SMTP settings; a blank password keeps the stored one."""
    if security not in ("none", "starttls", "ssl"):
        raise SettingsError("Security must be none, starttls or ssl.")
    if not 0 < int(smtp_port) < 65536:
        raise SettingsError("SMTP port must be between 1 and 65535.")
    emails = [r.strip() for r in recipients.replace(";", ",").split(",") if r.strip()]
    bad = [r for r in emails if "@" not in r]
    if bad:
        raise SettingsError(f"Not an email address: {', '.join(bad)}")
    if enabled and not emails:
        raise SettingsError("Add at least one recipient to send emails.")
    settings = get_notification_settings(session=session)
    values = {"enabled": enabled, "smtp_host": smtp_host.strip(), "smtp_port": int(smtp_port), "security": security,
              "smtp_user": smtp_user.strip() or None, "sender": sender.strip(), "recipients": ", ".join(emails),
              "console_base_url": console_base_url.strip().rstrip("/")}
    old = {k: getattr(settings, k) for k in values}
    for key, value in values.items():
        setattr(settings, key, value)
    changed = {}
    if smtp_password:
        settings.smtp_password_enc = (box or SecretBox()).encrypt(smtp_password)
        changed["smtp_password"] = True
    settings.updated_at = utcnow()
    record_changes(session=session, actor=actor, entity="notification_settings", entity_id=settings.id, old=old,
                   new={**values, **changed}, secret_fields=frozenset(changed))
    session.commit()
    session.refresh(settings)
    return settings
