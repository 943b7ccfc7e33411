"""The time left of a running run follows the current step's own pace, measured from its first records: earlier
steps, the queue wait and the sign-in do not count (a clock is injected; the counters go through the run row)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlmodel import Session

from storage.models import SyncRun
from sync_engine.schedule.queue import time_left
from sync_engine.services import settings
from sync_engine.sync.run_context import RunContext

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> datetime:
        self.now = T0 + timedelta(seconds=seconds)
        return self.now


def _context(engine, clock: Clock, kind: str) -> RunContext:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as session:
        connection = settings.save_connection(session=session, actor="t", form=settings.ConnectionForm(
            endpoint_url="http://127.0.0.1:9/ia/xml/xmlgw.phtml", company_id="C", user_id="u", user_password="p",
            sender_id="s", sender_password="sp"))
        run = SyncRun(connection_id=connection.id, kind=kind, status="running", started_at=T0)
        session.add(run)
        session.commit()
        mapping = settings.get_mapping(session=session, connection_id=connection.id)
    return RunContext(engine=engine, run_id=run.id, client=SimpleNamespace(requests_sent=0),  # type: ignore[arg-type]
                      connection=connection, mapping=mapping, started_at=T0, options={}, clock=clock)


def _left(engine, ctx: RunContext, clock: Clock) -> timedelta | None:  # type: ignore[no-untyped-def]
    ctx.flush()
    with Session(engine) as session:
        run = session.get(SyncRun, ctx.run_id)
        assert run is not None
        return time_left(run, now=clock())


def test_a_later_step_is_estimated_from_its_own_pace_not_from_the_start_of_the_run(engine) -> None:
    clock = Clock()
    ctx = _context(engine, clock, "accounting_sync")
    ctx.begin_step("customers", total=20_000)
    clock.at(2)
    ctx.advance(2_000)
    assert _left(engine, ctx, clock) is None  # one reading: no pace yet
    clock.at(12)
    ctx.advance(10_000)  # 10,000 in 10 s: 8,000 to go take 8 s
    assert _left(engine, ctx, clock) == timedelta(seconds=8)
    clock.at(600)  # ten minutes into the run, the invoices begin
    ctx.begin_step("invoices", total=100_000)
    assert _left(engine, ctx, clock) is None
    clock.at(603)
    ctx.advance(1_000)
    assert _left(engine, ctx, clock) is None
    clock.at(613)
    ctx.advance(10_000)  # 10,000 in 10 s since the first page: 89,000 to go take 89 s
    assert _left(engine, ctx, clock) == timedelta(seconds=89)
    # the old estimate (time since the run began / records done in this step) said about 13 minutes
    with Session(engine) as session:
        run = session.get(SyncRun, ctx.run_id)
        assert run is not None and run.step == "invoices" and run.step_started_at == T0 + timedelta(seconds=600)


def test_the_first_estimate_leaves_out_the_wait_before_the_first_page(engine) -> None:
    clock = Clock()
    ctx = _context(engine, clock, "invoice_import")
    clock.at(5)  # queue wait and sign-in
    ctx.begin_step("invoices", total=100_000)
    clock.at(8)  # the first page and its totalcount
    ctx.advance(3_600)
    assert _left(engine, ctx, clock) is None  # "estimating…", not 48 s
    clock.at(8.5)
    ctx.advance(1_800)
    assert _left(engine, ctx, clock) is None  # half a second is too little to tell a pace
    clock.at(10)
    ctx.advance(5_400)  # 7,200 in 2 s: 89,200 to go take 24.8 s (the run took 24 s in all)
    left = _left(engine, ctx, clock)
    assert left is not None and timedelta(seconds=24) < left < timedelta(seconds=25)


def test_records_taken_back_leave_the_estimate_waiting() -> None:
    run = SyncRun(connection_id=1, kind="invoice_import", status="running", started_at=T0, progress_done=900,
                  progress_total=5_000, step_first_done_at=T0, step_first_done=1_000)
    assert time_left(run, now=T0 + timedelta(seconds=30)) is None
    run.progress_total = None
    assert time_left(run, now=T0 + timedelta(seconds=30)) is None  # the total is still being counted
