"""Preview, then apply, a one-time import: what it would create, update (field by field, old → new) and leave out.

A preview is the import run with `options={"preview": True}` (the run writes nothing; see `RunContext`); its
items carry the field diffs. `apply_preview` queues the same import with the same options, so it applies what
the preview showed; records changed in Intacct in between are taken as they are then (the run's own page
lists them).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from storage.models import ACTIVE_RUN_STATUSES, RunKind, RunStatus, SyncRun, SyncRunItem
from sync_engine.schedule.queue import QueueError, enqueue_run
from sync_engine.services.history import FieldChange, field_changes, name_customers

IMPORT_KINDS = (RunKind.CUSTOMER_IMPORT, RunKind.INVOICE_IMPORT)
APPLICABLE = (RunStatus.SUCCEEDED, RunStatus.PARTLY_FAILED)


@dataclass
class ImportPreview:
    run: SyncRun
    created: list[str] = field(default_factory=list)
    updated: list[tuple[str, list[FieldChange]]] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (record, why)
    unchanged: int = 0

    @property
    def ready(self) -> bool:
        return self.run.status in APPLICABLE


def preview_import(*, session: Session, connection_id: int, kind: str, options: dict, requested_by: str) -> SyncRun:
    """Queue a preview of an import (a second click returns the one already queued or running)."""
    if kind not in IMPORT_KINDS:
        raise QueueError("Only customer and invoice imports have a preview here.")
    running = session.exec(select(SyncRun).where(SyncRun.connection_id == connection_id, SyncRun.kind == kind,
                                                 col(SyncRun.status).in_(ACTIVE_RUN_STATUSES))).first()
    if running is not None:
        return running
    run = SyncRun(connection_id=connection_id, kind=kind, requested_by=requested_by,
                  options={**options, "preview": True})
    session.add(run)
    session.commit()
    session.refresh(run)
    return run


def latest_preview(*, session: Session, kind: str) -> ImportPreview | None:
    """The newest preview of this import kind with what it found, unless a real import ran after it."""
    run = session.exec(select(SyncRun).where(SyncRun.kind == kind, SyncRun.preview == True)  # noqa: E712
                       .order_by(col(SyncRun.id).desc())).first()
    if run is None:
        return None
    later = session.exec(select(SyncRun.id).where(SyncRun.kind == kind, SyncRun.preview == False,  # noqa: E712
                                                  col(SyncRun.id) > run.id)).first()
    if later is not None:
        return None
    result = ImportPreview(run=run, unchanged=run.unchanged_count)
    for item in session.exec(select(SyncRunItem).where(col(SyncRunItem.run_id) == run.id)
                             .order_by(col(SyncRunItem.id))):
        if item.action == "created":
            result.created.append(item.label)
        elif item.action == "updated":
            result.updated.append((item.label, field_changes(item.changes)))
        elif item.action in ("skipped", "failed"):
            result.left_out.append((item.label, item.message or ""))
    name_customers(session=session, change_lists=[changes for _, changes in result.updated])
    return result


def apply_preview(*, session: Session, run_id: int, requested_by: str) -> SyncRun:
    """Queue the import a preview showed, with the same options."""
    preview = session.get(SyncRun, run_id)
    if preview is None or not preview.is_preview or preview.kind not in IMPORT_KINDS:
        raise QueueError("That is not an import preview.")
    if preview.status not in APPLICABLE:
        raise QueueError("The preview has not finished: apply it once it shows what it would do.")
    options = {k: v for k, v in preview.options.items() if k != "preview"}
    return enqueue_run(session=session, connection_id=preview.connection_id, kind=preview.kind,
                       requested_by=requested_by, options={**options, "applies_preview": preview.id})
