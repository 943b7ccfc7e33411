"""SQLModel tables: settings, the A/R ledger, record history, runs and the scheduler's coordination rows.

Status-like columns are plain strings whose allowed values live in the StrEnum classes below, so adding a
value never needs a database enum migration. Money columns use `Money` (Decimal, never float) and every
timestamp uses `UTCDateTime` (timezone-aware UTC).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, event, text
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

from storage.types import Money, Quantity, UTCDateTime, utcnow


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _money(default: Decimal | None = Decimal("0.00"), **kw: Any) -> Any:
    return Field(default=default, sa_type=Money, **kw)


class Origin(StrEnum):
    LEDGER = "ledger"
    INTACCT = "intacct"


class SyncState(StrEnum):
    """Where a ledger record stands against Intacct."""

    NOT_SYNCED = "not_synced"  # originates here, waiting for its first write
    PENDING = "pending"  # a write is in flight or uncertain
    SYNCED = "synced"
    FAILED = "failed"
    SKIPPED = "skipped"  # user chose "don't sync"


class ConnectionStatus(StrEnum):
    NOT_TESTED = "not_tested"
    OK = "ok"
    FAILING = "failing"


class RunKind(StrEnum):
    ACCOUNTING_SYNC = "accounting_sync"
    CUSTOMER_IMPORT = "customer_import"
    INVOICE_IMPORT = "invoice_import"


class RunTrigger(StrEnum):
    AUTO = "auto"
    MANUAL = "manual"
    RETRY = "retry"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTLY_FAILED = "partly_failed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # the scheduler was asked to stop mid-run
    ABANDONED = "abandoned"  # the scheduler died; found by lease expiry


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class ItemAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"


class JournalState(StrEnum):
    PENDING = "pending"  # row committed, request not yet sent
    SENT = "sent"  # request sent, answer not yet recorded
    CONFIRMED = "confirmed"
    UNCERTAIN = "uncertain"  # the answer was lost: look the record up before any retry
    FAILED = "failed"  # Intacct refused it; a later attempt gets a new control id


class Role(StrEnum):
    ADMIN = "admin"
    ACCOUNTANT = "accountant"
    VIEWER = "viewer"


# --- settings -------------------------------------------------------------------------------------------


class IntacctConnection(SQLModel, table=True):
    """How to reach one Intacct company. Passwords are Fernet tokens (see storage.secrets)."""

    __tablename__ = "intacct_connection"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="Intacct")
    endpoint_url: str
    company_id: str
    user_id: str
    user_password_enc: str = Field(sa_type=Text)
    sender_id: str
    sender_password_enc: str = Field(sa_type=Text)
    entity_id: str | None = None  # login <locationid>; empty = top level
    intacct_timezone: str = Field(default="UTC")  # zone of WHENMODIFIED stamps
    status: str = Field(default=ConnectionStatus.NOT_TESTED)
    last_tested_at: datetime | None = _ts(default=None)
    last_test_message: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class AccountMapping(SQLModel, table=True):
    """Where ledger invoices and payments land in the G/L, and which directions sync."""

    __tablename__ = "account_mapping"

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="intacct_connection.id", unique=True)
    item_account_label: str | None = None
    undeposited_funds_account: str | None = None
    location_id: str | None = None
    department_id: str | None = None
    read_customers: bool = True
    read_invoices: bool = True
    write_invoices: bool = True
    write_payments: bool = True
    active_customers_only: bool = False
    validated_at: datetime | None = _ts(default=None)
    validation_message: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = _ts(default_factory=utcnow)
    updated_by: str | None = None


class AuditEvent(SQLModel, table=True):
    """One change to a setting: who, when, what, old -> new."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(default_factory=utcnow, index=True)
    actor: str
    entity: str
    entity_id: int | None = None
    field: str
    old_value: str | None = Field(default=None, sa_type=Text)
    new_value: str | None = Field(default=None, sa_type=Text)
    note: str | None = Field(default=None, sa_type=Text)


