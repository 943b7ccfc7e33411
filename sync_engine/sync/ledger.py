"""Ledger record history: snapshots, field diffs and RecordVersion rows (the source of the console's diffs).

Values are stored as strings (Decimal and dates in their exact text form) so a diff compares what a
person would compare, and JSON keeps them without loss.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from storage.models import Customer, Invoice, Payment, RecordVersion
from storage.sql import one_of
from storage.types import utcnow

# Fields a diff shows per record type (bookkeeping columns such as updated_at are left out).
TRACKED_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": ("number", "name", "email", "phone", "address1", "city", "state", "postal_code", "country",
                 "currency", "payment_terms", "active", "balance", "intacct_customer_id", "intacct_recordno"),
    "invoice": ("number", "customer_id", "invoice_date", "due_date", "currency", "description", "po_number", "total",
                "amount_paid", "balance", "status", "intacct_state", "intacct_recordno", "lines"),
    "payment": ("reference", "received_on", "amount", "method", "currency", "voided", "reversed_in_intacct",
                "intacct_recordno", "applied_to"),
}
# The ledger table behind each record type: the one map every module looks record types up in.
RECORD_MODELS: dict[str, type[Customer | Invoice | Payment]] = {"customer": Customer, "invoice": Invoice,
                                                                "payment": Payment}


def as_text(value: Any) -> str | None:
    """The stable text form of a field value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def snapshot(record_type: str, values: Mapping[str, Any]) -> dict[str, str | None]:
    return {field: as_text(values.get(field)) for field in TRACKED_FIELDS[record_type] if field in values}


def diff(old: Mapping[str, str | None], new: Mapping[str, str | None]) -> dict[str, list[str | None]]:
    """{field: [old, new]} for every field whose text differs."""
    return {field: [old.get(field), value] for field, value in new.items() if old.get(field) != value}


_LATEST = "latest_record_versions"  # session.info key: (record type, id) -> latest version, for this session


def prefetch_versions(session: Session, record_type: str, record_ids: list[int]) -> None:
    """Read the latest version of many records in one query, so record_version() in this session need not
    ask once per record (a page of updates)."""
    known = session.info.setdefault(_LATEST, {})
    wanted = [rid for rid in record_ids if (record_type, rid) not in known]
    for start in range(0, len(wanted), 900):
        chunk = wanted[start:start + 900]
        found = dict(session.exec(select(RecordVersion.record_id, func.max(RecordVersion.version)).where(
            RecordVersion.record_type == record_type, one_of(RecordVersion.record_id, chunk))
            .group_by(col(RecordVersion.record_id))).all())
        for rid in chunk:
            known[(record_type, rid)] = found.get(rid, 0)


def record_version(
    *, session: Session, record_type: str, record_id: int, changes: Mapping[str, list[str | None]],
    snapshot_values: Mapping[str, str | None], run_id: int | None, source: str, changed_by: str | None = None,
    new_record: bool = False,
) -> RecordVersion:
    """Append the next version of a record (version 1 for a record created just now)."""
    known = session.info.get(_LATEST)
    if new_record:
        current = 0
    elif known is not None and (record_type, record_id) in known:
        current = known[(record_type, record_id)]
    else:
        current = session.exec(select(func.max(RecordVersion.version)).where(
            RecordVersion.record_type == record_type, RecordVersion.record_id == record_id)).one()
    if known is not None:
        known[(record_type, record_id)] = (current or 0) + 1
    version = RecordVersion(
        record_type=record_type, record_id=record_id, version=(current or 0) + 1, run_id=run_id, source=source,
        changed_at=utcnow(), changed_by=changed_by, changes=dict(changes), snapshot=dict(snapshot_values),
    )
    session.add(version)
    return version
