"""Concurrency campaign (PostgreSQL by default, where several machines share one database):

- sign-in: `--attempts` simultaneous wrong passwords for one name; how many were checked (the limit is 5), and
  whether the right password is then refused while the name is locked;
- Sync Now: `--clicks` simultaneous clicks; how many runs were queued (must be 1);
- two real schedulers racing over `--rounds` rounds of a sync and two imports of one connection against the
  sandbox; how many runs were executed twice and how many overlapped on the connection (both must be 0).

    python -m campaigns.concurrency [--attempts 30] [--clicks 20] [--rounds 10] [--backend postgresql|sqlite]
"""
from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session, func, select

from campaigns.common import bench
from storage.models import ACTIVE_RUN_STATUSES, RunKind, RunStatus, SyncRun
from sync_engine import queue
from sync_engine.users import SignInThrottled, authenticate, create_user
from tests.scheduler.helpers import SchedulerProcess, wait_for

REAL_EXECUTOR = "sync_engine.runs:execute_run"


def _sign_in_storm(engine, attempts: int) -> tuple[int, int, bool]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        create_user(session=session, username="storm", password="the-right-password", role="viewer", actor="c")
    gate = threading.Barrier(attempts)

    def attempt(n: int) -> str:
        with Session(engine) as session:
            gate.wait()
            try:
                return "checked" if authenticate(session=session, username="storm", password=f"wrong-{n}") is None \
                    else "accepted"
            except SignInThrottled:
                return "refused"

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        outcomes = list(pool.map(attempt, range(attempts)))
    with Session(engine) as session:
        try:
            authenticate(session=session, username="storm", password="the-right-password")
            right_refused = False
        except SignInThrottled:
            right_refused = True
    return outcomes.count("checked"), outcomes.count("refused"), right_refused


def _click_storm(engine, connection_id: int, clicks: int) -> int:  # type: ignore[no-untyped-def]
    gate = threading.Barrier(clicks)

    def click(n: int) -> int:
        with Session(engine) as session:
            gate.wait()
            return queue.enqueue_run(session=session, connection_id=connection_id, kind=RunKind.ACCOUNTING_SYNC,
                                     requested_by=f"clicker-{n}").id

    with ThreadPoolExecutor(max_workers=clicks) as pool:
        list(pool.map(click, range(clicks)))
    with Session(engine) as session:
        queued = int(session.exec(select(func.count()).select_from(SyncRun).where(
            SyncRun.status.in_(ACTIVE_RUN_STATUSES))).one())
        for run in session.exec(select(SyncRun).where(SyncRun.status == RunStatus.QUEUED)):
            run.status = RunStatus.CANCELLED
            session.add(run)
        session.commit()
    return queued


def _overlaps(runs: list[SyncRun]) -> int:
    spans = sorted((r.started_at, r.finished_at) for r in runs if r.started_at and r.finished_at)
    return sum(1 for (_, end), (start, _) in zip(spans, spans[1:]) if start < end)


def campaign(*, attempts: int = 30, clicks: int = 20, rounds: int = 10, backend: str = "postgresql",
             out=print) -> bool:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    with bench(backend, mapping={}) as b:
        checked, refused, right_refused = _sign_in_storm(b.engine, attempts)
        queued = _click_storm(b.engine, b.connection_id, clicks)
        schedulers = [SchedulerProcess(b.url, b.workdir / f"scheduler-{n}.log", "--id", f"racer-{n}",
                                       executor=REAL_EXECUTOR) for n in range(2)]
        try:
            run_ids: list[int] = []
            for _ in range(rounds):
                with Session(b.engine) as session:
                    for kind in (RunKind.ACCOUNTING_SYNC, RunKind.CUSTOMER_IMPORT, RunKind.INVOICE_IMPORT):
                        run_ids.append(queue.enqueue_run(session=session, connection_id=b.connection_id, kind=kind,
                                                         requested_by="racer").id)

                def all_done() -> bool:
                    with Session(b.engine) as session:
                        return not session.exec(select(SyncRun).where(SyncRun.id.in_(run_ids),
                                                                      SyncRun.status.in_(ACTIVE_RUN_STATUSES))).first()

                wait_for(all_done, timeout=180, interval=0.1, what="the round's runs to finish")
        finally:
            for scheduler in schedulers:
                scheduler.close()
        with Session(b.engine) as session:
            raced = list(session.exec(select(SyncRun).where(SyncRun.id.in_(run_ids))))
        holders = {r.claimed_by.split("#")[0] for r in raced if r.claimed_by}
        statuses = {s: sum(1 for r in raced if r.status == s) for s in {r.status for r in raced}}
        overlaps = _overlaps(raced)
    out(f"concurrency campaign on {backend}:")
    out(f"  sign-in: {attempts} simultaneous wrong passwords, {checked} checked, {refused} refused; the right "
        f"password then {'refused (locked)' if right_refused else 'ACCEPTED'}")
    out(f"  Sync Now: {clicks} simultaneous clicks queued {queued} run(s)")
    out(f"  two schedulers ({', '.join(sorted(holders))}): {len(raced)} runs, "
        + ", ".join(f"{s} {n}" for s, n in sorted(statuses.items())) + f"; {overlaps} overlapping on the connection")
    clean = checked <= 5 and right_refused and queued == 1 and overlaps == 0 and len(raced) == 3 * rounds
    out(f"  {'CLEAN' if clean else 'NOT CLEAN'} in {time.monotonic() - started:.0f} s")
    return clean


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m campaigns.concurrency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attempts", type=int, default=30)
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    return 0 if campaign(attempts=args.attempts, clicks=args.clicks, rounds=args.rounds, backend=args.backend) else 1


if __name__ == "__main__":
    sys.exit(main())
