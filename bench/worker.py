"""Benchmark worker processes, one per measurement so each has its own peak RSS and a clean start.

`python -m bench.worker import SPEC_JSON`: a fresh, migrated ledger at `ledger_url`, a connection to the sandbox,
then the one-time customer import and invoice import as the scheduler runs them; prints one JSON line.
`python -m bench.worker peer SPEC_JSON`: the PyPI `sageintacctsdk` `get_all()` of customers and AR invoices.
"""
from __future__ import annotations

import json
import resource
import sys
import threading
import time
from typing import Any

from sqlmodel import Session, func, select


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_kind(engine: Any, connection_id: int, kind: str, options: dict | None = None) -> tuple[Any, float]:
    """Enqueue, claim and execute one run as the scheduler does; (final run row, seconds)."""
    from storage.models import SyncRun
    from sync_engine import leases, queue, runs

    with Session(engine) as session:
        queue.enqueue_run(session=session, connection_id=connection_id, kind=kind, requested_by="bench",
                          **({"options": options} if options else {}))
    claimed = leases.claim_next_run(engine=engine, holder="bench")
    assert claimed is not None, "the bench run was not claimable"
    started = time.perf_counter()
    runs.execute_run(engine=engine, run_id=claimed.id, holder="bench", stop=threading.Event())
    elapsed = time.perf_counter() - started
    leases.release_lease(engine=engine, holder="bench", run_id=claimed.id)
    with Session(engine) as session:
        return session.get(SyncRun, claimed.id), elapsed


def connect_ledger(engine: Any, sandbox: dict) -> int:
    """Save the sandbox as the ledger's Intacct connection with a mapping that can write; the connection id."""
    from sync_engine import settings

    with Session(engine) as session:
        connection = settings.save_connection(session=session, actor="bench", form=settings.ConnectionForm(
            endpoint_url=sandbox["url"], company_id=sandbox["company_id"], user_id=sandbox["user_id"],
            user_password=sandbox["user_password"], sender_id=sandbox["sender_id"],
            sender_password=sandbox["sender_password"]))
        settings.save_mapping(session=session, connection_id=connection.id, actor="bench",  # type: ignore[arg-type]
                              form=settings.MappingForm(item_account_label="Services Revenue",
                                                        undeposited_funds_account="1210"))
        return connection.id  # type: ignore[return-value]


def full_import(spec: dict) -> dict:
    from storage.db import make_engine
    from storage.migrate import upgrade_database
    from storage.models import Customer, Invoice, InvoiceLine

    engine = make_engine(spec["ledger_url"])
    upgrade_database(engine)
    connection_id = connect_ledger(engine, spec["sandbox"])
    out: dict[str, Any] = {"runs": {}}
    seconds = requests = 0.0
    cpu_before = _cpu()
    for kind in ("customer_import", "invoice_import"):
        run, elapsed = run_kind(engine, connection_id, kind)
        out["runs"][kind] = {"id": run.id, "status": run.status, "seconds": elapsed, "requests": run.api_requests,
                             "created": run.created_count, "failed": run.failed_count}
        seconds += elapsed
        requests += run.api_requests
    with Session(engine) as session:
        customers = session.exec(select(func.count()).select_from(Customer)).one()
        invoices = session.exec(select(func.count()).select_from(Invoice)).one()
        lines = session.exec(select(func.count()).select_from(InvoiceLine)).one()
    engine.dispose()
    out.update(records=customers + invoices, customers=customers, invoices=invoices, lines=lines, seconds=seconds,
               requests=int(requests), rss_mib=_rss_mib(), cpu_seconds=_cpu() - cpu_before)
    return out


def peer(spec: dict) -> dict:
    import sageintacctsdk
    from sageintacctsdk.apis.api_base import ApiBase

    sandbox = spec["sandbox"]
    original = ApiBase.__init__

    def patched(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        self._ApiBase__api_url = sandbox["url"]  # its initial gateway URL is hard-coded (protocol notes §13)

    ApiBase.__init__ = patched  # type: ignore[method-assign]
    started = time.perf_counter()
    sdk = sageintacctsdk.SageIntacctSDK(sender_id=sandbox["sender_id"], sender_password=sandbox["sender_password"],
                                        user_id=sandbox["user_id"], company_id=sandbox["company_id"],
                                        user_password=sandbox["user_password"])
    customers = sdk.customers.get_all()
    invoices = sdk.ar_invoices.get_all()
    elapsed = time.perf_counter() - started
    return {"records": len(customers) + len(invoices), "customers": len(customers), "invoices": len(invoices),
            "seconds": elapsed, "rss_mib": _rss_mib()}


if __name__ == "__main__":
    command, raw = sys.argv[1], sys.argv[2]
    result = {"import": full_import, "peer": peer}[command](json.loads(raw))
    print("RESULT " + json.dumps(result), flush=True)
