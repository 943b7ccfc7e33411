"""Fencing: a scheduler that lost its connection's lease sends nothing more to Intacct, even when it was frozen
rather than dead and wakes up after another scheduler took over."""
from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from storage.models import RunStatus, SchedulerHeartbeat, SyncLease, SyncRun
from storage.types import utcnow
from sync_engine.intacct.pipeline import MAX_FUNCTIONS_PER_REQUEST
from sync_engine.schedule import queue
from sync_engine.sync import leases, runs
from tests.engine.helpers import connect, ledger_invoice, sandbox_query
from tests.scheduler.helpers import get_run, queue_runs, wait_for

REAL_EXECUTOR = "sync_engine.sync.runs:execute_run"
COUNT = 4 * MAX_FUNCTIONS_PER_REQUEST


def _writes_sent(sandbox) -> int:  # type: ignore[no-untyped-def]
    functions = sandbox.stats()["functions"]
    return sum(count for name, count in functions.items() if name.startswith("create"))


def test_each_claim_raises_the_generation_and_a_taken_over_run_is_fenced(engine) -> None:
    from tests.scheduler.helpers import add_connection

    connection_id = add_connection(engine)
    generations = []
    for _ in range(3):
        [run_id] = queue_runs(engine, connection_id, 1)
        claimed = leases.claim_next_run(engine=engine, holder="a")
        generations.append(claimed.lease_generation)
        with Session(engine) as session:
            leases.check_fence(session, run_id=run_id, connection_id=connection_id)  # ours: passes
        leases.release_lease(engine=engine, holder="a", run_id=run_id)
        with Session(engine) as session, pytest.raises(leases.LeaseLost):
            leases.check_fence(session, run_id=run_id, connection_id=connection_id)  # released: fenced
        with Session(engine) as session:
            run = session.get(SyncRun, run_id)
            run.status = RunStatus.SUCCEEDED
            session.add(run)
            session.commit()
    assert generations == sorted(set(generations)) and len(generations) == 3  # never reused, even after release

    [stale] = queue_runs(engine, connection_id, 1)
    leases.claim_next_run(engine=engine, holder="frozen")
    later = utcnow() + leases.LEASE_TTL + timedelta(seconds=1)
    assert leases.recover_stale_runs(engine=engine, now=later) == [stale]
    [fresh] = queue_runs(engine, connection_id, 1)
    assert leases.claim_next_run(engine=engine, holder="other", now=later).id == fresh
    with Session(engine) as session, pytest.raises(leases.LeaseLost):
        leases.check_fence(session, run_id=stale, connection_id=connection_id)


def test_a_run_whose_lease_was_taken_sends_no_write(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, read_customers=False, read_invoices=False)
        ledger_invoice(session, customer_number="F-1", invoice_number="F-100", amounts=["10.00"])
    with Session(engine) as session:
        run = queue.enqueue_run(session=session, connection_id=connection_id, kind="accounting_sync",
                                requested_by="t")
    claimed = leases.claim_next_run(engine=engine, holder="slow")
    with Session(engine) as session:  # what a takeover looks like from the old holder's side
        lease = session.exec(select(SyncLease)).one()
        lease.generation += 1
        lease.run_id = None
        session.add(lease)
        session.commit()
    sandbox.reset_stats()
    status = runs.execute_run(engine=engine, run_id=claimed.id, holder="slow", stop=threading.Event())
    assert status == RunStatus.INTERRUPTED
    assert _writes_sent(sandbox) == 0
    assert sandbox_query(sandbox, "CUSTOMER", ["RECORDNO"], "CUSTOMERID = 'F-1'") == []
    assert run.id == claimed.id


