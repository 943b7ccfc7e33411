"""Incremental read windows: what "modified since the last sync" means for each Intacct object.

A window starts at the object's watermark minus a small overlap and has no upper bound, so a record changed
while (or in the same second as) the run started is read now, not one sync late. The watermark is the run's
start, kept at full precision, and moves only after the whole window was read and committed. Records read
twice (the overlap, or changed after the run started) are recognised as unchanged by their WHENMODIFIED,
which costs nothing. The lower bound is rounded down to Intacct's whole seconds, never up.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from storage.db import write_session
from storage.models import SyncCursor, SyncRun
from storage.types import utcnow
from sync_engine.intacct import filters
from sync_engine.intacct.values import format_timestamp
from sync_engine.objects import IntacctObject
from sync_engine.run_context import RunContext

# Covers a clock difference between us and Intacct and a write committed a little after its WHENMODIFIED.
DEFAULT_OVERLAP = timedelta(minutes=10)


def company_zone(ctx: RunContext) -> ZoneInfo:
    return ZoneInfo(ctx.connection.intacct_timezone or "UTC")


def cursor(session: Session, *, connection_id: int, object_name: str) -> SyncCursor | None:
    return session.exec(select(SyncCursor).where(
        SyncCursor.connection_id == connection_id, SyncCursor.object_name == object_name)).first()


def watermark(ctx: RunContext, obj: IntacctObject) -> datetime | None:
    with Session(ctx.engine) as session:
        found = cursor(session, connection_id=ctx.connection_id, object_name=obj.name)
    return found.watermark if found else None


def read_window(ctx: RunContext, obj: IntacctObject, *, incremental: bool) -> tuple[datetime | None, datetime]:
    """(from, to): from = watermark - overlap (None = everything); to = the run's start, the next watermark."""
    if not incremental:
        return None, ctx.started_at
    mark = watermark(ctx, obj)
    if mark is None:
        return None, ctx.started_at
    overlap = timedelta(minutes=float(ctx.options.get("overlap_minutes", DEFAULT_OVERLAP.total_seconds() / 60)))
    return mark - overlap, ctx.started_at


def window_filter(ctx: RunContext, obj: IntacctObject, window_from: datetime | None) -> filters.Filter | None:
    """`modified_field >= from` in the company's zone, whole seconds rounded down; None reads everything."""
    if window_from is None:
        return None
    return filters.ge(obj.modified_field, format_timestamp(window_from.replace(microsecond=0), company_zone(ctx)))


def note_window(ctx: RunContext, window_from: datetime | None, window_to: datetime) -> None:
    """Show the widest window the run read on the run itself."""
    if ctx.preview:
        return
    with write_session(ctx.engine) as session:
        run = session.get(SyncRun, ctx.run_id)
        assert run is not None
        if run.window_from is None or (window_from is not None and window_from < run.window_from):
            run.window_from = window_from
        run.window_to = window_to
        session.add(run)


def advance(ctx: RunContext, obj: IntacctObject, mark: datetime, *, only_if_unset: bool = False) -> None:
    """Move the object's watermark forward to `mark` (never back); nothing in a preview."""
    if ctx.preview:
        return
    with write_session(ctx.engine) as session:
        row = cursor(session, connection_id=ctx.connection_id, object_name=obj.name)
        if row is not None and only_if_unset and row.watermark is not None:
            return
        row = row or SyncCursor(connection_id=ctx.connection_id, object_name=obj.name)
        if row.watermark is None or mark > row.watermark:
            row.watermark = mark
        row.last_run_id, row.updated_at = ctx.run_id, utcnow()
        session.add(row)


def read_since(ctx: RunContext, obj: IntacctObject, *, incremental: bool, extra: filters.Filter | None = None,
               step: str, count_first: bool = False) -> tuple[Iterator[dict[str, Any]], datetime]:
    """Begin `step` and stream the object's records in its window (all when not incremental).

    Returns the records and the watermark to set once they are all stored. The progress total comes from the
    first page's totalcount, so an incremental read with no changes costs exactly one request.
    """
    window_from, window_to = read_window(ctx, obj, incremental=incremental)
    note_window(ctx, window_from, window_to)
    parts = [part for part in (window_filter(ctx, obj, window_from), extra) if part is not None]
    condition = filters.and_(*parts) if parts else None
    total = ctx.client.count(obj.name, condition) if count_first else None
    ctx.begin_step(step, total=total)

    def on_total(count: int) -> None:
        if ctx.total is None:
            ctx.total = count

    records = ctx.client.iter_records(obj.name, list(obj.fields), filter=condition, on_total=on_total)
    return records, window_to
