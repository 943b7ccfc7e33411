"""Which finished runs are worth an email (after the "smart notifications" in our field notes).

* a manual or retried customer/invoice import: always an email with counts, duration, the first
  failures and a link to the run in the console;
* any other run (hourly or Sync Now accounting syncs): an email only when it found errors that are new.
  A failure is new unless the record's previous outcome (its latest item in an earlier run of the same
  connection) was a failure with the same message; a run-level error (e.g. authentication) is new unless
  the previous completed run of the same kind ended with the same error. So a record that keeps failing
  the same way is reported once, not every hour.
"""
from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import ItemAction, RunKind, RunStatus, RunTrigger, SyncRun, SyncRunItem
from sync_engine.services.history import preview_run_ids

IMPORT_KINDS = frozenset({RunKind.CUSTOMER_IMPORT, RunKind.INVOICE_IMPORT})


COMPLETED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.PARTLY_FAILED, RunStatus.FAILED)

# Runs that looked at every record they meant to; an interrupted one says nothing about the records it skipped.
REPORTED_STATUSES = frozenset({*COMPLETED_STATUSES, RunStatus.INTERRUPTED})


def _failure_key(item: SyncRunItem) -> tuple[str, str, str]:
    return item.record_type, item.label, (item.message or "").strip()


def run_failures(*, session: Session, run_id: int) -> list[SyncRunItem]:
    return list(session.exec(
        select(SyncRunItem).where(SyncRunItem.run_id == run_id, SyncRunItem.action == ItemAction.FAILED)
        .order_by(col(SyncRunItem.id))
    ).all())


def new_failures(*, session: Session, run: SyncRun, failures: list[SyncRunItem] | None = None) -> list[SyncRunItem]:
    """The failures of `run` that were not already failing with the same message before it."""
    assert run.id is not None
    failures = run_failures(session=session, run_id=run.id) if failures is None else failures
    if not failures:
        return []
    labels = sorted({f.label for f in failures})
    previews = preview_run_ids(session=session)
    previous: dict[tuple[str, str], SyncRunItem] = {}
    for start in range(0, len(labels), 500):  # stay far below SQLite's bound-parameter limit
        rows = session.exec(
            select(SyncRunItem).join(SyncRun, col(SyncRun.id) == col(SyncRunItem.run_id))
            .where(SyncRun.connection_id == run.connection_id, col(SyncRunItem.run_id) < run.id,
                   col(SyncRunItem.label).in_(labels[start:start + 500]))
            .order_by(col(SyncRunItem.id))
        ).all()
        for row in rows:
            if row.run_id not in previews:  # a preview emails nothing, so it reported nothing
                previous[(row.record_type, row.label)] = row  # ordered by id: the last one wins
    fresh = []
    for item in failures:
        before = previous.get((item.record_type, item.label))
        if before is None or before.action != ItemAction.FAILED or _failure_key(before) != _failure_key(item):
            fresh.append(item)
    return fresh


def previous_completed_run(*, session: Session, run: SyncRun) -> SyncRun | None:
    """The last real (not preview) run of the same kind that ran to an end before `run`."""
    earlier = session.exec(
        select(SyncRun).where(SyncRun.connection_id == run.connection_id, SyncRun.kind == run.kind,
                              col(SyncRun.id) < run.id, col(SyncRun.status).in_(COMPLETED_STATUSES))
        .order_by(col(SyncRun.id).desc())
    )
    return next((r for r in earlier if not r.is_preview), None)


def run_error_is_new(*, session: Session, run: SyncRun) -> bool:
    if run.status != RunStatus.FAILED or not run.error_message:
        return False
    before = previous_completed_run(session=session, run=run)
    return not (before is not None and before.status == RunStatus.FAILED
                and (before.error_category, before.error_message) == (run.error_category, run.error_message))


def wants_completion_email(run: SyncRun) -> bool:
    """Manual (or retried) imports get an email whatever the outcome; other runs only for new errors."""
    return run.kind in IMPORT_KINDS and run.trigger != RunTrigger.AUTO

