"""Benchmark: full imports from a large sandbox company into a fresh SQLite ledger; prints throughput and memory.

Run with `python -m bench.bench_engine [--customers N --invoices M]` (defaults 5,000 / 20,000). The figures
are printed, never asserted: speed and memory targets live here, not in tests.
"""
from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from pathlib import Path

from sqlmodel import Session, func, select

from storage.db import make_engine
from storage.migrate import upgrade_database
from storage.models import Customer, Invoice, SyncRun
from sync_engine import leases, queue, runs, settings
from tests.fixtures.sandbox import start_sandbox


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(engine, connection_id: int, kind: str) -> tuple[SyncRun, float]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        queue.enqueue_run(session=session, connection_id=connection_id, kind=kind, requested_by="bench")
    claimed = leases.claim_next_run(engine=engine, holder="bench")
    assert claimed is not None
    started = time.perf_counter()
    runs.execute_run(engine=engine, run_id=claimed.id, holder="bench", stop=threading.Event())
    elapsed = time.perf_counter() - started
    leases.release_lease(engine=engine, holder="bench", run_id=claimed.id)
    with Session(engine) as session:
        return session.get(SyncRun, claimed.id), elapsed  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--invoices", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"seeding a sandbox with {args.customers} customers and {args.invoices} invoices…", flush=True)
        handle = start_sandbox(workdir, seed="none", extra_args=["--customers", str(args.customers),
                                                                 "--invoices", str(args.invoices)])
        try:
            engine = make_engine(f"sqlite:///{workdir / 'ledger.db'}")
            upgrade_database(engine)
            with Session(engine) as session:
                connection = settings.save_connection(session=session, actor="bench", form=settings.ConnectionForm(
                    endpoint_url=handle.url, company_id=handle.company_id, user_id=handle.user_id,
                    user_password=handle.user_password, sender_id=handle.sender_id,
                    sender_password=handle.sender_password))
            for kind, model in (("customer_import", Customer), ("invoice_import", Invoice)):
                run, elapsed = _run(engine, connection.id, kind)  # type: ignore[arg-type]
                with Session(engine) as session:
                    stored = session.exec(select(func.count()).select_from(model)).one()
                print(f"{kind}: {run.status}, {stored} records in {elapsed:.1f} s "
                      f"({stored / elapsed:,.0f} records/s), {run.api_requests} API requests, "
                      f"max RSS so far {_max_rss_mib():.0f} MiB")
            print(f"process max RSS: {_max_rss_mib():.0f} MiB (records are streamed page by page, so this stays "
                  "flat as the company grows)")
        finally:
            handle.stop()


if __name__ == "__main__":
    main()
