"""Crash campaign: kill -9 a real scheduler at random moments while it writes invoices and payments to the
sandbox, again and again, then let a clean run finish and compare the sandbox with the ledger.

Each trial adds its share of the invoices and payments (with their customers) to the ledger, queues a sync,
and kills the scheduler at a random moment once that sync has started writing them: every trial is a kill
during an export, at a different point (customers, invoices, payments, between requests or inside one).

    python -m campaigns.crash [--trials 30] [--invoices 1000] [--payments 1000] [--backend sqlite|postgresql]

Prints the figures; exits 1 when anything is duplicated, missing, unbalanced or left uncertain.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import sys
import time
from datetime import timedelta

from sqlmodel import Session, func, select

from campaigns.common import bench, compare, seed_ledger, settle
from storage.models import RunStatus, SyncRun, WriteJournal
from storage.types import utcnow
from sync_engine import leases, queue
from tests.scheduler.helpers import SchedulerProcess, wait_for

REAL_EXECUTOR = "sync_engine.runs:execute_run"


def _writes_journaled(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(WriteJournal)).one())


def campaign(*, trials: int, invoices: int, payments: int, backend: str = "sqlite", seed: int = 13,
             out=print) -> bool:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    started = time.monotonic()
    kills = finished_first = 0
    ended: list[str] = []
    with bench(backend) as b:
        # A little latency on every write widens the window in which a kill lands between send and answer.
        b.sandbox.set_faults({"faults": [{"kind": "latency", "ms": 250, "jitter_ms": 250, "function": name}
                                         for name in ("create", "create_invoice", "create_arpayment")]})
        share_i, share_p = max(1, invoices // trials), max(1, payments // trials)
        for trial in range(trials):
            seed_ledger(b.engine, invoices=share_i, payments=min(share_p, share_i), start=trial * share_i)
            with Session(b.engine) as session:
                run = queue.enqueue_run(session=session, connection_id=b.connection_id, kind="accounting_sync",
                                        requested_by="campaign")
            before = _writes_journaled(b.engine)
            scheduler = SchedulerProcess(b.url, b.workdir / f"scheduler-{trial}.log", "--id", f"crash-{trial}",
                                         "--lease-ttl", "2", executor=REAL_EXECUTOR)
            try:
                wait_for(lambda: _writes_journaled(b.engine) > before or _status(b.engine, run.id) not in (
                    RunStatus.QUEUED, RunStatus.RUNNING), timeout=180, interval=0.01, what="writes to start")
                time.sleep(rng.uniform(0, 1.2))  # customers, invoices and payments each take about 0.5 s
                if _status(b.engine, run.id) in (RunStatus.QUEUED, RunStatus.RUNNING):
                    os.kill(scheduler.pid, signal.SIGKILL)
                    kills += 1
                else:
                    finished_first += 1
                    ended.append(_status(b.engine, run.id))
            finally:
                scheduler.close()
            # What the next scheduler does once the dead one's lease ran out (here without waiting for it).
            leases.recover_stale_runs(engine=b.engine, now=utcnow() + timedelta(seconds=3))
        b.sandbox.clear_faults()
        statuses = settle(b.engine, b.connection_id)
        result = compare(b.engine, b.sandbox)
    out(f"crash campaign: {trials} trials, {kills} kill -9 during writes, {finished_first} run(s) ended before "
        f"their kill ({', '.join(sorted(set(ended))) or '-'}); then {len(statuses)} clean run(s): {', '.join(statuses)}")
    for line in result.lines():
        out("  " + line)
    out(f"  {'CLEAN' if result.clean else 'NOT CLEAN'} in {time.monotonic() - started:.0f} s")
    return result.clean and statuses[-1] == RunStatus.SUCCEEDED


def _status(engine, run_id: int) -> str:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.get(SyncRun, run_id).status  # type: ignore[union-attr]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m campaigns.crash", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the figures, not every retry
    ok = campaign(trials=args.trials, invoices=args.invoices, payments=args.payments, backend=args.backend,
                  seed=args.seed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
