"""kill -9 of a real scheduler in the middle of writing invoices: the run is abandoned, the next run finishes
the job, and the sandbox holds every invoice exactly once."""
from __future__ import annotations

import os
import signal

from sqlmodel import Session, select

from storage.models import Invoice, JournalState, RunStatus, WriteJournal
from tests.engine.helpers import connect, ledger_invoice, sandbox_query
from tests.scheduler.helpers import get_run, queue_runs, wait_for

REAL_EXECUTOR = "sync_engine.sync.runs:execute_run"


def _journal_states(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return [j.state for j in session.exec(select(WriteJournal).where(WriteJournal.operation == "create_invoice"))]


def test_kill_9_mid_write_leaves_no_duplicate(db_url, engine, sandbox, spawn_scheduler) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, read_customers=False, read_invoices=False)
        for n in range(4):
            ledger_invoice(session, customer_number="K-1", invoice_number=f"K-{n}", amounts=["10.00"])
    # Each write request takes 1.5 s at the gateway, which commits it before answering.
    sandbox.set_faults({"faults": [{"kind": "latency", "ms": 1500, "function": "create_invoice"}]})
    [run_id] = queue_runs(engine, connection_id, 1)
    doomed = spawn_scheduler(db_url, "--id", "doomed", "--lease-ttl", "2", executor=REAL_EXECUTOR)
    wait_for(lambda: JournalState.SENT in _journal_states(engine), timeout=30, what="an invoice write in flight")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()

    spawn_scheduler(db_url, "--id", "survivor", "--lease-ttl", "2", executor=REAL_EXECUTOR)
    wait_for(lambda: get_run(engine, run_id).status == RunStatus.ABANDONED, timeout=30,
             what="the killed run to be marked abandoned")
    assert JournalState.UNCERTAIN in _journal_states(engine)

    sandbox.clear_faults()
    [next_id] = queue_runs(engine, connection_id, 1)
    wait_for(lambda: get_run(engine, next_id).status in (RunStatus.SUCCEEDED, RunStatus.PARTLY_FAILED,
                                                         RunStatus.FAILED), timeout=60, what="the next run to end")
    assert get_run(engine, next_id).status == RunStatus.SUCCEEDED, get_run(engine, next_id).error_message
    for n in range(4):
        assert len(sandbox_query(sandbox, "ARINVOICE", ["RECORDNO"], f"RECORDID = 'K-{n}'")) == 1, f"K-{n}"
    with Session(engine) as session:
        assert all(i.intacct_recordno for i in session.exec(select(Invoice)))
    assert set(_journal_states(engine)) == {JournalState.CONFIRMED}
