"""`make bench`: the engine at 100,000 invoices, every figure of issue 10, printed and written to bench/RESULTS.md.

One seeded sandbox company (20,000 customers, 100,000 invoices of 1-3 lines; cached under data/bench/), then:
full imports into SQLite and PostgreSQL at 0 ms, the full import at 250 ms per request, the PyPI
`sageintacctsdk` get_all() of the same customers and invoices, incremental syncs with 0, 10 and 1,000 changes,
writes of 2,000 invoices + 2,000 payments at 250 ms, Streamlit AppTest renders of Invoices, Customers and
the import's run detail, and the invoice import's progress panel read in Chromium (bench/bench_progress.py).
Figures are printed, never asserted (no test asserts a duration).

`python -m bench.bench_engine [--customers N --invoices M] [--skip pg,latency,peer,...] [--save-baseline]`
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlmodel import Session, select

from bench import bench_progress, report
from bench.seeded import cached_company, start_copy
from bench.worker import run_kind

ROOT = Path(__file__).resolve().parents[1]
LATENCY_MS = 250
STEPS = ("sqlite", "pg", "latency", "peer", "incremental", "writes", "pages", "progress")


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _sandbox_spec(handle: Any) -> dict:
    return {k: getattr(handle, k) for k in ("url", "company_id", "user_id", "user_password", "sender_id",
                                            "sender_password")}


def _worker(command: str, spec: dict) -> dict:
    """Run bench.worker in its own process (its own peak RSS); the JSON it printed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "bench.worker", command, json.dumps(spec)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"bench worker {command} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                           f"{done.stderr[-3000:]}")
    return json.loads(line.removeprefix("RESULT "))


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _import(handle: Any, spec: dict) -> dict:
    """A full import in its own process, with the CPU time the sandbox spent serving it."""
    before = _cpu_seconds(handle.process.pid)
    result = _worker("import", spec)
    result["sandbox_cpu_seconds"] = _cpu_seconds(handle.process.pid) - before
    return result


def _pg_admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_database() -> tuple[str, Any]:
    from storage.db import make_engine

    name = f"ar_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(_pg_admin_url()).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return _pg_admin_url().rsplit("/", 1)[0] + f"/{name}", admin


def _drop_pg(name_url: str, admin: Any) -> None:
    name = name_url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _change_customers(handle: Any, ids: list[str], tag: str) -> None:
    """Rename customers in the sandbox through the gateway (100 update functions per request)."""
    for start in range(0, len(ids), 100):
        functions = "".join(
            f'<function controlid="u{n}"><update><CUSTOMER><CUSTOMERID>{cid}</CUSTOMERID>'
            f"<NAME>{cid} renamed {tag}</NAME></CUSTOMER></update></function>"
            for n, cid in enumerate(ids[start:start + 100]))
        status, body = handle.post(handle.envelope(functions))
        if status != 200 or body.count(b"<status>success</status>") < 2:
            raise RuntimeError(f"sandbox refused the customer changes: {body[:500]!r}")


def _set_mapping(engine: Any, connection_id: int, **flags: bool) -> None:
    from sync_engine.services import settings

    with Session(engine) as session:
        settings.save_mapping(session=session, connection_id=connection_id, actor="bench", form=settings.MappingForm(
            item_account_label="Services Revenue", undeposited_funds_account="1210", **flags))


def _incremental(engine: Any, handle: Any, connection_id: int) -> dict:
    from storage.models import Customer

    out: dict[str, Any] = {}
    run, elapsed = run_kind(engine, connection_id, "accounting_sync")
    out["first"] = {"seconds": elapsed, "requests": run.api_requests, "status": run.status}
    _log(f"first accounting sync after the imports: {elapsed:.1f} s, {run.api_requests} requests")
    with Session(engine) as session:
        ids = list(session.exec(select(Customer.intacct_customer_id).where(
            Customer.intacct_customer_id.is_not(None)).order_by(Customer.id).limit(1000)))
    for changes in (0, 10, 1000):
        if changes:
            _change_customers(handle, ids[:changes], f"c{changes}")
            time.sleep(1.5)  # WHENMODIFIED has whole seconds: let the changes fall before the run's window end
        run, elapsed = run_kind(engine, connection_id, "accounting_sync")
        out[str(changes)] = {"seconds": elapsed, "requests": run.api_requests, "status": run.status,
                             "updated": run.updated_count}
        _log(f"incremental sync, {changes} changes: {elapsed:.2f} s, {run.api_requests} requests, "
             f"{run.updated_count} updated")
    return out


