"""A scheduler stand-in for test_frozen_transaction: claims a run, then stalls inside the journaling transaction.

`python -m tests.engine.frozen_holder` (DATABASE_URL from the environment) claims the queued run, opens the
transaction the write journal marks a send in, locks its lease row there, says "locked" and waits for a line on
stdin; the test freezes it meanwhile. Woken, it tries to write in that transaction, then to pass the fence again,
and prints what each attempt met.
"""
from __future__ import annotations

import sys

from sqlalchemy import update

from storage.db import lost_by_idle_timeout, make_engine, write_session
from storage.models import SyncRun
from sync_engine.sync import leases

WRITTEN_AFTER_WAKING = "written by the frozen holder after waking"


def main() -> int:
    engine = make_engine()
    run = leases.claim_next_run(engine=engine, holder="frozen")
    assert run is not None and run.id is not None
    try:
        with write_session(engine) as session:
            leases.check_fence(session, run_id=run.id, connection_id=run.connection_id, lock=True)
            print("locked", flush=True)
            sys.stdin.readline()
            session.exec(update(SyncRun).where(SyncRun.id == run.id)  # type: ignore[call-overload]
                         .values(error_message=WRITTEN_AFTER_WAKING))
        print("wrote after waking", flush=True)
    except Exception as exc:  # noqa: BLE001 - what it met is the test's verdict
        print("ended by the idle timeout" if lost_by_idle_timeout(exc) else f"other error: {exc!r}", flush=True)
    try:
        with write_session(engine) as session:
            leases.check_fence(session, run_id=run.id, connection_id=run.connection_id)
        print("still holds the lease", flush=True)
    except leases.LeaseLost:
        print("fenced", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