class NotificationSettings(SQLModel, table=True):
    """SMTP settings for run emails. Single row."""

    __tablename__ = "notification_settings"

    id: int | None = Field(default=None, primary_key=True)
    enabled: bool = False
    smtp_host: str = "localhost"
    smtp_port: int = 25
    security: str = "none"  # none | starttls | ssl
    smtp_user: str | None = None
    smtp_password_enc: str | None = Field(default=None, sa_type=Text)
    sender: str = "ar-sync@localhost"
    recipients: str = ""  # comma separated
    console_base_url: str = "http://localhost:8501"
    updated_at: datetime = _ts(default_factory=utcnow)


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True)
    display_name: str
    email: str | None = None
    password_hash: str
    role: str = Field(default=Role.ACCOUNTANT)
    active: bool = True
    created_at: datetime = _ts(default_factory=utcnow)
    last_login_at: datetime | None = _ts(default=None)


class SignInFailure(SQLModel, table=True):
    """One failed sign-in for a typed user name (lower-cased), known or not: the source of sign-in throttling.

    Keyed by the name as typed rather than by user id, so unknown names are counted exactly like real ones.
    """

    __tablename__ = "sign_in_failure"
    __table_args__ = (Index("ix_sign_in_failure_name_at", "username_key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    username_key: str = Field(max_length=100)
    at: datetime = _ts(default_factory=utcnow, index=True)


class SignInGuard(SQLModel, table=True):
    """One row per typed user name lately tried: the row every sign-in of that name locks while it counts.

    Counting the failures and recording the attempt happen under this row's lock (an upsert, which locks the
    row on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises anyway), so parallel attempts cannot all pass the
    count before any of them is recorded.
    """

    __tablename__ = "sign_in_guard"

    username_key: str = Field(max_length=100, primary_key=True)
    last_attempt_at: datetime = _ts(default_factory=utcnow, index=True)


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser: only the SHA-256 of its random cookie token is kept, never the token itself."""

    __tablename__ = "console_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = _ts(default_factory=utcnow)
    last_seen_at: datetime = _ts(default_factory=utcnow)
    expires_at: datetime = _ts()  # the absolute lifetime; idle expiry is counted from last_seen_at
    ended_at: datetime | None = _ts(default=None)


# --- the ledger -----------------------------------------------------------------------------------------


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    __table_args__ = (
        UniqueConstraint("connection_id", "intacct_customer_id", name="uq_customer_intacct_id"),
        UniqueConstraint("connection_id", "intacct_recordno", name="uq_customer_intacct_recordno"),
        Index("ix_customer_intacct_customer_id", "intacct_customer_id"),  # imports look customers up by it
    )

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int | None = Field(default=None, foreign_key="intacct_connection.id")
    number: str = Field(unique=True)  # our customer number; CUSTOMERID in Intacct
    name: str = Field(index=True)
    email: str | None = None
    phone: str | None = None
    address1: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    currency: str = "USD"
    payment_terms: str | None = None
    active: bool = True
    balance: Decimal = _money()  # open A/R as last seen
    origin: str = Field(default=Origin.LEDGER, index=True)
    intacct_customer_id: str | None = None
    intacct_recordno: str | None = None
    intacct_modified_at: datetime | None = _ts(default=None)
    sync_state: str = Field(default=SyncState.NOT_SYNCED, index=True)
    sync_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow, index=True)


class Invoice(SQLModel, table=True):
    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("connection_id", "intacct_recordno", name="uq_invoice_intacct_recordno"),
        Index("ix_invoice_status_due", "status", "due_date"),
        Index("ix_invoice_date_id", "invoice_date", "id"),  # the Invoices page: newest first, one page at a time
    )

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int | None = Field(default=None, foreign_key="intacct_connection.id")
    number: str = Field(unique=True)  # RECORDID in Intacct
    customer_id: int = Field(foreign_key="customer.id", index=True)
    invoice_date: date
    due_date: date | None = None
    currency: str = "USD"
    description: str | None = None
    po_number: str | None = None
    total: Decimal = _money()
    amount_paid: Decimal = _money()
    balance: Decimal = _money()
    status: str = Field(default="open")  # draft | open | partially_paid | paid | voided
    voided_at: datetime | None = _ts(default=None)
    origin: str = Field(default=Origin.LEDGER, index=True)
    intacct_recordno: str | None = None
    intacct_state: str | None = None
    # Intacct's own TOTALPAID / TOTALDUE as last read: amount_paid and balance add what ledger payments not yet in
    # Intacct account for (sync_engine.sync.amounts), so an import never overwrites money the ledger already received.
    intacct_total_paid: Decimal | None = _money(default=None, nullable=True)
    intacct_total_due: Decimal | None = _money(default=None, nullable=True)
    intacct_modified_at: datetime | None = _ts(default=None)
    reversed_in_intacct: bool = False
    sync_state: str = Field(default=SyncState.NOT_SYNCED, index=True)
    sync_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow, index=True)


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    line_no: int
    description: str | None = None
    quantity: Decimal = Field(default=Decimal("1"), sa_type=Quantity)
    unit_price: Decimal = _money()
    amount: Decimal = _money()
    item_code: str | None = None  # the product or service sold; picks a per-item account override
    account_label: str | None = None  # this line's own label, over the item override and the mapping
    gl_account_no: str | None = None  # as read from Intacct
    location_id: str | None = None
    department_id: str | None = None
    intacct_line_recordno: str | None = None


class Payment(SQLModel, table=True):
    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("connection_id", "intacct_recordno", name="uq_payment_intacct_recordno"),
        Index("ix_payment_customer_reference", "customer_id", "reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int | None = Field(default=None, foreign_key="intacct_connection.id")
    customer_id: int = Field(foreign_key="customer.id", index=True)
    reference: str  # check number, wire reference…
    received_on: date
    amount: Decimal = _money()
    method: str = "Printed Check"
    currency: str = "USD"
    voided: bool = False
    voided_at: datetime | None = _ts(default=None)
    reversed_in_intacct: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    origin: str = Field(default=Origin.LEDGER, index=True)
    intacct_recordno: str | None = None
    intacct_modified_at: datetime | None = _ts(default=None)
    sync_state: str = Field(default=SyncState.NOT_SYNCED, index=True)
    sync_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow, index=True)


class PaymentApplication(SQLModel, table=True):
    __tablename__ = "payment_application"
    __table_args__ = (UniqueConstraint("payment_id", "invoice_id", name="uq_payment_application"),)

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    amount: Decimal = _money()


class RecordVersion(SQLModel, table=True):
    """A snapshot of a ledger record each time an import or an edit changed it: the source of field diffs."""

    __tablename__ = "record_version"
    __table_args__ = (
        UniqueConstraint("record_type", "record_id", "version", name="uq_record_version"),
        Index("ix_record_version_run", "run_id"),
        Index("ix_record_version_run_version", "run_id", "version"),  # a run's updates, then its creations
    )

    id: int | None = Field(default=None, primary_key=True)
    record_type: str  # customer | invoice | payment
    record_id: int
    version: int
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")
    source: str  # import | edit | export
    changed_at: datetime = _ts(default_factory=utcnow)
    changed_by: str | None = None
    changes: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # field -> [old, new]
    snapshot: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# --- runs and coordination ------------------------------------------------------------------------------


class SyncRun(SQLModel, table=True):
    """One sync or import; also the job queue the scheduler claims from."""

    __tablename__ = "sync_run"
    __table_args__ = (
        Index("ix_sync_run_status_queued", "status", "queued_at"),
        Index("ix_sync_run_connection_started", "connection_id", "queued_at"),
        # At most one queued or running run of a kind per connection, enforced by the database itself so that
        # simultaneous Sync Now clicks (from several browsers or machines) cannot queue two.
        Index("uq_sync_run_one_active", "connection_id", "kind", unique=True,
              sqlite_where=text("status IN ('queued', 'running')"),
              postgresql_where=text("status IN ('queued', 'running')")),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="intacct_connection.id")
    kind: str
    trigger: str = Field(default=RunTrigger.MANUAL)
    requested_by: str | None = None
    options: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=RunStatus.QUEUED)
    queued_at: datetime = _ts(default_factory=utcnow)
    started_at: datetime | None = _ts(default=None)
    finished_at: datetime | None = _ts(default=None)
    claimed_by: str | None = None
    step: str | None = None
    # When the current step began, and the first moment records of it were done (with how many): the time left
    # goes by the step's own pace since then, not by the queue wait, the sign-in or earlier steps.
    step_started_at: datetime | None = _ts(default=None)
    step_first_done_at: datetime | None = _ts(default=None)
    step_first_done: int | None = None
    progress_done: int = 0
    progress_total: int | None = None
    created_count: int = 0
    updated_count: int = 0
    unchanged_count: int = 0
    skipped_count: int = 0
    failed_count: int = 0
    api_requests: int = 0
    window_from: datetime | None = _ts(default=None)
    window_to: datetime | None = _ts(default=None)
    error_category: str | None = None
    error_message: str | None = Field(default=None, sa_type=Text)
    notification_status: str | None = Field(default=None, sa_type=Text)
    cancel_requested: bool = False
    # The lease generation this run was claimed under: its fencing token (sync_engine.sync.leases.check_fence).
    lease_generation: int | None = None

    # Copied from options["preview"] on insert (see _mark_preview) so history queries can filter on an index.
    preview: bool = Field(default=False, index=True, sa_column_kwargs={"server_default": sa_false()})

    @property
    def is_preview(self) -> bool:
        """A preview (dry run, `options={"preview": True}`) reads Intacct and writes nothing.

        What it reports is no record's real outcome."""
        return bool(self.preview or (self.options or {}).get("preview"))


@event.listens_for(SyncRun, "before_insert")
def _mark_preview(_mapper, _connection, run: SyncRun) -> None:
    run.preview = bool((run.options or {}).get("preview"))


class SyncRunItem(SQLModel, table=True):
    """One record a run touched, with Intacct's error when it failed."""

    __tablename__ = "sync_run_item"
    __table_args__ = (
        Index("ix_sync_run_item_run_action", "run_id", "action"),
        Index("ix_sync_run_item_record", "record_type", "record_id"),
        Index("ix_sync_run_item_run_record", "run_id", "record_type", "record_id"),  # a run page's labels
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="sync_run.id")
    step: str  # customers | invoices | invoice_writes | payment_writes …
    record_type: str
    record_id: int | None = None
    intacct_key: str | None = None
    label: str  # what a person calls it: "Invoice INV-1001"
    action: str
    error_category: str | None = None  # record | authentication | transient | ambiguous | validation
    errorno: str | None = None
    message: str | None = Field(default=None, sa_type=Text)
    correction: str | None = Field(default=None, sa_type=Text)
    cause: str | None = Field(default=None, index=True)  # key in sync_engine.sync.error_catalogue: groups failures
    # A preview's field diffs {field: [old, new]} (its RecordVersions are rolled back with the ledger session).
    changes: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    at: datetime = _ts(default_factory=utcnow)


class WriteJournal(SQLModel, table=True):
    """Every write to Intacct, committed before the call: the exactly-once guard."""

    __tablename__ = "write_journal"
    __table_args__ = (Index("ix_write_journal_record", "connection_id", "record_type", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="intacct_connection.id")
    operation: str  # create_customer | create_invoice | reverse_invoice | create_payment
    record_type: str
    record_id: int
    attempt: int = 1
    controlid: str = Field(unique=True)
    payload_hash: str
    state: str = Field(default=JournalState.PENDING, index=True)
    intacct_key: str | None = None
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class SyncCursor(SQLModel, table=True):
    """The WHENMODIFIED watermark per Intacct object, moved only after a clean read is committed."""

    __tablename__ = "sync_cursor"
    __table_args__ = (UniqueConstraint("connection_id", "object_name", name="uq_sync_cursor"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="intacct_connection.id")
    object_name: str
    watermark: datetime | None = _ts(default=None)
    last_run_id: int | None = None
    updated_at: datetime = _ts(default_factory=utcnow)


class SyncSchedule(SQLModel, table=True):
    """Auto-sync switch and the next due time, so a scheduler restart neither skips nor doubles a run."""

    __tablename__ = "sync_schedule"

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="intacct_connection.id", unique=True)
    enabled: bool = False
    interval_minutes: int = 60
    next_due_at: datetime | None = _ts(default=None)
    last_enqueued_run_id: int | None = None
    paused_reason: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = _ts(default_factory=utcnow)


class SyncLease(SQLModel, table=True):
    """At most one run per connection: held by a scheduler, renewed by its heartbeat, expiring if it dies."""

    __tablename__ = "sync_lease"

    connection_id: int = Field(foreign_key="intacct_connection.id", primary_key=True)
    holder: str
    run_id: int | None = None
    # The fencing token: raised by one at every claim and never reused (the row is kept when released), so a
    # scheduler that lost the lease can tell, inside the transaction that journals a write, that it lost it.
    generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    acquired_at: datetime = _ts(default_factory=utcnow)
    expires_at: datetime = _ts()


class SchedulerHeartbeat(SQLModel, table=True):
    __tablename__ = "scheduler_heartbeat"

    scheduler_id: str = Field(primary_key=True)
    pid: int
    host: str
    version: str
    started_at: datetime = _ts(default_factory=utcnow)
    beat_at: datetime = _ts(default_factory=utcnow)
    current_run_id: int | None = None
    progress: str | None = None
    stopped_at: datetime | None = _ts(default=None)


# --- lists read from Intacct, and the write rules built on them -------------------------------------------


class IntacctListItem(SQLModel, table=True):
    """One entry of a list read from Intacct (account labels, G/L accounts, locations…), cached for pickers."""

    __tablename__ = "intacct_list_item"
    __table_args__ = (UniqueConstraint("connection_id", "list_name", "value", name="uq_intacct_list_item"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="intacct_connection.id")
    list_name: str = Field(index=True)  # account_labels | gl_accounts | bank_accounts | locations | departments
    value: str  # the ID Intacct expects in a write
    title: str | None = None
    active: bool = True
    extra: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    refreshed_at: datetime = _ts(default_factory=utcnow)


class ItemAccountOverride(SQLModel, table=True):
    """Invoice lines of this item post to this account label instead of the mapping's."""

    __tablename__ = "item_account_override"
    __table_args__ = (UniqueConstraint("connection_id", "item_code", name="uq_item_account_override"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="intacct_connection.id")
    item_code: str
    account_label: str
    updated_at: datetime = _ts(default_factory=utcnow)
    updated_by: str | None = None


class PaymentRoutingRule(SQLModel, table=True):
    """Payments of this method and/or currency are deposited to this account (an undeposited funds G/L account
    or a bank account, by `deposit_kind`); the first match wins."""

    __tablename__ = "payment_routing_rule"

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="intacct_connection.id", index=True)
    position: int
    method: str | None = None  # None: any method
    currency: str | None = None  # None: any currency
    deposit_account: str
    deposit_kind: str = Field(default="gl_account", sa_column_kwargs={"server_default": "gl_account"})  # | bank_account
    updated_at: datetime = _ts(default_factory=utcnow)
    updated_by: str | None = None
