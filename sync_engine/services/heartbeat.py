"""Scheduler heartbeats: each scheduler process writes one row every few seconds; the console reads them.

A scheduler is alive when its row was beaten within three heartbeat intervals and it has not marked
itself stopped. A process killed with SIGKILL never marks itself stopped; its row simply goes stale.
"""
from __future__ import annotations

import importlib.metadata
import logging
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage.db import PROJECT_DIR
from storage.models import SchedulerHeartbeat
from storage.types import utcnow

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
ALIVE_FACTOR = 3  # missed beats tolerated before a scheduler counts as gone
FORGET_AFTER = timedelta(days=7)  # stopped or stale rows older than this are pruned at start


def app_version() -> str:
    """The project version (installed metadata, else pyproject.toml), shown in the heartbeat."""
    try:
        return importlib.metadata.version("intacct-ar-sync-console")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        with open(PROJECT_DIR / "pyproject.toml", "rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def write_heartbeat(
    *, session: Session, scheduler_id: str, pid: int, host: str, version: str, now: datetime,
    current_run_id: int | None = None, progress: str | None = None, starting: bool = False,
) -> SchedulerHeartbeat:
    """Insert or refresh this scheduler's row; `starting=True` resets started_at and clears stopped_at.

    The caller commits (the scheduler uses a write session per beat).
    """
    beat = session.get(SchedulerHeartbeat, scheduler_id)
    if beat is None:
        beat = SchedulerHeartbeat(scheduler_id=scheduler_id, pid=pid, host=host, version=version,
                                  started_at=now, beat_at=now)
    if starting:
        beat.started_at = now
        beat.stopped_at = None
    beat.pid, beat.host, beat.version = pid, host, version
    beat.beat_at = now
    beat.current_run_id = current_run_id
    beat.progress = progress
    session.add(beat)
    return beat


def mark_stopped(*, session: Session, scheduler_id: str, now: datetime) -> None:
    """Record a clean exit so the console says "stopped" at once instead of waiting for the row to go stale."""
    beat = session.get(SchedulerHeartbeat, scheduler_id)
    if beat is None:
        return
    beat.stopped_at = now
    beat.beat_at = now
    beat.current_run_id = None
    beat.progress = "stopped"
    session.add(beat)


def prune_heartbeats(*, session: Session, now: datetime, older_than: timedelta = FORGET_AFTER) -> int:
    """Forget scheduler rows not beaten for a week (old process ids, renamed hosts)."""
    old = session.exec(select(SchedulerHeartbeat).where(col(SchedulerHeartbeat.beat_at) < now - older_than)).all()
    for row in old:
        session.delete(row)
    return len(old)


@dataclass
class SchedulerInfo:
    """One scheduler process as the console shows it."""

    scheduler_id: str
    pid: int
    host: str
    version: str
    started_at: datetime
    beat_at: datetime
    current_run_id: int | None
    progress: str | None
    stopped_at: datetime | None
    alive: bool


@dataclass
class SchedulerStatus:
    """Whether any scheduler is running, for the console's sidebar and warning banner."""

    alive: bool
    last_beat: datetime | None
    schedulers: list[SchedulerInfo] = field(default_factory=list)
    message: str = ""


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 90:
        return f"{max(seconds, 0)} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def scheduler_status(
    *, session: Session, now: datetime | None = None, heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> SchedulerStatus:
    """Read the heartbeats: alive when some scheduler beat within 3 heartbeat intervals and has not stopped."""
    now = now or utcnow()
    window = timedelta(seconds=heartbeat_seconds * ALIVE_FACTOR)
    rows = session.exec(select(SchedulerHeartbeat).order_by(col(SchedulerHeartbeat.beat_at).desc())).all()
    infos = [
        SchedulerInfo(
            scheduler_id=r.scheduler_id, pid=r.pid, host=r.host, version=r.version, started_at=r.started_at,
            beat_at=r.beat_at, current_run_id=r.current_run_id, progress=r.progress, stopped_at=r.stopped_at,
            alive=r.stopped_at is None and now - r.beat_at <= window,
        )
        for r in rows
    ]
    alive = [i for i in infos if i.alive]
    last_beat = infos[0].beat_at if infos else None
    if alive:
        names = ", ".join(f"{i.scheduler_id} on {i.host}" for i in alive)
        count = "1 scheduler" if len(alive) == 1 else f"{len(alive)} schedulers"
        message = f"{count} running ({names}); last heartbeat {_ago(now - alive[0].beat_at)}."
    elif not infos:
        message = ("The scheduler is not running: none has reported yet. Start it with "
                   "`python -m sync_engine.scheduler`; until then queued syncs wait.")
    elif infos[0].stopped_at is not None:
        message = (f"The scheduler is not running: it was stopped {_ago(now - infos[0].stopped_at)}. "
                   "Queued syncs and hourly auto-sync wait until it is started again.")
    else:
        message = (f"The scheduler is not running: its last heartbeat was {_ago(now - infos[0].beat_at)}, "
                   "it may have crashed. "
                   "Queued syncs and hourly auto-sync wait until it is running again.")
    return SchedulerStatus(alive=bool(alive), last_beat=last_beat, schedulers=infos, message=message)