def _add_ledger_writes(engine: Any, count: int) -> None:
    """`count` ledger invoices (one line each) of active imported customers and a payment paying each in full."""
    from storage.models import Customer, Invoice, InvoiceLine, Origin, Payment, PaymentApplication

    today = date.today()
    with Session(engine) as session:
        customers = list(session.exec(select(Customer).where(Customer.intacct_customer_id.is_not(None),
                                                             Customer.active == True)  # noqa: E712
                                      .order_by(Customer.id).limit(count)))
        invoices = []
        for n in range(count):
            customer = customers[n % len(customers)]
            amount = Decimal(100 + n % 900) + Decimal("0.25")
            invoice = Invoice(number=f"BENCH-{n + 1:05d}", customer_id=customer.id, invoice_date=today,  # type: ignore[arg-type]
                              due_date=today, total=amount, balance=amount, origin=Origin.LEDGER,
                              description="bench write")
            invoices.append((invoice, customer, amount))
        session.add_all([i for i, _, _ in invoices])
        session.flush()
        for n, (invoice, customer, amount) in enumerate(invoices):
            session.add(InvoiceLine(invoice_id=invoice.id, line_no=1, description="Consulting",  # type: ignore[arg-type]
                                    unit_price=amount, amount=amount))
            payment = Payment(customer_id=customer.id, reference=f"BP-{n + 1:05d}", received_on=today,  # type: ignore[arg-type]
                              amount=amount, origin=Origin.LEDGER)
            session.add(payment)
            session.flush()
            session.add(PaymentApplication(payment_id=payment.id, invoice_id=invoice.id, amount=amount))  # type: ignore[arg-type]
        session.commit()


def _writes(engine: Any, handle: Any, connection_id: int, count: int) -> dict:
    _add_ledger_writes(engine, count)
    _set_mapping(engine, connection_id, read_customers=False, read_invoices=False)
    handle.set_faults({"faults": [{"kind": "latency", "ms": LATENCY_MS}]})
    try:
        run, elapsed = run_kind(engine, connection_id, "accounting_sync")
    finally:
        handle.clear_faults()
        _set_mapping(engine, connection_id)
    records = 2 * count
    return {"records": records, "created": run.created_count, "failed": run.failed_count, "status": run.status,
            "requests": run.api_requests, "seconds": elapsed,
            "records_per_request": records / max(1, run.api_requests),
            "wall_over_floor": elapsed / (run.api_requests * LATENCY_MS / 1000)}