def test_a_frozen_scheduler_writes_nothing_after_another_took_over(db_url, engine, sandbox, spawn_scheduler) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, read_customers=False, read_invoices=False)
        for n in range(COUNT):  # more write requests than the pipeline keeps in flight at once
            ledger_invoice(session, customer_number="Z-1", invoice_number=f"Z-{n:03}", amounts=["10.00"])
    sandbox.set_faults({"faults": [{"kind": "latency", "ms": 1500, "function": "create_invoice"}]})
    [first_run] = queue_runs(engine, connection_id, 1)
    # Should the freeze catch it inside a transaction (its heartbeat renewing the lease, say), PostgreSQL ends that
    # session after 8 idle seconds and the taker goes on (storage/db.py); on SQLite the busy timeout decides.
    frozen = spawn_scheduler(db_url, "--id", "frozen", "--lease-ttl", "3", "--heartbeat-seconds", "1",
                             executor=REAL_EXECUTOR, env={"DATABASE_IDLE_IN_TRANSACTION_SECONDS": "8"})

    # Frozen while both requests the pipeline keeps in flight are at the gateway (held there by the latency), so
    # neither is between its last fence check and its send: it wakes with their answers and more batches to send.
    # (Frozen between its last check and the send itself, a scheduler
    # would still send that one request after waking: the new holder looked those writes up first, and Intacct
    # refuses their repeated control ids. Frozen inside a transaction, it holds its locks until PostgreSQL ends
    # its session (below); on a SQLite file that stops every other writer until the busy timeout.)
    def invoice_writes_in_flight() -> bool:
        return sandbox.stats()["functions"].get("create_invoice", 0) >= 2 * MAX_FUNCTIONS_PER_REQUEST

    wait_for(invoice_writes_in_flight, timeout=60, what="two invoice requests in flight")
    os.kill(frozen.pid, signal.SIGSTOP)
    try:
        frozen_at = time.monotonic()
        taker = spawn_scheduler(db_url, "--id", "taker", "--lease-ttl", "3", "--heartbeat-seconds", "0.5",
                                executor=REAL_EXECUTOR)
        wait_for(lambda: get_run(engine, first_run).status == RunStatus.ABANDONED, timeout=45,
                 what="the frozen scheduler's run to be marked abandoned")
        sandbox.clear_faults()
        [second_run] = queue_runs(engine, connection_id, 1)
        wait_for(lambda: get_run(engine, second_run).status not in (RunStatus.QUEUED, RunStatus.RUNNING), timeout=90,
                 what="the taker's run to end")
        assert get_run(engine, second_run).status == RunStatus.SUCCEEDED, get_run(engine, second_run).error_message
        assert time.monotonic() - frozen_at > 3  # frozen for longer than its lease
        sent_before_waking, functions_before = _writes_sent(sandbox), sandbox.stats()["functions"]
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
    woke_at = utcnow()

    def frozen_scheduler_idle() -> bool:
        with Session(engine) as session:
            beat = session.get(SchedulerHeartbeat, "frozen")
            return beat is not None and beat.beat_at > woke_at and beat.current_run_id is None

    wait_for(frozen_scheduler_idle, timeout=60, what="the woken scheduler to give its run up")
    after = sandbox.stats()["functions"]
    assert _writes_sent(sandbox) == sent_before_waking, (
        {name: after[name] - functions_before.get(name,
                                                  0) for name in after if after[name] != functions_before.get(name)},
        frozen.output()[-3000:])
    # It says so: its heartbeat found the lease gone, the fence stopped it, or (when the taker had written all the
    # rest) its run ended as the abandoned run it had become.
    wait_for(lambda: any(said in frozen.output() for said in ("lost the lease", "no longer holds the lease",
                                                              f"run #{first_run} finished: abandoned")),
             timeout=30, what="the woken scheduler to log that it lost the lease")
    recorded = [r["RECORDID"] for r in sandbox_query(sandbox, "ARINVOICE", ["RECORDID"], "RECORDID LIKE 'Z-%'")]
    assert sorted(recorded) == [f"Z-{n:03}" for n in range(COUNT)]  # each exactly once
    assert get_run(engine, first_run).status == RunStatus.ABANDONED  # its verdict stands
    taker.close()
