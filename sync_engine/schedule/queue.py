"""The run queue as the console sees it: enqueue, list, watch, cancel and retry runs.

A SyncRun row is both the run's record and its job: the console inserts it as `queued`, a scheduler
process claims it (sync_engine.sync.leases) and runs it (sync_engine.sync.runs). Pages only call these functions.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import ACTIVE_RUN_STATUSES, RunKind, RunStatus, RunTrigger, SyncRun, SyncRunItem
from storage.types import utcnow


class QueueError(ValueError):
    """A run that cannot be enqueued or changed; the message says why."""


def active_run(*, session: Session, connection_id: int) -> SyncRun | None:
    """The queued or running run of this connection, if any."""
    return session.exec(
        select(SyncRun)
        .where(col(SyncRun.connection_id) == connection_id, col(SyncRun.status).in_(ACTIVE_RUN_STATUSES))
        .order_by(col(SyncRun.id))
    ).first()


def enqueue_run(
    *, session: Session, connection_id: int, kind: str, requested_by: str | None,
    trigger: str = RunTrigger.MANUAL, options: dict | None = None,
) -> SyncRun:
    """Queue a run for the scheduler. A second click while the same kind is queued or running returns that run.

    The database holds the rule (a unique index over connection and kind for queued and running runs), so
    simultaneous requests from several browsers or machines queue one run and all get that one back.
    """
    if kind not in set(RunKind):
        raise QueueError(f"Unknown run kind {kind!r}.")
    existing = _active_of_kind(session, connection_id, kind)
    if existing is not None and existing.status == RunStatus.QUEUED and existing.options.get("only") is not None \
            and (options or {}).get("only") is None and not (options or {}).get("preview"):
        # A whole sync was asked for while a retry of chosen records waits: the one run does the whole sync.
        existing.options = {k: v for k, v in existing.options.items() if k != "only"}
        session.add(existing)
        session.commit()
        session.refresh(existing)
    if existing is not None:
        return existing
    run = SyncRun(connection_id=connection_id, kind=kind, trigger=trigger, requested_by=requested_by,
                  options=dict(options or {}))
    session.add(run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = _active_of_kind(session, connection_id, kind)
        if existing is None:  # the other run already finished: the index did not refuse us for that reason
            raise
        return existing
    session.refresh(run)
    return run


def _active_of_kind(session: Session, connection_id: int, kind: str) -> SyncRun | None:
    return session.exec(
        select(SyncRun).where(SyncRun.connection_id == connection_id, SyncRun.kind == kind,
                              col(SyncRun.status).in_(ACTIVE_RUN_STATUSES))
    ).first()


def retry_failed(*, session: Session, run_id: int, requested_by: str | None) -> SyncRun:
    """Queue a run of the same kind that retries the failed records of `run_id` (they stay pending until then)."""
    original = session.get(SyncRun, run_id)
    if original is None:
        raise QueueError(f"Run {run_id} does not exist.")
    return enqueue_run(session=session, connection_id=original.connection_id, kind=original.kind,
                       requested_by=requested_by, trigger=RunTrigger.RETRY,
                       options={**{k: v for k, v in original.options.items() if k != "preview"}, "retry_of": run_id})


def retry_records(*, session: Session, connection_id: int, records: list[tuple[str, int]],
                  requested_by: str | None) -> SyncRun:
    """Queue an accounting sync that writes only these ledger records (invoices, payments): "Retry this record".

    A queued retry of records takes the new ones in too; a full sync already queued or running covers them;
    while a retry of other records is running, that run is returned (one active sync per connection, held by
    the database): retry again when it has finished.
    """
    wanted = sorted({(str(t), int(i)) for t, i in records if t in ("invoice", "payment")})
    if not wanted:
        raise QueueError("Only invoices and payments from our ledger can be retried on their own.")
    syncs = session.exec(select(SyncRun).where(
        SyncRun.connection_id == connection_id, SyncRun.kind == RunKind.ACCOUNTING_SYNC,
        col(SyncRun.status).in_(ACTIVE_RUN_STATUSES), col(SyncRun.preview) == False)).all()  # noqa: E712
    for existing in syncs:
        only = existing.options.get("only")
        if only is None:
            return existing  # a full sync writes these records too
        if existing.status == RunStatus.QUEUED:
            existing.options = {**existing.options,
                                "only": [list(r) for r in sorted({(t, int(i)) for t, i in only} | set(wanted))]}
            session.add(existing)
            session.commit()
            session.refresh(existing)
            return existing
        return existing  # a retry of other records is running
    run = SyncRun(connection_id=connection_id, kind=RunKind.ACCOUNTING_SYNC, trigger=RunTrigger.RETRY,
                  requested_by=requested_by, options={"only": [list(r) for r in wanted]})
    session.add(run)
    session.commit()
    session.refresh(run)
    return run


def cancel_run(*, session: Session, run_id: int) -> SyncRun:
    """Cancel a queued run at once, or ask a running one to stop after the record in hand."""
    run = session.get(SyncRun, run_id)
    if run is None:
        raise QueueError(f"Run {run_id} does not exist.")
    if run.status == RunStatus.QUEUED:
        run.status = RunStatus.CANCELLED
        run.finished_at = utcnow()
    elif run.status == RunStatus.RUNNING:
        run.cancel_requested = True
    else:
        raise QueueError(f"Run {run_id} has already finished ({run.status}).")
    session.add(run)
    session.commit()
    session.refresh(run)
    return run


def recent_runs(*, session: Session, limit: int = 50, kind: str | None = None) -> list[SyncRun]:
    """Newest first."""
    query = select(SyncRun).order_by(col(SyncRun.id).desc()).limit(limit)
    if kind:
        query = query.where(SyncRun.kind == kind)
    return list(session.exec(query).all())


def run_items(*, session: Session, run_id: int, action: str | None = None, limit: int = 5000) -> list[SyncRunItem]:
    query = select(SyncRunItem).where(col(SyncRunItem.run_id) == run_id).order_by(col(SyncRunItem.id)).limit(limit)
    if action:
        query = query.where(SyncRunItem.action == action)
    return list(session.exec(query).all())


MIN_PACE_SPAN = timedelta(seconds=1)  # a pace measured over less than this is mostly noise


def time_left(run: SyncRun, *, now: datetime | None = None) -> timedelta | None:
    """How long the current step still needs at its own pace: remaining × (time / records) since its first records.

    The pace is measured from the step's first flushed records (`step_first_done_at`, `step_first_done`), so the
    queue wait, the sign-in, the first page's round trip and earlier steps do not count. None while it cannot be
    told yet: not started, the total not known ("counting…"), or too little done since then ("estimating…").
    """
    if run.started_at is None or not run.progress_total:
        return None
    if run.step_first_done_at is None or run.step_first_done is None:
        return None
    elapsed, done_since = (now or utcnow()) - run.step_first_done_at, run.progress_done - run.step_first_done
    if done_since <= 0 or elapsed < MIN_PACE_SPAN:
        return None
    remaining = max(run.progress_total - run.progress_done, 0)
    return elapsed / done_since * remaining
