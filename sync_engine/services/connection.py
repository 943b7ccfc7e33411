"""Turning the stored connection into a working Intacct client: test the connection, validate the mapping.

Both are short calls (seconds) made on a person's request from the console; long work goes through the
queue instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from storage.models import ConnectionStatus
from storage.secrets import SecretKeyMismatch
from storage.types import utcnow
from sync_engine.intacct import filters
from sync_engine.intacct.client import IntacctClient
from sync_engine.intacct.errors import IntacctError
from sync_engine.intacct.zones import zone_mismatch
from sync_engine.schedule.pause import clear_pause
from sync_engine.sync.stored_connection import ConnectionNotConfigured as ConnectionNotConfigured
from sync_engine.sync.stored_connection import client_for, get_connection, get_mapping
from sync_engine.sync.write_rules import BANK_ACCOUNT, routing_rules


@dataclass
class ConnectionCheck:
    ok: bool
    message: str


def test_connection(*, session: Session, client: IntacctClient | None = None) -> ConnectionCheck:
    """Sign in to Intacct with the stored credentials and record the outcome on the connection."""
    connection = get_connection(session=session)
    if connection is None:
        raise ConnectionNotConfigured()
    session.commit()  # no transaction is held while Intacct answers (storage.db)
    try:
        client = client or client_for(connection)
        info = client.test_connection()
        where = f"entity {info.location_id}" if info.location_id else "top level"
        check = ConnectionCheck(True, f"Signed in to company {info.company_id} as {info.user_id} ({where}).")
        mismatch = zone_mismatch(connection.intacct_timezone, info)
        if mismatch:
            check = ConnectionCheck(True, f"{check.message} {mismatch}")
    except SecretKeyMismatch as exc:
        check = ConnectionCheck(False, str(exc))
    except IntacctError as exc:
        check = ConnectionCheck(False, exc.user_message)
    if check.ok:
        # The auth circuit breaker lifts on a good sign-in.
        clear_pause(session=session, connection_id=connection.id)  # type: ignore[arg-type]
    connection.status = ConnectionStatus.OK if check.ok else ConnectionStatus.FAILING
    connection.last_tested_at = utcnow()
    connection.last_test_message = check.message
    session.add(connection)
    session.commit()
    return check


@dataclass
class MappingValidation:
    ok: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _active(record: dict) -> bool:
    return (record.get("STATUS") or "active").lower() in ("active", "t", "true")


def validate_mapping(*, session: Session, client: IntacctClient | None = None) -> MappingValidation:
    """Check every mapped value (and each payment routing rule's account) exists and is active in Intacct; the
    result is stored on the mapping."""
    connection = get_connection(session=session)
    if connection is None:
        raise ConnectionNotConfigured()
    mapping = get_mapping(session=session, connection_id=connection.id)  # type: ignore[arg-type]
    assert mapping is not None  # created with the connection (settings._ensure_companions)
    result = MappingValidation(ok=True)
    checks = [
        ("ARACCOUNTLABEL", "ACCOUNTLABEL", mapping.item_account_label, "Item account label"),
        ("GLACCOUNT", "ACCOUNTNO", mapping.undeposited_funds_account, "Undeposited funds account"),
        ("LOCATION", "LOCATIONID", mapping.location_id, "Location"),
        ("DEPARTMENT", "DEPARTMENTID", mapping.department_id, "Department"),
    ]
    for n, rule in enumerate(routing_rules(session=session, connection_id=connection.id), start=1):  # type: ignore[arg-type]
        bank = rule.deposit_kind == BANK_ACCOUNT
        checks.append(("CHECKINGACCOUNT", "BANKACCOUNTID", rule.deposit_account,
                       f"Payment routing rule {n}: bank account") if bank else
                      ("GLACCOUNT", "ACCOUNTNO", rule.deposit_account, f"Payment routing rule {n}: account"))
    session.commit()  # no transaction is held while Intacct answers (storage.db)
    try:
        client = client or client_for(connection)
        for obj, id_field, value, label in checks:
            if not value:
                continue
            found = list(client.iter_records(obj, [id_field, "STATUS"], filter=filters.eq(id_field, value),
                                             page_size=10))
            if not found:
                result.problems.append(f"{label} '{value}' does not exist in Intacct.")
            elif not _active(found[0]):
                result.problems.append(f"{label} '{value}' is inactive in Intacct.")
            else:
                result.notes.append(f"{label} '{value}' found and active.")
    except SecretKeyMismatch as exc:
        result.problems.append(str(exc))
    except IntacctError as exc:
        result.problems.append(f"Could not check the mapping: {exc.user_message}")
    result.ok = not result.problems
    mapping.validated_at = utcnow() if result.ok else None
    mapping.validation_message = "; ".join(result.problems) if result.problems else "All mapped values are valid."
    session.add(mapping)
    session.commit()
    return result
