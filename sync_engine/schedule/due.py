"""The hourly auto-sync: when the next sync of each connection is due, and queuing the ones that are.

Everything lives in `SyncSchedule` rows, so any number of schedulers may share one database and a restart neither
skips nor doubles an hourly run. The interval is `SyncSchedule.interval_minutes` (60 unless changed); the scheduler
process (`sync_engine.worker`) calls `enqueue_due_syncs` every few seconds.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, or_, select

from storage.db import read_session, write_session
from storage.models import RunKind, RunTrigger, SyncSchedule
from sync_engine.schedule.queue import enqueue_run

log = logging.getLogger("sync_engine.scheduler")

AUTO_SYNC_REQUESTER = "auto-sync"


def next_due_after(due: datetime | None, interval: timedelta, now: datetime) -> datetime:
    """The first slot after `now` on the grid `due + k * interval`, so the schedule keeps its phase."""
    if due is None or due > now:
        return now + interval if due is None else due
    missed = (now - due) // interval
    return due + (missed + 1) * interval


def enqueue_due_syncs(*, engine: Engine, now: datetime) -> list[int]:
    """Queue one auto accounting sync per connection whose auto-sync is on, not paused and due.

    The schedule row is locked (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) and its
    `next_due_at` moved past `now` in the same transaction as the run insert: two schedulers, or one that
    restarts, never double a slot, and a scheduler that was down for hours queues one catch-up run.
    Returns the ids of the runs queued (or of an auto-sync already queued or running, which the slot joins).
    """
    due_filter = (col(SyncSchedule.enabled).is_(True), col(SyncSchedule.paused_reason).is_(None),
                  or_(col(SyncSchedule.next_due_at).is_(None), col(SyncSchedule.next_due_at) <= now))
    with read_session(engine) as session:
        # A plain read first: the common "nothing due" case takes no write lock.
        due_connections = list(session.exec(select(SyncSchedule.connection_id).where(*due_filter)).all())
    run_ids: list[int] = []
    for connection_id in due_connections:
        with write_session(engine) as session:
            plan = session.exec(
                select(SyncSchedule).where(SyncSchedule.connection_id == connection_id, *due_filter).with_for_update()
            ).first()
            if plan is None:
                continue  # another scheduler took this slot a moment ago
            interval = timedelta(minutes=max(plan.interval_minutes, 1))
            slot = plan.next_due_at
            plan.next_due_at = next_due_after(slot, interval, now)
            plan.updated_at = now
            session.add(plan)
            missed = 0 if slot is None else int((now - slot) // interval)
            # enqueue_run commits: the run and the moved due time land together.
            run = enqueue_run(session=session, connection_id=connection_id, kind=RunKind.ACCOUNTING_SYNC,
                              requested_by=AUTO_SYNC_REQUESTER, trigger=RunTrigger.AUTO,
                              options={"due_at": slot.isoformat() if slot else None, "missed_slots": missed})
        # A transaction of its own: after enqueue_run's commit and refresh the session holds a SQLite read
        # lock, and upgrading that to a write fails at once ("database is locked") when another writer waits.
        with write_session(engine) as session:
            plan = session.get(SyncSchedule, plan.id, with_for_update=True)
            if plan is not None:
                plan.last_enqueued_run_id = run.id
                session.add(plan)
        if missed:
            log.info("auto-sync for connection %s was %s slot(s) behind: queued one catch-up run #%s",
                     connection_id, missed, run.id)
        else:
            log.info("auto-sync for connection %s due: run #%s", connection_id, run.id)
        run_ids.append(run.id)  # type: ignore[arg-type]
    return run_ids
