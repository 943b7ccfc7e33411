"""Exactly-once writes to Intacct through a write journal.

Before a create or reverse is sent, a WriteJournal row is committed with a deterministic function
controlid (sent with uniqueid=true, so Intacct itself refuses a repeat). After the call the row becomes
`confirmed` (key stored on the ledger record in the same transaction), `failed` (Intacct refused it; the
next attempt gets a new controlid) or `uncertain` (the answer was lost). An uncertain or in-flight row is
never re-sent blindly: the record is looked up in Intacct first and adopted when found.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, event, update
from sqlmodel import Session, SQLModel, select

from storage.db import read_session, write_session
from storage.models import ItemAction, JournalState, PaymentApplication, SyncState, WriteJournal
from storage.types import utcnow
from sync_engine import amounts
from sync_engine.intacct.errors import (AmbiguousWriteError, DuplicateControlIdError, IntacctError, RecordError,
                                        RequestError, TransientError)
from sync_engine.intacct.functions import Function
from sync_engine.intacct.pipeline import MAX_FUNCTIONS_PER_REQUEST, Outcome, RequestPipeline
from sync_engine.leases import check_fence
from sync_engine.ledger import RECORD_MODELS
from sync_engine.run_context import RunContext

IN_FLIGHT = (JournalState.PENDING, JournalState.SENT, JournalState.UNCERTAIN)
log = logging.getLogger(__name__)


def _store_key(key: str) -> dict[str, Any]:
    return {"intacct_recordno": key}


@dataclass
class WriteSpec:
    """One write the journal should make happen exactly once."""

    operation: str  # create_customer | create_invoice | reverse_invoice | create_payment
    model: type[SQLModel]  # the ledger table of the record (Customer, Invoice, Payment)
    record_type: str
    record_id: int
    label: str
    payload: dict[str, Any]
    build: Callable[[str], Function]  # controlid -> the function to send
    lookup: Callable[[], str | None]  # the Intacct key if the record already exists there
    confirmed_values: Callable[[str], dict[str, Any]] = _store_key  # ledger fields to set once Intacct has it
    failure_prefix: str = ""  # put before Intacct's message on the ledger record
    created_action: str = ItemAction.CREATED

    def confirmed_row(self, key: str, *, connection_id: int) -> dict[str, Any]:
        """The ledger fields to set once Intacct has the record under `key`."""
        return {**self.confirmed_values(key), "connection_id": connection_id, "sync_state": SyncState.SYNCED,
                "sync_error": None, "updated_at": utcnow()}

    def on_confirmed(self, session: Session, key: str, *, connection_id: int) -> None:
        self._update(session, self.confirmed_row(key, connection_id=connection_id))

    def on_failed(self, session: Session, error: IntacctError) -> None:
        self._update(session, {"sync_state": SyncState.FAILED, "sync_error": self.failure_prefix + error.user_message})

    def _update(self, session: Session, values: dict[str, Any]) -> None:
        row = session.get(self.model, self.record_id)
        assert row is not None, f"{self.label} vanished from the ledger"
        for field, value in values.items():
            setattr(row, field, value)
        session.add(row)


def payload_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def controlid_for(operation: str, record_type: str, record_id: int, attempt: int) -> str:
    return f"{operation}-{record_type}-{record_id}-a{attempt}"


def latest_entry(session: Session, *, connection_id: int, operation: str, record_type: str, record_id: int) -> WriteJournal | None:
    return session.exec(
        select(WriteJournal).where(
            WriteJournal.connection_id == connection_id, WriteJournal.operation == operation,
            WriteJournal.record_type == record_type, WriteJournal.record_id == record_id)
        .order_by(WriteJournal.attempt.desc())
    ).first()


def _refresh_paid_invoices(session: Session, record_type: str, record_ids: Sequence[int], *,
                           run_id: int | None = None, source: str = "export") -> None:
    """A payment that becomes confirmed stops counting as 'not yet in Intacct' in its invoices' derived amounts
    (sync_engine.amounts): derive them again now, or an invoice read while the payment was uncertain would count
    it twice (once in Intacct's TOTALPAID, once as pending) until something else touches it."""
    if record_type != "payment" or not record_ids:
        return
    session.flush()
    invoice_ids = session.exec(select(PaymentApplication.invoice_id).where(
        PaymentApplication.payment_id.in_(list(record_ids)))).all()  # type: ignore[attr-defined]
    amounts.refresh_with_versions(session, invoice_ids, run_id=run_id, source=source)


def adopt_in_flight(session: Session, *, connection_id: int, record_type: str, record_id: int, key: str) -> bool:
    """An import found in Intacct a record whose create is still unconfirmed here: settle the journal with its key.

    Returns whether there was such an entry (so the record is ours, not a stranger with the same number).
    """
    entries = list(session.exec(select(WriteJournal).where(
        WriteJournal.connection_id == connection_id, WriteJournal.record_type == record_type,
        WriteJournal.record_id == record_id, WriteJournal.operation.startswith("create"),  # type: ignore[attr-defined]
        WriteJournal.state.in_(IN_FLIGHT))))  # type: ignore[attr-defined]
    for entry in entries:
        entry.state, entry.intacct_key, entry.updated_at = JournalState.CONFIRMED, key, utcnow()
        entry.last_error = "found in Intacct by an import after an uncertain outcome"
        session.add(entry)
    if entries and record_type == "payment":
        # The caller links the payment (sets its key) after this returns: derive its invoices when it commits.
        pending = session.info.setdefault("adopted_payments", set())
        if not pending:
            event.listen(session, "before_commit", _refresh_adopted, once=True)
        pending.add(record_id)
    return bool(entries)


def _refresh_adopted(session: Session) -> None:
    _refresh_paid_invoices(session, "payment", sorted(session.info.pop("adopted_payments", set())), source="import")


def settle_linked(session: Session, *, connection_id: int) -> int:
    """Confirm every unconfirmed create whose ledger record now carries an Intacct key; return how many.

    Whatever linked the record (an import that read it back, the look-up of customers Intacct already has, a
    person) settled the question the uncertain row was keeping open: the record is in Intacct under that key,
    and no write of it will be sent again. Without this, such rows would stay `uncertain` for ever.
    """
    settled = 0
    for record_type, model in RECORD_MODELS.items():
        rows = session.exec(
            select(WriteJournal, model.intacct_recordno)  # type: ignore[attr-defined]
            .join(model, model.id == WriteJournal.record_id)  # type: ignore[attr-defined]
            .where(WriteJournal.connection_id == connection_id, WriteJournal.record_type == record_type,
                   WriteJournal.operation.startswith("create"),  # type: ignore[attr-defined]
                   WriteJournal.state.in_(IN_FLIGHT),  # type: ignore[attr-defined]
                   model.intacct_recordno.is_not(None))).all()  # type: ignore[attr-defined]
        for entry, key in rows:
            entry.state, entry.intacct_key, entry.updated_at = JournalState.CONFIRMED, key, utcnow()
            entry.last_error = "settled: the record was linked to this Intacct record after an uncertain outcome"
            session.add(entry)
            settled += 1
        _refresh_paid_invoices(session, record_type, [entry.record_id for entry, _ in rows])
    return settled




def _key_of(result: Any) -> str | None:
    if result.key:
        return str(result.key)
    for record in result.records or []:
        for name in ("RECORDNO", "recordno"):
            if record.get(name):
                return str(record[name])
    return None


def _confirm(ctx: RunContext, spec: WriteSpec, entry_id: int, key: str, *, recovered: bool) -> None:
    with write_session(ctx.engine) as session:
        _confirm_in(session, ctx, spec, entry_id, key, recovered=recovered)


def _confirm_in(session: Session, ctx: RunContext, spec: WriteSpec, entry_id: int, key: str, *,
                recovered: bool) -> None:
    entry = session.get(WriteJournal, entry_id)
    assert entry is not None
    entry.state, entry.intacct_key, entry.updated_at = JournalState.CONFIRMED, key, utcnow()
    entry.last_error = "found in Intacct after an uncertain outcome" if recovered else None
    session.add(entry)
    spec.on_confirmed(session, key, connection_id=ctx.connection_id)
    _refresh_paid_invoices(session, spec.record_type, [spec.record_id], run_id=ctx.run_id)
    ctx.written.add((spec.record_type, spec.record_id))
    message = "Already in Intacct from an earlier interrupted attempt: linked, not sent again." if recovered else None
    ctx.item(session, record_type=spec.record_type, label=spec.label, action=spec.created_action,
             record_id=spec.record_id, intacct_key=key, message=message)


def _fail(ctx: RunContext, spec: WriteSpec, entry_id: int, error: IntacctError, state: str) -> None:
    with write_session(ctx.engine) as session:
        _fail_in(session, ctx, spec, entry_id, error, state)


def _fail_in(session: Session, ctx: RunContext, spec: WriteSpec, entry_id: int, error: IntacctError,
             state: str) -> None:
    entry = session.get(WriteJournal, entry_id)
    assert entry is not None
    entry.state, entry.last_error, entry.updated_at = state, error.user_message, utcnow()
    session.add(entry)
    spec.on_failed(session, error)
    ctx.item(session, record_type=spec.record_type, label=spec.label, action=ItemAction.FAILED,
             record_id=spec.record_id, error=error)


def _prepare(ctx: RunContext, spec: WriteSpec) -> tuple[int, str, bool] | None:
    """Return (journal id, controlid, whether it repeats an earlier attempt) to send, or None when the record was
    found already written."""
    with write_session(ctx.engine) as session:
        entry = latest_entry(session, connection_id=ctx.connection_id, operation=spec.operation,
                             record_type=spec.record_type, record_id=spec.record_id)
        previous_state = entry.state if entry else None
        entry_id = entry.id if entry else None
    if previous_state == JournalState.CONFIRMED and entry is not None and entry.intacct_key:
        _confirm(ctx, spec, entry_id, entry.intacct_key, recovered=True)  # type: ignore[arg-type]
        return None
    repeat = previous_state in IN_FLIGHT
    if repeat:
        key = spec.lookup()  # may raise: the record then waits for the next run
        if key:
            _confirm(ctx, spec, entry_id, key, recovered=True)  # type: ignore[arg-type]
            return None
    with write_session(ctx.engine) as session:
        if previous_state in IN_FLIGHT:
            entry = session.get(WriteJournal, entry_id)  # not in Intacct: resend under the same controlid
        else:
            attempt = (entry.attempt + 1) if entry else 1
            entry = WriteJournal(
                connection_id=ctx.connection_id, operation=spec.operation, record_type=spec.record_type,
                record_id=spec.record_id, attempt=attempt,
                controlid=controlid_for(spec.operation, spec.record_type, spec.record_id, attempt),
                payload_hash=payload_hash(spec.payload),
            )
        assert entry is not None
        # Fencing: the lease is checked in the transaction that journals the send, so a scheduler that lost it
        # (frozen, cut off) stops here instead of writing behind the back of the one that took over.
        check_fence(session, run_id=ctx.run_id, connection_id=ctx.connection_id)
        entry.state, entry.run_id, entry.updated_at = JournalState.SENT, ctx.run_id, utcnow()
        session.add(entry)
        session.flush()
        return entry.id, entry.controlid, repeat  # type: ignore[return-value]


def _resolve_uncertain(ctx: RunContext, spec: WriteSpec, entry_id: int, controlid: str, error: IntacctError) -> None:
    """The answer was lost: look the record up; if it is not there, send once more under the same controlid."""
    with write_session(ctx.engine) as session:
        entry = session.get(WriteJournal, entry_id)
        assert entry is not None
        entry.state, entry.last_error, entry.updated_at = JournalState.UNCERTAIN, error.user_message, utcnow()
        session.add(entry)
    try:
        key = spec.lookup()
        if not key:
            with write_session(ctx.engine) as session:
                check_fence(session, run_id=ctx.run_id, connection_id=ctx.connection_id)  # before sending again
        if key:
            _confirm(ctx, spec, entry_id, key, recovered=True)
            return
        result = ctx.client.call(spec.build(controlid), repeat=True)
        key = _key_of(result)
        if key:
            _confirm(ctx, spec, entry_id, key, recovered=False)
            return
    except DuplicateControlIdError as refused:
        _after_refused_repeat(ctx, spec, entry_id, refused)
        return
    except RecordError as refused:
        _fail(ctx, spec, entry_id, refused, JournalState.FAILED)
        return
    except (AmbiguousWriteError, TransientError) as again:
        error = again
    with write_session(ctx.engine) as session:
        ctx.item(session, record_type=spec.record_type, label=spec.label, action=ItemAction.FAILED,
                 record_id=spec.record_id, error=error, category="ambiguous",
                 message=f"{error.user_message} Intacct may have received it: it will be looked up, "
                         "not re-sent blindly, on the next run.")


def _after_refused_repeat(ctx: RunContext, spec: WriteSpec, entry_id: int, refused: IntacctError) -> None:
    """Intacct refused a write sent again under an earlier attempt's controlid, for whatever reason (its duplicate
    guard answers in no documented shape): our lookup decides. Found = the earlier attempt was applied."""
    try:
        key = spec.lookup()
    except (AmbiguousWriteError, TransientError):
        return  # stays uncertain: looked up again on the next run
    if key:
        _confirm(ctx, spec, entry_id, key, recovered=True)
    else:
        _fail(ctx, spec, entry_id, refused, JournalState.FAILED)


Prepared = tuple[WriteSpec, int, str, bool]  # the spec, its journal row id, the controlid sent, a repeat?


def _latest_entries(session: Session, ctx: RunContext, specs: Sequence[WriteSpec]) -> dict[tuple, WriteJournal]:
    """The latest journal row of each spec's (operation, record), in one query."""
    wanted = {(s.operation, s.record_type, s.record_id) for s in specs}
    latest: dict[tuple, WriteJournal] = {}
    for entry in session.exec(select(WriteJournal).where(
            WriteJournal.connection_id == ctx.connection_id,
            WriteJournal.record_type.in_({s.record_type for s in specs}),
            WriteJournal.record_id.in_({s.record_id for s in specs}))):
        key = (entry.operation, entry.record_type, entry.record_id)
        if key in wanted and (key not in latest or entry.attempt > latest[key].attempt):
            latest[key] = entry
    return latest


def _prepare_many(ctx: RunContext, specs: Sequence[WriteSpec]) -> list[Prepared]:
    """Journal rows for a batch, committed as `sent` before it goes out: one transaction for the common case
    (never sent, or refused before); records with an earlier confirmed or unsettled attempt go through the
    one-by-one path that looks them up in Intacct first."""
    with Session(ctx.engine) as session:
        latest = _latest_entries(session, ctx, specs)
    fresh: list[WriteSpec] = []
    prepared: dict[int, Prepared] = {}
    for index, spec in enumerate(specs):
        entry = latest.get((spec.operation, spec.record_type, spec.record_id))
        if entry is None or entry.state == JournalState.FAILED:
            fresh.append(spec)
            continue
        try:
            one = _prepare(ctx, spec)
        except (TransientError, AmbiguousWriteError) as exc:
            with write_session(ctx.engine) as session:
                ctx.item(session, record_type=spec.record_type, label=spec.label, action=ItemAction.FAILED,
                         record_id=spec.record_id, error=exc,
                         message=f"Could not check Intacct for an earlier attempt: {exc.user_message}")
            continue
        if one is not None:
            prepared[index] = (spec, *one)
    if fresh:
        with write_session(ctx.engine) as session:
            # Fencing, as in _prepare: checked in the transaction that journals the sends.
            check_fence(session, run_id=ctx.run_id, connection_id=ctx.connection_id)
            rows = []
            for spec in fresh:
                previous = latest.get((spec.operation, spec.record_type, spec.record_id))
                attempt = previous.attempt + 1 if previous else 1
                row = WriteJournal(
                    connection_id=ctx.connection_id, operation=spec.operation, record_type=spec.record_type,
                    record_id=spec.record_id, attempt=attempt, state=JournalState.SENT, run_id=ctx.run_id,
                    controlid=controlid_for(spec.operation, spec.record_type, spec.record_id, attempt),
                    payload_hash=payload_hash(spec.payload))
                session.add(row)
                rows.append((spec, row))
            session.flush()
            by_spec = {id(spec): (spec, row.id, row.controlid, False) for spec, row in rows}
        for index, spec in enumerate(specs):
            if id(spec) in by_spec:
                prepared[index] = by_spec[id(spec)]  # type: ignore[assignment]
    return [prepared[i] for i in sorted(prepared)]


def _confirm_many(session: Session, ctx: RunContext, confirmed: list[tuple[WriteSpec, int, str]]) -> None:
    """Settle a batch's successes with one UPDATE per table (executemany) and one insert of run items:
    the same rows `_confirm_in` writes one by one."""
    if not confirmed:
        return
    now = utcnow()
    session.execute(update(WriteJournal.__table__).where(WriteJournal.__table__.c.id == bindparam("entry_id")),  # type: ignore[attr-defined]
                    [{"entry_id": entry_id, "state": JournalState.CONFIRMED, "intacct_key": key, "updated_at": now,
                      "last_error": None} for _, entry_id, key in confirmed])
    groups: dict[tuple[type[SQLModel], tuple[str, ...]], list[dict[str, Any]]] = {}
    for spec, _, key in confirmed:
        row = spec.confirmed_row(key, connection_id=ctx.connection_id)
        groups.setdefault((spec.model, tuple(sorted(row))), []).append({**row, "record_pk": spec.record_id})
        ctx.written.add((spec.record_type, spec.record_id))
    for (model, _), rows in groups.items():
        table = model.__table__  # type: ignore[attr-defined]
        session.execute(update(table).where(table.c.id == bindparam("record_pk")), rows)
    ctx.add_items(session, [{"record_type": spec.record_type, "label": spec.label, "action": spec.created_action,
                             "record_id": spec.record_id, "intacct_key": key} for spec, _, key in confirmed])


def _settle(ctx: RunContext, outcome: Outcome[list[Prepared]]) -> None:
    """Record one request's outcome: per function when Intacct answered, for the whole batch when it did not."""
    batch = outcome.tag
    error = outcome.error
    if error is not None:
        if isinstance(error, RequestError):
            # The gateway refused the whole request, so nothing ran: a later attempt may safely send anew.
            with write_session(ctx.engine) as session:
                for spec, entry_id, _, _ in batch:
                    _fail_in(session, ctx, spec, entry_id, error, JournalState.FAILED)
        elif isinstance(error, (AmbiguousWriteError, TransientError)):
            for spec, entry_id, controlid, _ in batch:
                _resolve_uncertain(ctx, spec, entry_id, controlid, error)
        else:
            raise error
    else:
        unsettled: list[tuple[Prepared, IntacctError]] = []
        refused_repeats: list[tuple[Prepared, IntacctError]] = []
        with write_session(ctx.engine) as session:
            confirmed: list[tuple[WriteSpec, int, str]] = []
            for prepared, result in zip(batch, outcome.results or []):
                spec, entry_id, _, _ = prepared
                key = _key_of(result) if result.ok else None
                if result.ok and key:
                    confirmed.append((spec, entry_id, key))
                elif isinstance(result.error, DuplicateControlIdError):
                    refused_repeats.append((prepared, result.error))
                elif result.error is not None:
                    _fail_in(session, ctx, spec, entry_id, result.error, JournalState.FAILED)
                else:
                    unsettled.append((prepared, AmbiguousWriteError("Intacct answered without the new record's key.")))
            _confirm_many(session, ctx, confirmed)
        for (spec, entry_id, _, _), refused in refused_repeats:
            _after_refused_repeat(ctx, spec, entry_id, refused)
        for (spec, entry_id, controlid, _), why in unsettled:
            _resolve_uncertain(ctx, spec, entry_id, controlid, why)
    ctx.advance(len(batch))
    ctx.flush()


def write_all(ctx: RunContext, specs: Sequence[WriteSpec], *, batch_size: int = MAX_FUNCTIONS_PER_REQUEST,
              depth: int = 2) -> None:
    """Send the writes, up to `batch_size` functions per request and `depth` requests in flight, each
    function's outcome handled on its own. The next batch's journal rows are prepared (and committed) while
    the previous batch is on the wire; a batch is never sent before its rows say `sent`."""
    if ctx.preview:
        _preview(ctx, specs)
        return
    with write_session(ctx.engine) as session:
        settle_linked(session, connection_id=ctx.connection_id)

    def send(functions: Sequence[Function], *, repeats: set[str]) -> list:
        with read_session(ctx.engine) as session:
            # Again just before the request, on the sending thread: a scheduler frozen since it journaled
            # the batch stops here, in a plain read that holds no lock.
            check_fence(session, run_id=ctx.run_id, connection_id=ctx.connection_id, lock=False)
        return ctx.client.execute(functions, repeats=repeats)

    pipeline: RequestPipeline[list[Prepared]] = RequestPipeline(send, depth=depth)
    try:
        for start in range(0, len(specs), batch_size):
            ctx.check_stop()
            chunk = specs[start:start + batch_size]
            batch = _prepare_many(ctx, chunk)
            ctx.advance(len(chunk) - len(batch))
            if batch:
                pipeline.submit(batch, [spec.build(controlid) for spec, _, controlid, _ in batch],
                                repeats={controlid for _, _, controlid, repeat in batch if repeat})
            for outcome in pipeline.completed():
                _settle(ctx, outcome)
    except BaseException:
        # Stopping or failing: still record what the requests on the wire did; their errors must not hide ours.
        for outcome in pipeline.drain():
            try:
                _settle(ctx, outcome)
            except Exception:  # noqa: BLE001 - the rows stay 'sent' and are looked up on the next run
                log.exception("could not record the outcome of a write batch")
        raise
    else:
        for outcome in pipeline.drain():
            _settle(ctx, outcome)
    finally:
        pipeline.close()


def _preview(ctx: RunContext, specs: Sequence[WriteSpec]) -> None:
    """List what would be sent, without calling Intacct or touching the journal."""
    with Session(ctx.engine) as session:
        for spec in specs:
            summary = ", ".join(f"{k}: {v}" for k, v in spec.payload.items())
            ctx.item(session, record_type=spec.record_type, label=spec.label, action=spec.created_action,
                     record_id=spec.record_id, message=f"Would send {spec.operation} ({summary})")
    ctx.advance(len(specs))
    ctx.flush()
