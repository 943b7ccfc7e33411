"""The change logs in words: what each audited setting is called on its screen, and its values as people read
them ("on", "Don't sync", "Accountant"), never a column name or an enum value.

Pure (no Streamlit), used by every change-history table: Settings → Change log, Connection, Account mapping.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from console.formatting import INVOICE_STATUS, SYNC_STATE
from storage.models import AuditEvent

ENTITY = {"connection": "Connection", "account_mapping": "Account mapping", "item_override": "Account label per item",
          "payment_routing": "Payment routing", "sync_schedule": "Auto-sync", "notification_settings": "Email",
          "user": "User", "customer": "Customer", "invoice": "Invoice", "payment": "Payment"}
FIELDS: dict[str, dict[str, str]] = {
    "connection": {"endpoint_url": "Gateway URL", "company_id": "Company ID", "user_id": "User ID",
                   "sender_id": "Sender ID", "entity_id": "Entity / location ID",
                   "intacct_timezone": "Intacct company time zone", "user_password": "User password",
                   "sender_password": "Sender password"},
    "account_mapping": {"item_account_label": "Item account label",
                        "undeposited_funds_account": "Undeposited funds account", "location_id": "Location",
                        "department_id": "Department", "read_customers": "Read customers",
                        "read_invoices": "Read invoices", "write_invoices": "Write invoices",
                        "write_payments": "Write payments", "active_customers_only": "Active customers only"},
    "sync_schedule": {"auto_sync": "Auto-sync", "paused_reason": "Paused", "enabled": "Auto-sync",
                      "interval_minutes": "Every (minutes)"},
    "notification_settings": {"enabled": "Send emails", "smtp_host": "SMTP server", "smtp_port": "SMTP port",
                              "security": "Security", "smtp_user": "SMTP user", "smtp_password": "SMTP password",
                              "sender": "Sender", "recipients": "Recipients",
                              "console_base_url": "Console address in emails"},
    "user": {"username": "User name", "role": "Role", "active": "Can sign in", "password": "Password",
             "display_name": "Name", "email": "Email"},
    "customer": {"sync_state": "Sync", "voided": "Voided"},
    "invoice": {"sync_state": "Sync", "voided": "Voided"},
    "payment": {"sync_state": "Sync", "voided": "Voided"},
}
ON_OFF = {"True": "on", "False": "off", "true": "on", "false": "off"}
SECURITY = {"none": "None", "starttls": "STARTTLS", "ssl": "SSL/TLS"}


def entity_label(entity: str) -> str:
    return ENTITY.get(entity, entity.replace("_", " ").capitalize())


def field_label(event: AuditEvent) -> str:
    """What the setting is called where it is edited: 'Gateway URL', 'Item HW-1', 'Payment routing: Rule 1'."""
    if event.entity == "item_override":
        return f"Item {event.field}"
    if event.entity == "payment_routing":
        return f"Payment routing: {event.field}"
    return FIELDS.get(event.entity, {}).get(event.field) or event.field.replace("_", " ").capitalize()


def value_text(event: AuditEvent, value: str | None) -> str:
    """An old or new value in words ('—' for none)."""
    if value in (None, ""):
        return "—"
    if event.field == "sync_state":
        return SYNC_STATE.get(value, value)
    if event.field == "status":
        return INVOICE_STATUS.get(value, value)
    if event.field == "role":
        return value.capitalize()
    if event.field == "security":
        return SECURITY.get(value, value)
    if event.field == "active" and event.entity == "user":
        return {"True": "yes", "False": "no"}.get(value, value)
    return ON_OFF.get(value, value)


def change_rows(events: list[AuditEvent], when: Callable[[datetime], str], *,
                with_entity: bool = False) -> list[dict[str, str]]:
    """One row per change for a change-history table; `when` formats the time in the reader's zone."""
    rows = []
    for e in events:
        row = {"When": when(e.at), "Who": e.actor}
        if with_entity:
            row["What"] = entity_label(e.entity)
        row |= {"Setting": field_label(e), "Old": value_text(e, e.old_value), "New": value_text(e, e.new_value)}
        if any(x.note for x in events):
            row["Note"] = e.note or ""
        rows.append(row)
    return rows
