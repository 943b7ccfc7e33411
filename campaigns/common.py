"""What the campaigns share: a sandbox and a fresh ledger database, a seeded ledger, and the comparison of the
sandbox with the ledger after the dust settles (duplicates, missing records, balances)."""
from __future__ import annotations

import os
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from storage.db import make_engine
from storage.migrate import upgrade_database
from storage.models import (Customer, Invoice, InvoiceLine, JournalState, Payment, PaymentApplication, RunStatus,
                            SyncRun, WriteJournal)
from sync_engine import leases, queue, runs
from tests.engine.helpers import connect, sandbox_query
from tests.fixtures.sandbox import SandboxHandle, start_sandbox

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PREFIX = "CMP"


@dataclass
class Bench:
    workdir: Path
    url: str
    engine: Engine
    sandbox: SandboxHandle
    connection_id: int = 0


@contextmanager
def bench(backend: str = "sqlite", *, mapping: dict | None = None) -> Iterator[Bench]:
    """A sandbox, a fresh migrated database (`sqlite` file or `postgresql`) and a connection between them."""
    with tempfile.TemporaryDirectory(prefix="campaign-") as tmp:
        workdir = Path(tmp)
        with _database(backend, workdir) as url:
            engine = make_engine(url)
            upgrade_database(engine)
            sandbox = start_sandbox(workdir / "sandbox", seed="minimal")
            try:
                with Session(engine) as session:
                    # Every step a user's sync runs (reads included): a campaign never switches one off.
                    connection_id = connect(session, sandbox, **(mapping or {}))
                yield Bench(workdir, url, engine, sandbox, connection_id)
            finally:
                sandbox.stop()
                engine.dispose()


