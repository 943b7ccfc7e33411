"""One sync or import run, start to finish: the entry point the scheduler calls for a claimed run.

Run kinds and their steps:
- accounting sync: pull customers, invoices and the payments made in Intacct (incremental), push ledger
  invoices (and their customers), push ledger payments (and reversals of voided ones), then read back what
  the writes changed; each step switched by the mapping's direction flags; invoices are written before payments.
- customer import: every customer (or active ones only), one time.
- invoice import: every outstanding invoice with its lines, one time.

A failed record never stops the others (it is an item of the run). An authentication failure stops the
run and marks the connection failing; a transient failure that outlasted the retries fails the step.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import lost_by_idle_timeout, write_session
from storage.models import AccountMapping, ConnectionStatus, IntacctConnection, ItemAction, RunKind, RunStatus, SyncRun
from storage.secrets import SecretKeyMismatch
from storage.types import utcnow
from sync_engine.intacct.errors import AuthenticationError, IntacctError
from sync_engine.sync import deletions, exports, imports, payments, payments_import, readback
from sync_engine.sync.run_context import RunContext, RunStopped
from sync_engine.sync.stored_connection import client_for, get_mapping

log = logging.getLogger(__name__)

ClientFactory = Callable[[IntacctConnection], object]
STALLED = ("The scheduler stalled inside a database transaction for longer than the database allows "
           "(DATABASE_IDLE_IN_TRANSACTION_SECONDS), so the database ended it; nothing of that step was saved. "
           "Writes in flight are looked up in Intacct on the next run before anything is sent again.")


def _steps(kind: str, mapping: AccountMapping, options: dict) -> list[tuple[str, Callable[[RunContext], None]]]:
    if kind == RunKind.CUSTOMER_IMPORT:
        return [("customers", lambda ctx: imports.import_customers(
            ctx, incremental=False, active_only=bool(options.get("active_only", mapping.active_customers_only))))]
    if kind == RunKind.INVOICE_IMPORT:
        return [("invoices", lambda ctx: imports.import_invoices(
            ctx, incremental=False, after_page=payments_import.attach_payments))]
    steps: list[tuple[str, Callable[[RunContext], None]]] = []
    if options.get("only") is not None:  # "Retry this record": write the chosen records, then read back just those
        return [("invoice_writes", exports.write_invoices), ("payment_writes", payments.write_payments),
                ("read_back", readback.read_back)]
    if mapping.read_customers:
        steps.append(("customers", lambda ctx: imports.import_customers(
            ctx, incremental=True, active_only=mapping.active_customers_only)))
    if mapping.read_invoices:
        steps.append(("invoices", lambda ctx: imports.import_invoices(
            ctx, incremental=True, after_page=payments_import.attach_payments)))
        steps.append(("payments", lambda ctx: payments_import.import_payments(ctx, incremental=True)))
        steps.append(("deletion_sweep", deletions.sweep_deleted))
    if mapping.write_invoices:
        steps.append(("invoice_writes", exports.write_invoices))
    if mapping.write_payments:
        steps.append(("payment_writes", payments.write_payments))
    steps.append(("read_back", readback.read_back))
    return steps


def _finish(engine: Engine, run_id: int, status: str, *, category: str | None = None, message: str | None = None,
            ctx: RunContext | None = None) -> str:
    if ctx is not None:
        try:
            ctx.flush()
        except Exception:  # noqa: BLE001 - the final status matters more than the last counters
            log.exception("could not flush run %s counters", run_id)
    with write_session(engine) as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        if run.status != RunStatus.RUNNING:
            # Another scheduler already settled it (e.g. abandoned after our lease expired): keep its verdict.
            return run.status
        run.status, run.finished_at = status, utcnow()
        run.error_category, run.error_message = category, message
        if ctx is not None:
            run.api_requests = ctx.client.requests_sent
        session.add(run)
    return status


def _mark_connection_failing(engine: Engine, connection_id: int, message: str) -> None:
    with write_session(engine) as session:
        connection = session.get(IntacctConnection, connection_id)
        if connection is not None:
            connection.status, connection.last_test_message, connection.last_tested_at = (
                ConnectionStatus.FAILING, message, utcnow())
            session.add(connection)


def execute_run(
    *, engine: Engine, run_id: int, holder: str, stop: threading.Event,
    on_progress: Callable[[str], None] | None = None, client_factory: ClientFactory | None = None,
) -> str:
    """Run one claimed run to its end and return its final status."""
    with Session(engine, expire_on_commit=False) as session:
        run = session.get(SyncRun, run_id)
        if run is None:
            raise ValueError(f"run {run_id} does not exist")
        connection = session.get(IntacctConnection, run.connection_id)
        mapping = get_mapping(session=session, connection_id=run.connection_id) if connection else None
        kind, options, started_at = run.kind, dict(run.options or {}), run.started_at or utcnow()
    if connection is None or mapping is None:
        return _finish(engine, run_id, RunStatus.FAILED, category="configuration",
                       message="The Intacct connection is not set up: open Connection first.")
    try:
        client = (client_factory or client_for)(connection)
    except SecretKeyMismatch as exc:
        return _finish(engine, run_id, RunStatus.FAILED, category="authentication", message=str(exc))
    ctx = RunContext(engine=engine, run_id=run_id, client=client, connection=connection, mapping=mapping,  # type: ignore[arg-type]
                     started_at=started_at, options=options, stop=stop, on_progress=on_progress)
    failed_steps: list[str] = []
    try:
        for name, step in _steps(kind, mapping, options):
            ctx.check_stop()
            try:
                step(ctx)
            except AuthenticationError:
                raise
            except IntacctError as exc:
                log.warning("run %s step %s failed: %s", run_id, name, exc)
                failed_steps.append(f"{name}: {exc.user_message}")
                if kind != RunKind.ACCOUNTING_SYNC:
                    break
    except RunStopped:
        return _finish(engine, run_id, RunStatus.INTERRUPTED, ctx=ctx,
                       message="Stopped before the end; the next run picks up where this one stopped.")
    except AuthenticationError as exc:
        _mark_connection_failing(engine, connection.id, exc.user_message)  # type: ignore[arg-type]
        return _finish(engine, run_id, RunStatus.FAILED, category="authentication", message=exc.user_message, ctx=ctx)
    except Exception as exc:  # noqa: BLE001 - a crash must still end the run with a reason
        if lost_by_idle_timeout(exc):
            # Frozen or stalled inside a transaction past the database's limit: the server rolled it back and
            # closed the session (the pool opens a new one). Its journal rows are settled by the next run's look-ups.
            log.error("run %s stalled inside a database transaction and the database ended it", run_id)
            return _finish(engine, run_id, RunStatus.INTERRUPTED, category="transient", ctx=ctx, message=STALLED)
        log.exception("run %s crashed", run_id)
        return _finish(engine, run_id, RunStatus.FAILED, category="internal", ctx=ctx,
                       message=f"The run stopped on an unexpected error: {exc.__class__.__name__}: {exc}")
    if failed_steps:
        status = RunStatus.PARTLY_FAILED if any(ctx.counts.values()) else RunStatus.FAILED
        return _finish(engine, run_id, status, category="transient", message="; ".join(failed_steps), ctx=ctx)
    status = RunStatus.PARTLY_FAILED if ctx.counts[ItemAction.FAILED] else RunStatus.SUCCEEDED
    return _finish(engine, run_id, status, ctx=ctx)
