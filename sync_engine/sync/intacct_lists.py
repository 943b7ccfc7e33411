"""Intacct's lists the console picks from: A/R account labels, G/L accounts, bank (checking) accounts, locations and
departments, read from Intacct and cached in the database (`IntacctListItem`), (Intacct's fixed payment methods are
`write_rules.METHODS`).

A refresh is a short call a person asks for ("Refresh from Intacct", like Test connection): a few `query`
pages per list. Pickers and checks read the cache only; the time of the last refresh is shown beside them.
`problem(...)` is the one check every form and upload uses: unknown or inactive values are named, and a list
never refreshed checks nothing (the sync's own check before writing still applies).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, func, select

from storage.models import IntacctListItem
from storage.types import utcnow
from sync_engine.intacct.client import IntacctClient
from sync_engine.sync.stored_connection import ConnectionNotConfigured, client_for, get_connection


@dataclass(frozen=True)
class ListSpec:
    name: str  # our key
    label: str  # what a person calls it
    object: str  # Intacct's object
    id_field: str
    title_field: str
    extra_fields: tuple[str, ...] = ()


LISTS: dict[str, ListSpec] = {s.name: s for s in (
    ListSpec("account_labels", "Account label", "ARACCOUNTLABEL", "ACCOUNTLABEL", "DESCRIPTION", ("GLACCOUNTNO",)),
    ListSpec("gl_accounts", "G/L account", "GLACCOUNT", "ACCOUNTNO", "TITLE", ("ACCOUNTTYPE",)),
    ListSpec("bank_accounts", "Bank account", "CHECKINGACCOUNT", "BANKACCOUNTID", "BANKNAME",
             ("GLACCOUNTNO", "CURRENCY")),
    ListSpec("locations", "Location", "LOCATION", "LOCATIONID", "NAME"),
    ListSpec("departments", "Department", "DEPARTMENT", "DEPARTMENTID", "TITLE"),
)}


@dataclass(frozen=True)
class Choice:
    value: str
    title: str | None
    active: bool

    @property
    def label(self) -> str:
        """What a select box shows: 'REVENUE — Product revenue' (inactive ones say so)."""
        text = f"{self.value} — {self.title}" if self.title and self.title != self.value else self.value
        return text if self.active else f"{text} (inactive)"


def _active(record: dict) -> bool:
    return (str(record.get("STATUS") or "active")).lower() in ("active", "t", "true")


def refresh_lists(*, session: Session, client: IntacctClient | None = None) -> dict[str, int]:
    """Read every list from Intacct and replace the cached copy; returns how many entries each has."""
    connection = get_connection(session=session)
    if connection is None:
        raise ConnectionNotConfigured()
    # No transaction is held while Intacct answers: on SQLite a write session's lock would stop every other
    # writer meanwhile, and PostgreSQL ends a session idling inside a transaction (storage.db).
    session.commit()
    client = client or client_for(connection)
    fetched: dict[str, list[dict]] = {}
    for spec in LISTS.values():  # read everything first, so a failure leaves the old cache whole
        fetched[spec.name] = list(client.iter_records(
            spec.object, [spec.id_field, spec.title_field, "STATUS", *spec.extra_fields]))
    now = utcnow()
    for spec in LISTS.values():
        session.exec(delete(IntacctListItem).where(
            col(IntacctListItem.connection_id) == connection.id, col(IntacctListItem.list_name) == spec.name))
        for record in fetched[spec.name]:
            value = str(record.get(spec.id_field) or "").strip()
            if value:
                session.add(IntacctListItem(
                    connection_id=connection.id, list_name=spec.name, value=value,  # type: ignore[arg-type]
                    title=record.get(spec.title_field) or None, active=_active(record),
                    extra={f: record.get(f) for f in spec.extra_fields}, refreshed_at=now))
    session.commit()
    return {name: len(rows) for name, rows in fetched.items()}


def choices(*, session: Session, connection_id: int, list_name: str, include_inactive: bool = False) -> list[Choice]:
    """The cached entries of one list, active first then by value."""
    query = select(IntacctListItem).where(IntacctListItem.connection_id == connection_id,
                                          IntacctListItem.list_name == list_name)
    if not include_inactive:
        query = query.where(IntacctListItem.active == True)  # noqa: E712
    rows = session.exec(query).all()
    return sorted((Choice(r.value, r.title, r.active) for r in rows), key=lambda c: (not c.active, c.value))


def last_refreshed(*, session: Session, connection_id: int) -> datetime | None:
    """When the lists were last read from Intacct (None: never)."""
    return session.exec(select(func.max(IntacctListItem.refreshed_at)).where(
        IntacctListItem.connection_id == connection_id)).one()


def problem(*, session: Session, connection_id: int, list_name: str, value: str | None) -> str | None:
    """Why `value` cannot be used from this list, or None (also None when empty, or the list was never read)."""
    if not value:
        return None
    spec = LISTS[list_name]
    if last_refreshed(session=session, connection_id=connection_id) is None:
        return None
    row = session.exec(select(IntacctListItem).where(
        IntacctListItem.connection_id == connection_id, IntacctListItem.list_name == list_name,
        IntacctListItem.value == value)).first()
    if row is None:
        return f"{spec.label} '{value}' does not exist in Intacct (as last read from it)."
    if not row.active:
        return f"{spec.label} '{value}' is inactive in Intacct."
    return None