def _pages(ledger_url: str, engine: Any, run_id: int) -> dict:
    """Cold and warm AppTest renders of Invoices, Customers and the import's run detail."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from console import state
    from storage.db import read_session
    from sync_engine.services.sessions import start_session
    from sync_engine.services.users import create_user

    os.environ["DATABASE_URL"] = ledger_url
    st.cache_resource.clear()
    with read_session(engine) as session:
        user = create_user(session=session, username="bench-admin", password="bench-password-1", role="admin",
                           actor="bench")
    with read_session(engine) as session:
        _, console_session = start_session(session=session, user_id=user.id)  # as tests/console sign in
        token_hash = console_session.token_hash
    out: dict[str, Any] = {}
    for label, page, query in (("Invoices", state.INVOICES, None), ("Customers", state.CUSTOMERS, None),
                               ("Run detail (invoice import)", state.RUN_DETAIL, {"run": str(run_id)})):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.session_state["console_session"] = token_hash
        if query:
            at.query_params.update(query)
        at.run()
        started = time.perf_counter()
        at.switch_page(page).run()
        cold = time.perf_counter() - started
        warm = []
        for _ in range(2):
            started = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - started)
        problem = str(at.exception[0].value)[:200] if at.exception else None
        title = at.title[0].value if at.title else None
        tables = sum(len(df.value) for df in at.dataframe)
        out[label] = {"cold": cold, "warm": statistics.median(warm), "exception": problem, "title": title,
                      "rows_shown": tables}
        _log(f"page {label} ({title!r}, {tables} table rows): cold {cold:.2f} s, warm {statistics.median(warm):.2f} s"
             + (f" (exception: {problem})" if problem else ""))
    return out


def _machine() -> dict:
    model = ""
    with contextlib.suppress(OSError, StopIteration):
        model = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                     if ln.startswith("model name"))
    return {"host": platform.node(), "cpus": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "load": os.getloadavg()[0], "system": platform.platform()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--invoices", type=int, default=100000)
    parser.add_argument("--writes", type=int, default=2000, help="ledger invoices (and as many payments) to write")
    parser.add_argument("--skip", default="", help=f"comma-separated steps to leave out: {','.join(STEPS)}")
    parser.add_argument("--save-baseline", action="store_true",
                        help="store these figures as the 'before' column of bench/RESULTS.md")
    parser.add_argument("--label", default="", help="what was measured (e.g. the branch and commit)")
    args = parser.parse_args()
    skip = {s for s in args.skip.split(",") if s}
    os.environ.setdefault("CONSOLE_SECRET_KEY", Fernet.generate_key().decode())
    begun = time.perf_counter()
    results: dict[str, Any] = {"machine": _machine(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "size": {"customers": args.customers, "invoices": args.invoices, "writes": args.writes},
                               "label": args.label or report.git_label(ROOT)}
    _log(f"sandbox company with {args.customers:,} customers and {args.invoices:,} invoices…")
    started = time.perf_counter()
    cached, seeded = cached_company(args.customers, args.invoices)
    results["seed"] = {"seconds": time.perf_counter() - started, "cached": not seeded}
    _log(f"{'seeded' if seeded else 'cached'} company ready in {results['seed']['seconds']:.1f} s ({cached})")
    from storage.db import make_engine

    with tempfile.TemporaryDirectory(prefix="ar-bench-") as tmp:
        work = Path(tmp)
        handle = start_copy(cached, work / "sandbox")
        try:
            spec = {"sandbox": _sandbox_spec(handle)}
            ledger_url = f"sqlite:///{work / 'ledger.db'}"
            if "sqlite" not in skip:
                results["import_sqlite"] = _import(handle, {**spec, "ledger_url": ledger_url})
                _log(f"full import into SQLite: {report.import_line(results['import_sqlite'])}")
            if "pg" not in skip:
                pg_url, admin = _pg_database()
                try:
                    results["import_pg"] = _import(handle, {**spec, "ledger_url": pg_url})
                finally:
                    _drop_pg(pg_url, admin)
                _log(f"full import into PostgreSQL: {report.import_line(results['import_pg'])}")
            if "latency" not in skip:
                handle.set_faults({"faults": [{"kind": "latency", "ms": LATENCY_MS}]})
                try:
                    slow = _import(handle, {**spec, "ledger_url": f"sqlite:///{work / 'ledger-latency.db'}"})
                finally:
                    handle.clear_faults()
                slow["wall_over_floor"] = slow["seconds"] / (slow["requests"] * LATENCY_MS / 1000)
                results["import_latency"] = slow
                _log(f"full import at {LATENCY_MS} ms: {report.import_line(slow)}, "
                     f"wall/floor {slow['wall_over_floor']:.2f}")
            if "peer" not in skip:
                results["peer"] = _worker("peer", spec)
                _log(f"sageintacctsdk get_all: {results['peer']['records']:,} records in "
                     f"{results['peer']['seconds']:.1f} s")
            if "sqlite" not in skip:
                engine = make_engine(ledger_url)
                connection_id = 1
                if "incremental" not in skip:
                    results["incremental"] = _incremental(engine, handle, connection_id)
                if "writes" not in skip:
                    results["writes"] = _writes(engine, handle, connection_id, args.writes)
                    _log(f"writes: {results['writes']['records']:,} records in {results['writes']['requests']} "
                         f"requests, {results['writes']['seconds']:.1f} s, wall/floor "
                         f"{results['writes']['wall_over_floor']:.2f}")
                if "pages" not in skip:
                    run_id = results["import_sqlite"]["runs"]["invoice_import"]["id"]
                    results["pages"] = _pages(ledger_url, engine, run_id)
                engine.dispose()
        finally:
            handle.stop()
        if "progress" not in skip:  # a sandbox copy of its own, the console, the scheduler and Chromium
            results["progress"] = bench_progress.measure(cached, work / "progress")
            _log(f"progress panel in Chromium: {report.progress_line(results['progress'])}")
    results["total_seconds"] = time.perf_counter() - begun
    report.write(results, save_baseline=args.save_baseline)
    print(report.table(results))
    _log(f"bench finished in {results['total_seconds'] / 60:.1f} min; bench/RESULTS.md rewritten")


if __name__ == "__main__":
    main()
