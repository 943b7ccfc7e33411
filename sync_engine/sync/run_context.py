"""What one run carries while it works: its counters, per-record items, progress and the stop signal.

Steps (imports, exports, payments) report through a RunContext; it writes SyncRunItem rows in the
caller's session (so an item commits with the record change it describes) and flushes counters and
progress onto the SyncRun row at batch boundaries.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.bulk import insert_rows
from storage.db import write_session
from storage.models import AccountMapping, IntacctConnection, ItemAction, SyncRun, SyncRunItem
from storage.types import utcnow
from sync_engine.intacct.client import IntacctClient
from sync_engine.intacct.errors import IntacctError
from sync_engine.sync.error_catalogue import classify

_COUNTER_FIELD = {
    ItemAction.CREATED: "created_count", ItemAction.UPDATED: "updated_count",
    ItemAction.UNCHANGED: "unchanged_count", ItemAction.SKIPPED: "skipped_count", ItemAction.FAILED: "failed_count",
}


class RunStopped(Exception):
    """The scheduler asked the run to stop (signal, lost lease or a user's cancel)."""


@dataclass
class RunContext:
    engine: Engine
    run_id: int
    client: IntacctClient
    connection: IntacctConnection
    mapping: AccountMapping
    started_at: datetime
    options: dict
    stop: threading.Event = field(default_factory=threading.Event)
    on_progress: Callable[[str], None] | None = None
    counts: Counter = field(default_factory=Counter)
    step: str = ""
    done: int = 0
    total: int | None = None
    _last_cancel_check: float = 0.0
    written: set[tuple[str, int]] = field(default_factory=set)  # (record type, id) confirmed in Intacct by this run
    _quiet: bool = False
    _preview_items: list[SyncRunItem] = field(default_factory=list)
    _previewed: set[tuple[str, str]] = field(default_factory=set)
    clock: Callable[[], datetime] = utcnow  # tests inject theirs
    step_started_at: datetime | None = None
    # The first flush of the step that had records done, and how many: the step's pace is measured from there.
    step_first_done_at: datetime | None = None
    step_first_done: int | None = None

    @property
    def preview(self) -> bool:
        """A preview computes what the run would do and writes nothing to the ledger or to Intacct."""
        return bool(self.options.get("preview"))

    def only(self, record_type: str) -> set[int] | None:
        """A run for chosen records ("Retry this record"): the ids of `record_type` it may write, else None (all)."""
        chosen = self.options.get("only")
        if chosen is None:
            return None
        return {int(record_id) for kind, record_id in chosen if kind == record_type}

    def would_exist(self, record_type: str, label: str) -> bool:
        """In a preview: was this record already listed as created earlier in the run?"""
        return self.preview and (record_type, label) in self._previewed

    @contextmanager
    def ledger_session(self) -> Iterator[Session]:
        """The session for ledger changes: committed normally, rolled back in a preview."""
        if not self.preview:
            with write_session(self.engine) as session:
                yield session
            return
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Within: outcomes other than failures are neither itemised nor counted (a read-back of our own writes,
        whose outcome the write already recorded)."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    @property
    def connection_id(self) -> int:
        return self.connection.id  # type: ignore[return-value]

    def item(
        self, session: Session, *, record_type: str, label: str, action: str, record_id: int | None = None,
        intacct_key: str | None = None, error: IntacctError | None = None, message: str | None = None,
        category: str | None = None, changes: dict | None = None,
    ) -> None:
        """Record what happened to one record; unchanged records are counted but not itemised.

        `changes` ({field: [old, new]}) is kept on a preview's items only: a real run has its RecordVersions.
        """
        if self._quiet and action != ItemAction.FAILED:
            return
        if self.preview:
            # Each preview step works on an uncommitted ledger, so a later step may meet a record again.
            if (record_type, label) in self._previewed:
                return
            self._previewed.add((record_type, label))
        self.counts[action] += 1
        if action == ItemAction.UNCHANGED:
            return
        errorno = correction = None
        if error is not None:
            category = category or error.category
            message = message or error.user_message
            if error.details:
                errorno = error.details[0].errorno
                correction = next((d.correction for d in error.details if d.correction), None)
        cause = (classify(errorno=errorno, message=message, category=category).key
                 if action == ItemAction.FAILED else None)
        row = SyncRunItem(
            run_id=self.run_id, step=self.step, record_type=record_type, record_id=record_id,
            intacct_key=intacct_key, label=label, action=action, error_category=category, errorno=errorno,
            message=message, correction=correction, cause=cause,
            changes=dict(changes) if changes and self.preview else None,
        )
        if self.preview:
            self._preview_items.append(row)  # the ledger session will be rolled back
        else:
            session.add(row)

    def add_items(self, session: Session, items: list[dict]) -> None:
        """Many records' outcomes at once (the keywords of `item`), written with one executemany."""
        if self.preview:
            for item in items:
                self.item(session, **item)
            return
        rows = []
        for item in items:
            self.counts[item["action"]] += 1
            if item["action"] != ItemAction.UNCHANGED:
                rows.append({"run_id": self.run_id, "step": self.step, "record_type": item["record_type"],
                             "record_id": item.get("record_id"), "intacct_key": item.get("intacct_key"),
                             "label": item["label"], "action": item["action"], "error_category": item.get("category"),
                             "message": item.get("message")})
        insert_rows(session, SyncRunItem, rows)  # `at`: the model's default, now

    def begin_step(self, step: str, total: int | None = None) -> None:
        """Start counting a new step from zero (each step has its own total and its own pace)."""
        self.step, self.done, self.total = step, 0, total
        self.step_started_at, self.step_first_done_at, self.step_first_done = self.clock(), None, None
        self.flush()

    def advance(self, n: int = 1) -> None:
        self.done += n

    def flush(self) -> None:
        """Write counters and progress onto the run row, and notice a cancel request."""
        with write_session(self.engine) as session:
            run = session.get(SyncRun, self.run_id)
            assert run is not None
            for action, column in _COUNTER_FIELD.items():
                setattr(run, column, self.counts[action])
            if self.step_first_done_at is None and self.done > 0:
                self.step_first_done_at, self.step_first_done = self.clock(), self.done
            run.step, run.progress_done, run.progress_total = self.step, self.done, self.total
            run.step_started_at = self.step_started_at
            run.step_first_done_at, run.step_first_done = self.step_first_done_at, self.step_first_done
            run.api_requests = self.client.requests_sent
            session.add(run)
            session.add_all(self._preview_items)
            self._preview_items = []
            if run.cancel_requested:
                self.stop.set()
        if self.on_progress:
            total = f"/{self.total}" if self.total else ""
            self.on_progress(f"{self.step}: {self.done}{total}")

    def check_stop(self) -> None:
        """Raise RunStopped between records when a stop was asked (cancel checked every ~2 s)."""
        now = time.monotonic()
        if now - self._last_cancel_check > 2:
            self._last_cancel_check = now
            self.flush()
        if self.stop.is_set():
            raise RunStopped()