@contextmanager
def _database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'ledger.db'}"
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"campaign_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed_ledger(engine: Engine, *, invoices: int, payments: int, per_customer: int = 20, start: int = 0) -> None:
    """Ledger-origin invoices (one line each) spread over customers, and payments of half of the first ones;
    numbered from `start` (so several batches can be added to one ledger)."""
    with Session(engine) as session:
        customers: dict[int, Customer] = {}
        for n in range(start // per_customer, (start + invoices - 1) // per_customer + 1):
            number = f"{PREFIX}-C{n:04}"
            customer = session.exec(select(Customer).where(Customer.number == number)).first()
            if customer is None:
                customer = Customer(number=number, name=f"Campaign customer {n}", email="ap@example.test")
                session.add(customer)
            customers[n] = customer
        session.flush()
        made = []
        for n in range(invoices):
            amount = Decimal(100 + (start + n) % 900) + Decimal("0.50")
            invoice = Invoice(number=f"{PREFIX}-I{start + n:05}", customer_id=customers[(start + n) // per_customer].id,
                              invoice_date=date(2026, 11, 2), due_date=date(2026, 12, 2), total=amount, balance=amount,
                              description="Campaign")
            session.add(invoice)
            made.append(invoice)
        session.flush()
        for invoice in made:
            session.add(InvoiceLine(invoice_id=invoice.id, line_no=1, description="Work", amount=invoice.total,
                                    unit_price=invoice.total))
        for invoice in made[:payments]:
            half = (invoice.total / 2).quantize(Decimal("0.01"))
            payment = Payment(customer_id=invoice.customer_id, reference=f"{PREFIX}-P{invoice.id:05}",
                              received_on=date(2026, 11, 20), amount=half, method="EFT")
            session.add(payment)
            session.flush()
            session.add(PaymentApplication(payment_id=payment.id, invoice_id=invoice.id, amount=half))
            invoice.amount_paid, invoice.balance = half, invoice.total - half
            invoice.status = "partially_paid"
            session.add(invoice)
        session.commit()


def run_here(engine: Engine, connection_id: int, holder: str = "campaign") -> SyncRun:
    """Queue an accounting sync, claim it and run it in this process; the finished run."""
    with Session(engine) as session:
        queued = queue.enqueue_run(session=session, connection_id=connection_id, kind="accounting_sync",
                                   requested_by="campaign")
    claimed = leases.claim_next_run(engine=engine, holder=holder)
    assert claimed is not None and claimed.id == queued.id, "another run holds the connection"
    runs.execute_run(engine=engine, run_id=claimed.id, holder=holder, stop=threading.Event())
    leases.release_lease(engine=engine, holder=holder, run_id=claimed.id)
    with Session(engine) as session:
        return session.get(SyncRun, claimed.id)  # type: ignore[return-value]


def settle(engine: Engine, connection_id: int, *, max_runs: int = 6) -> list[str]:
    """Run syncs until one succeeds with nothing left to write; the statuses of the runs it took."""
    statuses = []
    for _ in range(max_runs):
        run = run_here(engine, connection_id)
        statuses.append(run.status)
        if run.status == RunStatus.SUCCEEDED and not pending(engine):
            break
    return statuses


def pending(engine: Engine) -> int:
    with Session(engine) as session:
        return sum(session.exec(select(func.count()).select_from(model).where(model.intacct_recordno.is_(None),
                                                                            model.origin == "ledger")).one()
                   for model in (Invoice, Payment))


@dataclass
class Comparison:
    invoices: int
    payments: int
    duplicate_invoices: int
    missing_invoices: int
    duplicate_payments: int
    missing_payments: int
    balance_mismatches: int
    ledger_balance: Decimal
    intacct_balance: Decimal
    journal: dict[str, int]

    @property
    def clean(self) -> bool:
        return not (self.duplicate_invoices or self.missing_invoices or self.duplicate_payments
                    or self.missing_payments or self.balance_mismatches
                    or self.journal.get(JournalState.UNCERTAIN, 0) or self.journal.get(JournalState.SENT, 0))

    def lines(self) -> list[str]:
        return [f"invoices: {self.invoices:,} in the ledger, {self.duplicate_invoices} duplicated and "
                f"{self.missing_invoices} missing in Intacct",
                f"payments: {self.payments:,} in the ledger, {self.duplicate_payments} duplicated and "
                f"{self.missing_payments} missing in Intacct",
                f"balances: ledger {self.ledger_balance:,.2f}, Intacct {self.intacct_balance:,.2f}, "
                f"{self.balance_mismatches} customer(s) differ",
                "journal: " + ", ".join(f"{state} {count:,}" for state, count in sorted(self.journal.items()))]


def compare(engine: Engine, sandbox: SandboxHandle) -> Comparison:
    """The ledger against the sandbox, customer by customer (each query stays under one page)."""
    with Session(engine) as session:
        customers = list(session.exec(select(Customer).where(Customer.number.like(f"{PREFIX}-%"))))
        invoices = list(session.exec(select(Invoice).where(Invoice.number.like(f"{PREFIX}-%"))))
        payments = list(session.exec(select(Payment).where(Payment.reference.like(f"{PREFIX}-%"))))
        journal = Counter(session.exec(select(WriteJournal.state)).all())
    seen_invoices: Counter[str] = Counter()
    seen_payments: Counter[str] = Counter()
    mismatches = 0
    ledger_total = intacct_total = Decimal("0")
    for customer in customers:
        where = f"CUSTOMERID = '{customer.number}'"
        seen_invoices.update(r["RECORDID"] for r in sandbox_query(sandbox, "ARINVOICE", ["RECORDID"], where))
        seen_payments.update(r["DOCNUMBER"] for r in sandbox_query(sandbox, "ARPYMT", ["DOCNUMBER"], where))
        remote = sandbox_query(sandbox, "CUSTOMER", ["TOTALDUE"], where)
        ours = sum((i.balance for i in invoices if i.customer_id == customer.id), Decimal("0"))
        theirs = Decimal(remote[0]["TOTALDUE"] or "0") if remote else Decimal("0")
        ledger_total += ours
        intacct_total += theirs
        mismatches += ours != theirs
    return Comparison(
        invoices=len(invoices), payments=len(payments),
        duplicate_invoices=sum(c - 1 for c in seen_invoices.values() if c > 1),
        missing_invoices=sum(1 for i in invoices if seen_invoices[i.number] == 0),
        duplicate_payments=sum(c - 1 for c in seen_payments.values() if c > 1),
        missing_payments=sum(1 for p in payments if seen_payments[p.reference] == 0),
        balance_mismatches=mismatches, ledger_balance=ledger_total, intacct_balance=intacct_total,
        journal=dict(journal))
