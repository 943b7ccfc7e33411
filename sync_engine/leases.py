"""Claiming queued runs and holding the per-connection lease, safely across scheduler processes.

Claims lock candidate rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL and run under `BEGIN IMMEDIATE`
on SQLite (storage.db.write_session), so two schedulers never take the same run. The lease (one row
per connection) allows one run per connection at a time; its holder renews it with every heartbeat and
it expires if the holder dies. `recover_stale_runs` marks such runs abandoned and turns their in-flight
journal rows into `uncertain`, to be resolved by lookup rather than re-posted.

Fencing: every claim gives the connection's lease a new generation number, higher than any before it, and
records it on the run (`SyncRun.lease_generation`). `check_fence`, called by the write journal in the very
transaction that marks a write as sent, refuses when the lease has since gone to another run, so a scheduler
that was frozen or cut off past its lease cannot send another write once someone else took over.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from storage.db import write_session
from storage.models import JournalState, RunStatus, SyncLease, SyncRun, WriteJournal
from storage.types import utcnow
from sync_engine.run_context import RunStopped

LEASE_TTL = timedelta(seconds=60)
log = logging.getLogger(__name__)


def claim_next_run(*, engine: Engine, holder: str, now: datetime | None = None, lease_ttl: timedelta = LEASE_TTL) -> SyncRun | None:
    """Take the oldest queued run whose connection is free, mark it running and lease its connection."""
    now = now or utcnow()
    try:
        with write_session(engine) as session:
            candidates = session.exec(
                select(SyncRun).where(SyncRun.status == RunStatus.QUEUED)
                .order_by(SyncRun.queued_at, SyncRun.id).limit(20).with_for_update(skip_locked=True)
            ).all()
            for run in candidates:
                lease = session.exec(
                    select(SyncLease).where(SyncLease.connection_id == run.connection_id).with_for_update()
                ).first()
                if lease is not None and lease.expires_at > now:
                    continue
                if lease is None:
                    lease = SyncLease(connection_id=run.connection_id, holder=holder, expires_at=now + lease_ttl,
                                      generation=_last_generation(session, run.connection_id))
                lease.generation += 1
                lease.holder, lease.run_id = holder, run.id
                run.lease_generation = lease.generation
                lease.acquired_at, lease.expires_at = now, now + lease_ttl
                session.add(lease)
                # Started when the claim got the lease (it may have waited for the lease row's lock), not when it
                # began looking: otherwise a run could seem to start before the previous one of its connection ended.
                run.status, run.claimed_by, run.started_at = RunStatus.RUNNING, holder, max(now, utcnow())
                session.add(run)
                session.flush()
                return run
    except IntegrityError:
        # Another scheduler inserted the same connection's lease first: it won this round.
        return None
    return None


def _last_generation(session: Session, connection_id: int) -> int:
    # Released leases are deleted, so a new lease row continues from the highest generation any run got.
    last = session.exec(select(func.max(SyncRun.lease_generation)).where(SyncRun.connection_id == connection_id)).one()
    return int(last or 0)


class LeaseLost(RunStopped):
    """Another scheduler holds this run's connection now: the run must stop before it sends anything."""


def check_fence(session: Session, *, run_id: int, connection_id: int, lock: bool = False) -> None:
    """Raise LeaseLost unless `run_id` still holds its connection's lease under the generation it was claimed with.

    The journal calls it in the transaction that records a batch as about to be sent, and again on the sending
    thread right before the request goes out. By default it takes no lock: a scheduler frozen inside that
    transaction (SIGSTOP, a paused VM) must not keep the others from taking over, which a FOR UPDATE on the lease
    row did until it woke (seen in the frozen-scheduler test). `lock=True` locks the lease row until the
    transaction ends. A claim slipping in between the last look and the send is the one window left: the new
    holder looks every in-flight write up before sending it, and Intacct refuses a repeated control id.
    """
    query = select(SyncLease).where(SyncLease.connection_id == connection_id)
    lease = session.exec(query.with_for_update() if lock else query).first()
    generation = session.exec(select(SyncRun.lease_generation).where(SyncRun.id == run_id)).one_or_none()
    if lease is None or lease.run_id != run_id or generation is None or lease.generation != generation:
        message = (f"run {run_id} no longer holds the lease of connection {connection_id} (another scheduler took "
                   "over): stopping before sending anything")
        log.error(message)
        raise LeaseLost(message)


def renew_lease(*, engine: Engine, holder: str, run_id: int, lease_ttl: timedelta = LEASE_TTL) -> bool:
    """Extend our lease; False if it was lost (expired and taken), in which case the run must stop."""
    with write_session(engine) as session:
        lease = session.exec(select(SyncLease).where(SyncLease.run_id == run_id).with_for_update()).first()
        if lease is None or lease.holder != holder:
            return False
        lease.expires_at = utcnow() + lease_ttl
        session.add(lease)
        return True


def release_lease(*, engine: Engine, holder: str, run_id: int) -> None:
    with write_session(engine) as session:
        lease = session.exec(select(SyncLease).where(SyncLease.run_id == run_id).with_for_update()).first()
        if lease is not None and lease.holder == holder:
            session.delete(lease)


def recover_stale_runs(*, engine: Engine, now: datetime | None = None) -> list[int]:
    """Mark running runs whose lease expired (or vanished) as abandoned; return their ids."""
    now = now or utcnow()
    abandoned: list[int] = []
    with write_session(engine) as session:
        running = session.exec(select(SyncRun).where(SyncRun.status == RunStatus.RUNNING).with_for_update()).all()
        for run in running:
            lease = session.exec(select(SyncLease).where(SyncLease.connection_id == run.connection_id)).first()
            if lease is not None and lease.run_id == run.id and lease.expires_at > now:
                continue
            run.status = RunStatus.ABANDONED
            run.finished_at = now
            run.error_category = "abandoned"
            run.error_message = (
                "The scheduler running this sync stopped unexpectedly. Writes it had in flight are checked "
                "against Intacct on the next run before anything is sent again."
            )
            session.add(run)
            for row in session.exec(select(WriteJournal).where(
                    WriteJournal.run_id == run.id, WriteJournal.state.in_([JournalState.SENT, JournalState.PENDING]))):
                row.state = JournalState.UNCERTAIN
                row.updated_at = now
                session.add(row)
            if lease is not None and lease.run_id == run.id:
                session.delete(lease)
            abandoned.append(run.id)  # type: ignore[arg-type]
    return abandoned
