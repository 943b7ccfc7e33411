"""The invariants of a two-way sync, checked against the ledger's tables and Intacct's own answers.

Each check returns `Violation`s (never raises), so the stateful test can fail on the first and the soak can
count them all. Intacct's side is read with plain XML (`IntacctSide`), the ledger's with plain queries and the
console's read models (`history.balance_drift`).

- ledger_consistent: every invoice's lines add up to its total, its balance is its total less what is paid,
  its status follows, and what is paid is the sum of the payments applied to it in the ledger (from either side).
- no_duplicate: no invoice number, customer ID or payment reference of ours twice in Intacct.
- nothing_missing: every ledger record meant for Intacct is there, every Intacct customer, open invoice and
  payment on a ledger invoice is in the ledger; each carries the connection's id; an invoice deleted in
  Intacct shows voided.
- invoice_agrees: per invoice in both, total, paid, balance and state are equal (reversed = voided).
- payment_agrees: per payment in both, amount, voided/reversed and the applications are equal.
- customer_agrees: per customer in both, the ledger's Intacct balance equals TOTALDUE, Balances vs Intacct is
  empty, and an Intacct-origin customer's name is Intacct's.
- states_agree: a record in Intacct is Synced with no error in its header, and the last sync item about it
  (previews left out) does not say it failed.
- clean_sync: a sync fails nothing; it creates only records new since the last sync and changes only records
  either side touched since then; on a record that started in the ledger it changes only what Intacct owns.
- quiet_sync: a sync right after one, with no change on either side, succeeds, creates, updates and fails
  nothing, writes no history, and costs one request per object read (one cursor each) plus sign-in.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, select

from storage.models import (RecordVersion, Customer, Invoice, InvoiceLine, ItemAction, Payment, PaymentApplication, RunStatus, SyncCursor,
                            SyncRun, SyncRunItem, SyncState)
from sync_engine import history, objects
from tests.engine.model.world import KNOWN_GAPS, MID_RUN, OPEN_STATES, SyncOutcome, World

# Objects an incremental read walks (each keeps a cursor); other cursors (e.g. the deletion sweep's) are not reads.
INTACCT_OBJECTS = {o.name for o in vars(objects).values() if isinstance(o, objects.IntacctObject)}
STATUS_BY_STATE = {"draft": "draft", "posted": "open", "partially paid": "partially_paid", "paid": "paid",
                   "reversed": "voided"}
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str
    sync: int = 0  # the sync after which it was seen (0 = between syncs)

    def __str__(self) -> str:
        where = f"after sync {self.sync}" if self.sync else "between syncs"
        return f"[{self.invariant}] {where}: {self.detail}"


def _money(text: str | None) -> Decimal:
    return Decimal(text or "0").quantize(Decimal("0.01"))


class _Snapshot:
    """Both sides read once for a check."""

    def __init__(self, world: World) -> None:
        with Session(world.engine) as session:
            self.customers = list(session.exec(select(Customer)))
            self.invoices = list(session.exec(select(Invoice)))
            self.payments = list(session.exec(select(Payment)))
            self.applications = list(session.exec(select(PaymentApplication)))
            self.drift = history.balance_drift(session=session)
            self.cursors = list(session.exec(select(SyncCursor).where(SyncCursor.connection_id == world.connection_id)))
            self.last_items: dict[tuple[str, int | None], SyncRunItem] = {}
            for item in session.exec(select(SyncRunItem).join(SyncRun, SyncRun.id == SyncRunItem.run_id)
                                     .where(SyncRun.preview.is_(False)).order_by(SyncRunItem.id)):
                self.last_items[(item.record_type, item.record_id)] = item
        self.customer_by_id = {c.id: c for c in self.customers}
        self.invoice_by_id = {i.id: i for i in self.invoices}
        self.payment_by_id = {p.id: p for p in self.payments}
        self.r_customers = world.intacct.customers()
        self.r_invoices = world.intacct.invoices()
        self.r_payments = [p for p in world.intacct.payments() if p["RECORDTYPE"] == "rp"]
        self.r_details = world.intacct.payment_details()


# What a sync may change on a record that started in the ledger (the originator owns everything else).
SYNC_MAY_CHANGE_ON_LEDGER_RECORDS = {
    "customer": {"balance", "intacct_customer_id", "intacct_recordno"},
    "invoice": {"amount_paid", "balance", "status", "intacct_state", "intacct_recordno", "reversed_in_intacct"},
    "payment": {"voided", "reversed_in_intacct", "intacct_recordno"},
}


def ledger_consistent(world: World, sync: int = 0) -> list[Violation]:
    with Session(world.engine) as session:
        invoices = list(session.exec(select(Invoice)))
        line_totals: dict[int, Decimal] = {}
        for invoice_id, amount in session.exec(select(InvoiceLine.invoice_id, InvoiceLine.amount)):
            line_totals[invoice_id] = line_totals.get(invoice_id, ZERO) + amount
        paid: dict[int, Decimal] = {}
        for application, payment in session.exec(select(PaymentApplication, Payment).join(
                Payment, Payment.id == PaymentApplication.payment_id)):
            if not payment.voided:
                paid[application.invoice_id] = paid.get(application.invoice_id, ZERO) + application.amount
    found = []
    for inv in invoices:
        if line_totals.get(inv.id, ZERO) != inv.total:  # type: ignore[arg-type]
            found.append(Violation("ledger_consistent", f"invoice {inv.number} ({inv.origin}): its lines add up to "
                                                        f"{line_totals.get(inv.id, ZERO)}, its total is {inv.total}", sync))  # type: ignore[arg-type]
        if inv.status == "voided":
            continue  # what a voided invoice shows as due is Intacct's (invoice_agrees) once it is reversed there
        if inv.balance != inv.total - inv.amount_paid:
            found.append(Violation("ledger_consistent", f"invoice {inv.number}: balance {inv.balance} != total "
                                                        f"{inv.total} - paid {inv.amount_paid}", sync))
        expected = "paid" if inv.balance == 0 else ("open" if inv.amount_paid == 0 else "partially_paid")
        if inv.status != "draft" and inv.status != expected:
            found.append(Violation("ledger_consistent", f"invoice {inv.number}: status {inv.status} with paid "
                                                        f"{inv.amount_paid} of {inv.total} (expected {expected})", sync))
        applied = paid.get(inv.id, ZERO)  # type: ignore[arg-type]
        if inv.amount_paid != applied:
            found.append(Violation("ledger_consistent", f"invoice {inv.number} ({inv.origin}): amount_paid "
                                                        f"{inv.amount_paid} but the payments applied to it in the "
                                                        f"ledger add up to {applied}", sync))
    return found


def no_duplicate(world: World, sync: int = 0, snap: _Snapshot | None = None) -> list[Violation]:
    snap = snap or _Snapshot(world)
    found = []
    for what, counts in (
        ("invoice number", Counter(r["RECORDID"] for r in snap.r_invoices)),
        ("customer ID", Counter(r["CUSTOMERID"] for r in snap.r_customers)),
        ("payment reference", Counter((r["CUSTOMERID"], r["DOCNUMBER"]) for r in snap.r_payments
                                      if r["DOCNUMBER"])),
    ):
        for key, count in counts.items():
            if count > 1:
                found.append(Violation("no_duplicate", f"{what} {key} is {count} times in Intacct", sync))
    return found


def _complete_checks(world: World, outcome: SyncOutcome, snap: _Snapshot) -> list[Violation]:
    n = outcome.number
    found: list[Violation] = []
    connection = world.connection_id
    r_cust = {r["RECORDNO"]: r for r in snap.r_customers}
    r_inv = {r["RECORDNO"]: r for r in snap.r_invoices}
    r_pay = {r["RECORDNO"]: r for r in snap.r_payments}
    l_cust = {c.intacct_recordno: c for c in snap.customers if c.intacct_recordno}
    l_inv = {i.intacct_recordno: i for i in snap.invoices if i.intacct_recordno}
    l_pay = {p.intacct_recordno: p for p in snap.payments if p.intacct_recordno}

    def v(invariant: str, detail: str) -> None:
        found.append(Violation(invariant, detail, n))

    # nothing missing, ledger -> Intacct
    for c in snap.customers:
        has_invoice_there = any(i.customer_id == c.id and i.intacct_recordno for i in snap.invoices)
        if c.origin == "ledger" and has_invoice_there and not c.intacct_recordno:
            v("nothing_missing", f"ledger customer {c.number} has invoices in Intacct but no Intacct key")
        if c.intacct_recordno and c.intacct_recordno not in r_cust:
            v("nothing_missing", f"customer {c.number}'s Intacct key {c.intacct_recordno} is not in Intacct")
    for i in snap.invoices:
        if i.origin == "ledger" and i.status not in ("voided", "draft") and i.sync_state != SyncState.SKIPPED \
                and not i.intacct_recordno:
            v("nothing_missing", f"ledger invoice {i.number} is not in Intacct (state {i.sync_state}: "
                                 f"{i.sync_error})")
        if i.intacct_recordno and i.intacct_recordno not in r_inv and (i.status != "voided" or i.balance != ZERO):
            v("nothing_missing", f"invoice {i.number} was deleted in Intacct (key {i.intacct_recordno}) but the "
                                 f"ledger shows it {i.status} with {i.balance} due")
    for p in snap.payments:
        if p.origin == "ledger" and not p.voided and p.sync_state != SyncState.SKIPPED and not p.intacct_recordno:
            v("nothing_missing", f"ledger payment {p.reference} is not in Intacct (state {p.sync_state}: "
                                 f"{p.sync_error})")
        if p.intacct_recordno and p.intacct_recordno not in r_pay:
            v("nothing_missing", f"payment {p.reference}'s Intacct key {p.intacct_recordno} is not in Intacct")
    # nothing missing, Intacct -> ledger
    for key, r in r_cust.items():
        if key not in l_cust:
            v("nothing_missing", f"Intacct customer {r['CUSTOMERID']} is not in the ledger")
    for key, r in r_inv.items():
        if (r["STATE"] or "").lower() in OPEN_STATES:
            world.seen_outstanding.add(key)
        if key in world.seen_outstanding and key not in l_inv:
            v("nothing_missing", f"Intacct invoice {r['RECORDID']} ({r['STATE']}, due {r['TOTALDUE']}) is not "
                                 "in the ledger")
    paid_keys: dict[str, list[dict[str, str]]] = {}
    for d in snap.r_details:
        paid_keys.setdefault(d["PAYMENTKEY"], []).append(d)
    for key, r in r_pay.items():
        on_ledger_invoices = any(d["RECORDKEY"] in l_inv for d in paid_keys.get(key, []))
        if on_ledger_invoices and key not in l_pay:
            v("nothing_missing", f"Intacct payment {r['DOCNUMBER']} ({r['CUSTOMERID']}, {r['TOTALENTERED']}) on "
                                 "a ledger invoice is not in the ledger")
    # every record in Intacct belongs to this connection
    for kind, rows in (("customer", l_cust.values()), ("invoice", l_inv.values()), ("payment", l_pay.values())):
        for row in rows:
            if row.connection_id != connection:
                label = getattr(row, "number", None) or getattr(row, "reference", "?")
                v("nothing_missing", f"{kind} {label} is in Intacct but its connection_id is {row.connection_id}")

    # per invoice
    for key, i in l_inv.items():
        r = r_inv.get(key)
        if r is None:
            continue
        state = (r["STATE"] or "").lower()
        expected = {"total": _money(r["TOTALENTERED"]), "amount_paid": _money(r["TOTALPAID"]),
                    "balance": _money(r["TOTALDUE"]), "status": STATUS_BY_STATE.get(state, "?")}
        actual = {"total": i.total, "amount_paid": i.amount_paid, "balance": i.balance, "status": i.status}
        if state == "reversed":
            expected.pop("amount_paid")
            actual.pop("amount_paid")
        if actual != expected:
            diffs = ", ".join(f"{k} ledger {actual[k]} / Intacct {expected[k]}" for k in expected
                              if actual[k] != expected[k])
            v("invoice_agrees", f"invoice {i.number} ({i.origin}): {diffs}")
    # per payment
    details_by_payment: dict[str, dict[str, Decimal]] = {}
    for d in snap.r_details:
        apps = details_by_payment.setdefault(d["PAYMENTKEY"], {})
        apps[d["RECORDKEY"]] = apps.get(d["RECORDKEY"], ZERO) + _money(d["TRX_PAYMENTAMOUNT"])
    ledger_apps: dict[int, dict[str, Decimal]] = {}
    for a in snap.applications:
        invoice = snap.invoice_by_id.get(a.invoice_id)
        ledger_apps.setdefault(a.payment_id, {})[invoice.intacct_recordno or f"ledger:{invoice.number}"] = a.amount  # type: ignore[union-attr]
    for key, p in l_pay.items():
        r = r_pay.get(key)
        if r is None:
            continue
        reversed_there = r["STATE"] in ("V", "Reversed")
        if p.amount != _money(r["TOTALENTERED"]):
            v("payment_agrees", f"payment {p.reference}: amount ledger {p.amount} / Intacct {r['TOTALENTERED']}")
        if p.voided != reversed_there:
            v("payment_agrees", f"payment {p.reference} ({p.origin}): voided in ledger {p.voided}, Intacct state "
                                f"{r['STATE']}")
        # Applications to invoices the ledger never held (paid in Intacct before any sync saw them) stay out.
        remote_apps = {k: a for k, a in details_by_payment.get(key, {}).items() if k in l_inv}
        if not reversed_there and ledger_apps.get(p.id, {}) != remote_apps:  # type: ignore[arg-type]
            v("payment_agrees", f"payment {p.reference} ({p.origin}): applied in ledger {ledger_apps.get(p.id, {})} "  # type: ignore[arg-type]
                                f"/ in Intacct {remote_apps}")
    # per customer
    for key, c in l_cust.items():
        r = r_cust.get(key)
        if r is None:
            continue
        if c.balance != _money(r["TOTALDUE"]):
            v("customer_agrees", f"customer {c.number}: balance ledger {c.balance} / Intacct TOTALDUE {r['TOTALDUE']}")
        if c.origin == "intacct" and c.name != r["NAME"]:
            v("customer_agrees", f"customer {c.number}: name ledger {c.name!r} / Intacct {r['NAME']!r}")
    for d in snap.drift:
        v("customer_agrees", f"Balances vs Intacct lists {d.customer.number}: ledger open {d.ledger_open} / "
                             f"Intacct {d.intacct_balance}")
    # record headers, and the last thing a real (not preview) sync said about each record
    for kind, rows in (("customer", l_cust.values()), ("invoice", l_inv.values()), ("payment", l_pay.values())):
        for row in rows:
            label = getattr(row, "number", None) or getattr(row, "reference", "?")
            if row.sync_state != SyncState.SYNCED or row.sync_error:
                v("states_agree", f"{kind} {label} has an Intacct key but shows {row.sync_state!r} ({row.sync_error})")
            last = snap.last_items.get((kind, row.id))
            if last is not None and last.action == ItemAction.FAILED and row.sync_state == SyncState.SYNCED:
                v("states_agree", f"{kind} {label} shows Synced but its last sync item says failed: {last.message}")
    return found


def _label(snap: _Snapshot, record_type: str, record_id: int | None) -> str:
    row = {"customer": snap.customer_by_id, "invoice": snap.invoice_by_id,
           "payment": snap.payment_by_id}.get(record_type, {}).get(record_id)  # type: ignore[call-overload]
    if row is None:
        return f"#{record_id}"
    return getattr(row, "number", None) or getattr(row, "reference", None) or f"#{record_id}"


def _follows_touched_invoice(world: World, version: RecordVersion) -> bool:
    """A payment whose only change is the invoices it applies to in the ledger, one of them touched (it arrived
    or left): the change follows that invoice, it is not spurious."""
    if version.record_type != "payment" or set(version.changes) != {"applied_to"}:
        return False
    named = {part.split(":")[0].strip() for value in version.changes["applied_to"] for part in (value or "").split(";")}
    return any(("invoice", number) in world.touched for number in named if number)


def clean_sync(world: World, outcome: SyncOutcome, snap: _Snapshot) -> list[Violation]:
    """A sync with no disturbance: nothing failed, nothing created or changed that neither side touched."""
    n = outcome.number
    found = []
    if outcome.run.status != RunStatus.SUCCEEDED:
        found.append(Violation("clean_sync", f"status {outcome.run.status}: {outcome.run.error_message}", n))
    for item in outcome.items:
        if item.action == ItemAction.FAILED:
            found.append(Violation("clean_sync", f"{item.label} failed: {item.message}", n))
        elif item.action == ItemAction.SKIPPED:
            found.append(Violation("clean_sync", f"{item.label} was left waiting: {item.message}", n))
    for version in outcome.versions:
        row = {"customer": snap.customer_by_id, "invoice": snap.invoice_by_id,
               "payment": snap.payment_by_id}.get(version.record_type, {}).get(version.record_id)  # type: ignore[call-overload]
        if row is not None and row.origin == "ledger":
            owned = set(version.changes) - SYNC_MAY_CHANGE_ON_LEDGER_RECORDS.get(version.record_type, set())
            if owned:
                found.append(Violation("clean_sync", f"the sync changed {sorted(owned)} of ledger {version.record_type} "
                                                     f"{_label(snap, version.record_type, version.record_id)}: "
                                                     f"{ {k: version.changes[k] for k in owned} }", n))
    if world.first_complete_sync_done:
        for version in outcome.versions:
            label = _label(snap, version.record_type, version.record_id)
            if (version.record_type, label) not in world.touched and not _follows_touched_invoice(world, version):
                found.append(Violation("clean_sync", f"{version.record_type} {label} changed although neither side "
                                                     f"touched it: {version.changes}", n))
    return found


# Known and reported (issue 8, KNOWN_GAPS "interim_consistency"): a sync stopped, or changed under by an Intacct
# user, between its invoice read and its payment read (and a one-time invoice import, which reads no payments)
# leaves invoices whose paid amount the ledger's payments do not add up to until the next sync. While listed,
# the model does not check the ledger right after such a run (the next sync must still settle it).
INTERIM_CONSISTENCY_PENDING = "interim_consistency" in KNOWN_GAPS
INTERIM_DISTURBANCES = ("stop", "cancel", *MID_RUN)


def check_after_sync(world: World, outcome: SyncOutcome) -> list[Violation]:
    """Every invariant after a sync; a disturbed sync only has to leave no duplicate and a sound ledger."""
    snap = _Snapshot(world)
    found = no_duplicate(world, outcome.number, snap)
    if outcome.run.kind != "accounting_sync":  # a one-time import reads only: the ledger must stay sound
        # (an invoice import reads invoices without their payments: the same known interim gap as below)
        return found + ([] if INTERIM_CONSISTENCY_PENDING else ledger_consistent(world, outcome.number))
    if not (INTERIM_CONSISTENCY_PENDING and outcome.disturbance in INTERIM_DISTURBANCES):
        found += ledger_consistent(world, outcome.number)
    if outcome.disturbance == "none":
        found += _complete_checks(world, outcome, snap) + clean_sync(world, outcome, snap)
    return found


def quiet_sync(world: World, outcome: SyncOutcome) -> list[Violation]:
    """The checks of a sync that had nothing to do."""
    n = outcome.number
    run = outcome.run
    found = []
    if run.status != RunStatus.SUCCEEDED:
        found.append(Violation("quiet_sync", f"status {run.status}: {run.error_message}", n))
    counts = {"created": run.created_count, "updated": run.updated_count, "failed": run.failed_count,
              "skipped": run.skipped_count}
    if any(counts.values()):
        items = "; ".join(f"{i.action} {i.label}: {i.message or ''}".strip() for i in outcome.items[:6])
        found.append(Violation("quiet_sync", f"counts {counts} ({items})", n))
    if outcome.versions:
        found.append(Violation("quiet_sync", f"{len(outcome.versions)} history rows, e.g. "
                                             f"{outcome.versions[0].record_type} #{outcome.versions[0].record_id} "
                                             f"{outcome.versions[0].changes}", n))
    with Session(world.engine) as session:
        objects_read = len([name for name in session.exec(select(SyncCursor.object_name).where(
            SyncCursor.connection_id == world.connection_id)) if name in INTACCT_OBJECTS])
    if outcome.requests != 1 + objects_read:
        found.append(Violation("quiet_sync", f"{outcome.requests} requests for {objects_read} objects read "
                                             f"(expected {1 + objects_read}): {outcome.functions}", n))
    return found
