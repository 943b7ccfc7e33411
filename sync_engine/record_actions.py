"""A person's own "Don't sync" / "Sync again" on one ledger record, with the reason kept.

`skip_record` marks a customer, invoice or payment that starts in our ledger and is not yet in Intacct as
`skipped`: the writes in `exports.py` and `payments.py` leave it out until `resume_record` puts it back to
`not_synced`. Each change is an AuditEvent (the reason is its note) and a RecordVersion (source "edit"), so
the record's history shows who stopped it, when and why. Records already in Intacct are refused with what
to do instead: a posted invoice is voided (and then reversed), never silently forgotten.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from storage.models import AuditEvent, JournalState, Origin, RunKind, RunStatus, SyncRun, SyncState, WriteJournal
from storage.types import utcnow
from sync_engine.audit import record_changes
from sync_engine.ledger import RECORD_MODELS, TRACKED_FIELDS, as_text, record_version

MAX_REASON = 500
# What to do instead when the record already reached Intacct.
ALREADY_IN_INTACCT = {
    "invoice": "This invoice is already in Intacct: void it instead (the next sync reverses it there).",
    "payment": "This payment is already in Intacct: reverse it in Intacct instead.",
    "customer": "This customer is already in Intacct: make it inactive instead.",
}
_OPEN_JOURNAL = (JournalState.PENDING, JournalState.SENT, JournalState.UNCERTAIN)


class RecordActionError(ValueError):
    """The record cannot be marked or unmarked; the message says why and what to do."""


def label(record_type: str, record: Any) -> str:
    """What a person calls the record: 'Invoice INV-1001', 'Payment CHK-7781', 'Customer C-100'."""
    key = {"customer": "number", "invoice": "number", "payment": "reference"}[record_type]
    return f"{record_type.capitalize()} {getattr(record, key)}"


def _load(session: Session, record_type: str, record_id: int) -> Any:
    model = RECORD_MODELS.get(record_type)
    if model is None:
        raise RecordActionError(f"Unknown record type {record_type!r}: choose customer, invoice or payment.")
    # FOR UPDATE keeps two people (or a person and a scheduler) from changing the state at once on PostgreSQL;
    # SQLite ignores it and relies on the caller's BEGIN IMMEDIATE.
    record = session.exec(select(model).where(model.id == record_id).with_for_update()).first()
    if record is None:
        raise RecordActionError(f"There is no {record_type} #{record_id}: it may have been removed.")
    return record


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RecordActionError("Say why: the reason is kept in the record's history for whoever looks next.")
    if len(reason) > MAX_REASON:
        raise RecordActionError(f"Keep the reason under {MAX_REASON} characters.")
    return reason


def _change_state(session: Session, record_type: str, record: Any, new_state: str, reason: str, actor: str) -> None:
    old_state = record.sync_state
    record.sync_state = new_state
    record.sync_error = None
    record.updated_at = utcnow()
    session.add(record)
    record_changes(session=session, actor=actor, entity=record_type, entity_id=record.id,
                   old={"sync_state": old_state}, new={"sync_state": new_state}, note=reason)
    values = {name: getattr(record, name) for name in TRACKED_FIELDS[record_type] if hasattr(record, name)}
    snap = {name: as_text(value) for name, value in values.items()} | {"sync_state": new_state}
    record_version(session=session, record_type=record_type, record_id=record.id, source="edit", run_id=None,
                   changes={"sync_state": [old_state, new_state]}, snapshot_values=snap, changed_by=actor)


def write_unconfirmed(session: Session, record_type: str, record: Any) -> bool:
    """Is a write of this record to Intacct still unconfirmed in the journal (it may be there already)?"""
    open_write = session.exec(select(WriteJournal.id).where(
        WriteJournal.record_type == record_type, WriteJournal.record_id == record.id,
        WriteJournal.state.in_(_OPEN_JOURNAL))).first()  # type: ignore[attr-defined]
    return record.sync_state == SyncState.PENDING or open_write is not None


def _refusal_to_skip(session: Session, record_type: str, record: Any) -> str | None:
    if record.origin != Origin.LEDGER:
        return (f"This {record_type} came from Intacct: it is never written back, so there is nothing to stop.")
    if record.intacct_recordno:
        return ALREADY_IN_INTACCT[record_type]
    if record.sync_state == SyncState.SKIPPED:
        return f"This {record_type} is already marked don't sync."
    if write_unconfirmed(session, record_type, record):
        # It may already be in Intacct; the next sync looks it up before anything else is decided.
        return (f"A write of this {record_type} to Intacct is not confirmed yet: the next sync checks Intacct "
                "first. Mark it after that sync if it is still not there.")
    running = session.exec(select(SyncRun.id).where(
        SyncRun.kind == RunKind.ACCOUNTING_SYNC, SyncRun.status == RunStatus.RUNNING)).first()
    if running is not None:
        return f"Sync #{running} is running and may be sending it now: try again when it has finished."
    return None


def skip_record(*, session: Session, record_type: str, record_id: int, reason: str, actor: str) -> str:
    """Mark a ledger record not yet in Intacct "don't sync"; returns what happened in plain words.

    Raises RecordActionError when the record is unknown, came from Intacct, is already there, has a write in
    flight, or no reason is given.
    """
    reason = _reason(reason)
    record = _load(session, record_type, record_id)
    refusal = _refusal_to_skip(session, record_type, record)
    if refusal:
        raise RecordActionError(refusal)
    _change_state(session, record_type, record, SyncState.SKIPPED, reason, actor)
    session.commit()
    return f"{label(record_type, record)} will not be sent to Intacct until someone chooses Sync again."


def resume_record(*, session: Session, record_type: str, record_id: int, reason: str, actor: str) -> str:
    """Put a "don't sync" record back in line for the next sync (`not_synced`); returns what happened."""
    reason = _reason(reason)
    record = _load(session, record_type, record_id)
    if record.sync_state != SyncState.SKIPPED:
        raise RecordActionError(f"This {record_type} is not marked don't sync, so there is nothing to resume.")
    _change_state(session, record_type, record, SyncState.NOT_SYNCED, reason, actor)
    session.commit()
    return f"{label(record_type, record)} goes to Intacct with the next sync."


@dataclass
class BulkResult:
    skipped: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "Invoice INV-1: why"


def skip_records(*, session: Session, records: list[tuple[str, int]], reason: str, actor: str) -> BulkResult:
    """`skip_record` for each (record_type, record_id); a record that is refused is reported, the rest go on."""
    reason = _reason(reason)
    result = BulkResult()
    for record_type, record_id in records:
        try:
            result.skipped.append(skip_record(session=session, record_type=record_type, record_id=record_id,
                                              reason=reason, actor=actor))
        except RecordActionError as exc:
            session.rollback()
            record = session.get(RECORD_MODELS[record_type], record_id) if record_type in RECORD_MODELS else None
            name = label(record_type, record) if record is not None else f"{record_type} #{record_id}"
            result.refused.append(f"{name}: {exc}")
    return result


def sync_actions(*, session: Session, record_type: str, record_id: int) -> list[AuditEvent]:
    """Every "don't sync" / "sync again" on this record, newest first, with who, when and the reason."""
    return list(session.exec(select(AuditEvent).where(
        AuditEvent.entity == record_type, AuditEvent.entity_id == record_id, AuditEvent.field == "sync_state")
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).all())
