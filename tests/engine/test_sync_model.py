"""Model-based test of the two-way sync: random changes on both sides, syncs (some disturbed), invariants.

Each hypothesis example is a fresh ledger database (SQLite or PostgreSQL) connected to a fresh sandbox over
HTTP. Rules make the changes finance staff make in the ledger (CSV uploads, voids) and the ones an Intacct user
makes (plain XML: customers, invoices, payments, reversals, renames), and run accounting syncs the way the
scheduler does, sometimes with a write's answer lost after Intacct committed it or a stop signal mid-run.
After every sync the invariants of `tests/engine/model/invariants.py` must hold, and a sync right after it,
with nothing changed, must do nothing at the cost of one request per object read plus sign-in.

`MODEL_EXAMPLES` / `MODEL_STEPS` size the run (the default is the short run of `make test`, the same examples
every time; `MODEL_RANDOM=1` draws new ones); `make soak` runs the same steps for thousands of steps from a
seeded random (tests/engine/soak.py).
"""
from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from sqlmodel import Session, select

from storage.db import make_engine
from storage.models import Invoice, Payment, PaymentApplication
from tests.engine.model.databases import fresh_database
from tests.engine.model.invariants import ledger_consistent
from tests.engine.model.steps import preview_and_check, sync_and_check
from tests.engine.model.world import DISTURBANCES, KNOWN_GAPS, World
from tests.fixtures.db import BACKENDS
from tests.fixtures.sandbox import start_sandbox

EXAMPLES = int(os.environ.get("MODEL_EXAMPLES", "10"))
STEPS = int(os.environ.get("MODEL_STEPS", "50"))
# `make test` runs the same examples every time, so main's result does not depend on the draw; MODEL_RANDOM=1
# (or the soak, seeded by the clock) explores new ones.
RANDOM = os.environ.get("MODEL_RANDOM", "") == "1"
# Shrinking a failure to its shortest form takes minutes over HTTP; MODEL_SHRINK=1 asks for it when reproducing.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if os.environ.get("MODEL_SHRINK") == "1" else [])

PICK = st.integers(min_value=0, max_value=999)
SHARE = st.one_of(st.just(100), st.integers(min_value=1, max_value=99))
CENTS = st.lists(st.integers(min_value=1, max_value=500_000), min_size=1, max_size=3)


def _fail_on(violations: list) -> None:  # type: ignore[type-arg]
    assert not violations, "invariants violated:\n" + "\n".join(f"  {v}" for v in violations)


class SyncModel(RuleBasedStateMachine):
    """Set by the test before running: the backend, the templates and where to put the files."""

    backend = "sqlite"
    workdir = Path(tempfile.gettempdir())
    templates: dict = {}

    def __init__(self) -> None:
        super().__init__()
        self.stack = ExitStack()
        folder = Path(tempfile.mkdtemp(dir=self.workdir))
        url = self.stack.enter_context(fresh_database(self.backend, folder, **self.templates))
        engine = make_engine(url)
        self.stack.callback(engine.dispose)
        sandbox = start_sandbox(folder / "sandbox", seed="minimal")
        self.stack.callback(sandbox.stop)
        self.world = World.connect(engine, sandbox)

    def teardown(self) -> None:
        self.stack.close()

    # --- the ledger ----------------------------------------------------------------------------------------

    @rule(pick=PICK, new_customer=st.booleans(), cents=CENTS)
    def ledger_invoice(self, pick: int, new_customer: bool, cents: list[int]) -> None:
        self.world.ledger_invoice(pick=pick, new_customer=new_customer, cents=cents)

    @rule(pick=PICK, share=SHARE, two_invoices=st.booleans())
    def ledger_payment(self, pick: int, share: int, two_invoices: bool) -> None:
        self.world.ledger_payment(pick=pick, share=share, two_invoices=two_invoices)

    @rule(pick=PICK)
    def ledger_void_invoice(self, pick: int) -> None:
        self.world.ledger_void_invoice(pick=pick)

    @rule(pick=PICK)
    def ledger_void_payment(self, pick: int) -> None:
        self.world.ledger_void_payment(pick=pick)

    # --- Intacct -------------------------------------------------------------------------------------------

    @rule()
    def intacct_customer(self) -> None:
        self.world.intacct_customer()

    @rule(pick=PICK, cents=CENTS)
    def intacct_invoice(self, pick: int, cents: list[int]) -> None:
        self.world.intacct_invoice(pick=pick, cents=cents)

    @rule(pick=PICK, share=SHARE, generic=st.booleans(), two_invoices=st.booleans())
    def intacct_payment(self, pick: int, share: int, generic: bool, two_invoices: bool) -> None:
        self.world.intacct_payment(pick=pick, share=share, generic=generic, two_invoices=two_invoices)

    @rule(pick=PICK)
    def intacct_delete_invoice(self, pick: int) -> None:
        self.world.intacct_delete_invoice(pick=pick)

    @rule(pick=PICK)
    def intacct_reverse_invoice(self, pick: int) -> None:
        self.world.intacct_reverse_invoice(pick=pick)

    @rule(pick=PICK)
    def intacct_reverse_payment(self, pick: int) -> None:
        self.world.intacct_reverse_payment(pick=pick)

    @rule(pick=PICK)
    def intacct_rename_customer(self, pick: int) -> None:
        self.world.intacct_rename_customer(pick=pick)

    # --- syncs ---------------------------------------------------------------------------------------------

    @rule(disturbance=st.one_of(st.just("none"), st.sampled_from(DISTURBANCES)),
          stop_after=st.integers(min_value=1, max_value=8))
    def sync(self, disturbance: str, stop_after: int) -> None:
        _fail_on(sync_and_check(self.world, disturbance, stop_after))

    @rule()
    def preview(self) -> None:
        _fail_on(preview_and_check(self.world))

    @invariant()
    def ledger_is_consistent(self) -> None:
        _fail_on(ledger_consistent(self.world))


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_way_sync_model(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if backend == "postgresql":
        request.applymarker(pytest.mark.postgres)
        templates = {"postgres_template": request.getfixturevalue("postgres_template")}
    else:
        templates = {"sqlite_template": request.getfixturevalue("sqlite_template")}
    machine = type(f"SyncModel_{backend}", (SyncModel,), {"backend": backend, "workdir": tmp_path,
                                                          "templates": templates})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None, derandomize=not RANDOM,
        phases=PHASES,
        suppress_health_check=list(HealthCheck)))


# --- cases the model found, kept as focused tests --------------------------------------------------------


def known_gap(name: str, what: str) -> pytest.MarkDecorator:
    """Expected to fail while `name` is in KNOWN_GAPS (reported, fix pending); strict, so a fix shows at once."""
    return pytest.mark.xfail(name in KNOWN_GAPS, strict=True, reason=f"issue 8: {what}")


GAP_BOTH_VOID = known_gap("payment_voided_on_both_sides", "a payment voided here and reversed in Intacct before the "
                          "next sync drives its invoice's paid amount negative until the sync after")
GAP_DELETED = known_gap("invoice_voided_here_deleted_there", "an invoice voided here and deleted in Intacct: the "
                        "reversal fails on every sync and the deletion sweep skips voided invoices")
GAP_BEFORE = known_gap("payment_before_its_invoice", "a payment imported before its invoice is never applied to "
                       "the invoice when it arrives")
GAP_INTERIM = known_gap("interim_consistency", "an invoice's paid amount and its payments are read in different "
                        "steps/runs: stopped, changed mid-run or after a one-time invoice import they disagree")


def _world(engine, sandbox) -> World:  # type: ignore[no-untyped-def]
    world = World.connect(engine, sandbox)
    _fail_on(sync_and_check(world))  # the first sync takes in the company as it is
    return world


def _open_intacct_invoice(world: World) -> dict[str, str]:
    return next(r for r in world.intacct.invoices() if r["STATE"] == "Posted")


def test_an_invoice_deleted_in_intacct_shows_voided_in_the_ledger(engine, sandbox) -> None:
    world = _world(engine, sandbox)
    number = world.intacct_invoice(pick=0, cents=[12500])
    _fail_on(sync_and_check(world))
    [row] = [r for r in world.intacct.invoices() if r["RECORDID"] == number]
    world.intacct.delete_invoice(row["RECORDNO"])
    world.touched |= {("invoice", number), ("customer", row["CUSTOMERID"])}
    world.deletions_pending = True  # the next sync is the day after, when the deletion sweep is due
    _fail_on(sync_and_check(world))


@GAP_BOTH_VOID
@pytest.mark.parametrize("order", ["voided_here_first", "reversed_there_first"])
def test_a_payment_voided_on_both_sides_leaves_the_invoice_as_intacct_shows_it(engine, sandbox, order) -> None:
    """A ledger payment voided here and reversed in Intacct by someone else, in either order, before the next sync."""
    world = _world(engine, sandbox)
    reference = world.ledger_payment(pick=0, share=100, two_invoices=False)
    _fail_on(sync_and_check(world))
    with Session(engine) as session:
        payment = session.exec(select(Payment).where(Payment.reference == reference)).one()
        invoices = list(session.exec(select(Invoice).join(PaymentApplication, PaymentApplication.invoice_id == Invoice.id)
                                     .where(PaymentApplication.payment_id == payment.id)))
    if order == "reversed_there_first":
        world.intacct.reverse_payment(payment.intacct_recordno, date(2026, 11, 30))  # type: ignore[arg-type]
    world.ledger.void("payment", payment.id)  # type: ignore[arg-type]
    if order == "voided_here_first":
        world.intacct.reverse_payment(payment.intacct_recordno, date(2026, 11, 30))  # type: ignore[arg-type]
    assert invoices
    world.touched |= {("payment", reference), *(("invoice", i.number) for i in invoices)}
    world.touched |= {("customer", r["CUSTOMERID"]) for r in world.intacct.invoices()
                      if r["RECORDID"] in {i.number for i in invoices}}
    _fail_on(sync_and_check(world))


@pytest.mark.parametrize("in_intacct", ["reversed", pytest.param("deleted", marks=GAP_DELETED)])
def test_an_invoice_voided_here_and_reversed_or_deleted_in_intacct_is_settled_once(engine, sandbox, in_intacct) -> None:
    """Both sides void the same invoice before the next sync: nothing fails, the ledger shows it voided."""
    world = _world(engine, sandbox)
    number = world.ledger_invoice(pick=0, new_customer=True, cents=[43210])
    _fail_on(sync_and_check(world))
    assert world.ledger_void_invoice(pick=0) == number
    with Session(engine) as session:
        key = session.exec(select(Invoice.intacct_recordno).where(Invoice.number == number)).one()
    if in_intacct == "reversed":
        world.intacct.reverse_invoice(key, date(2026, 11, 30))  # type: ignore[arg-type]
    else:
        world.intacct.delete_invoice(key)  # type: ignore[arg-type]
        world.deletions_pending = True
    _fail_on(sync_and_check(world))


@GAP_INTERIM
def test_a_sync_stopped_between_the_invoice_and_payment_reads_leaves_a_sound_ledger(engine, sandbox) -> None:
    """An Intacct payment changes an invoice's TOTALPAID; a stop after the invoice read must not leave the invoice
    showing money that no payment in the ledger accounts for."""
    world = _world(engine, sandbox)
    row = _open_intacct_invoice(world)
    world.intacct.pay(row["CUSTOMERID"], "CHK-STOP-1", [(row["RECORDNO"], Decimal("10.00"))], date(2026, 11, 25))
    world.sync("stop", at_step="payments")
    _fail_on(ledger_consistent(world))


@GAP_INTERIM
def test_a_payment_made_in_intacct_while_the_sync_runs_leaves_a_sound_ledger(engine, sandbox) -> None:
    """A payment entered in Intacct after the sync read invoices and before it read payments."""
    world = _world(engine, sandbox)
    outcome = world.sync("intacct_payment_mid_run", at_step="payments")
    assert outcome.run.status == "succeeded", outcome.run.error_message
    assert world.operations["intacct_payment"] == 1
    _fail_on(ledger_consistent(world))


@GAP_INTERIM
def test_a_one_time_invoice_import_leaves_a_sound_ledger(engine, sandbox) -> None:
    """A payment made in Intacct, then Imports → outstanding invoices: the invoice must not show money no payment
    in the ledger accounts for."""
    world = _world(engine, sandbox)
    row = _open_intacct_invoice(world)
    world.intacct.pay(row["CUSTOMERID"], "CHK-IMPORT-1", [(row["RECORDNO"], Decimal("10.00"))], date(2026, 11, 25))
    imported = world.sync(kind="invoice_import")
    assert imported.run.status == "succeeded", imported.run.error_message
    _fail_on(ledger_consistent(world))


@GAP_BEFORE
def test_a_payment_imported_before_its_invoice_is_applied_when_the_invoice_arrives(engine, sandbox) -> None:
    """An invoice paid in full in Intacct before any sync saw it is not imported (nothing outstanding), but its
    payments are; when one of them is reversed the invoice is outstanding again and comes in: the payments that
    still pay it must then be applied to it in the ledger."""
    world = _world(engine, sandbox)
    customer = world.intacct.customers()[0]["CUSTOMERID"]
    number = "PAID-BEFORE-1"
    key = world.intacct.create_invoice(customer, number, [Decimal("100.00")], date(2026, 11, 2))
    world.intacct.pay(customer, "CHK-A", [(key, Decimal("60.00"))], date(2026, 11, 25))
    second = world.intacct.pay(customer, "CHK-B", [(key, Decimal("40.00"))], date(2026, 11, 25))
    world.touched |= {("invoice", number), ("customer", customer), ("payment", "CHK-A"), ("payment", "CHK-B")}
    _fail_on(sync_and_check(world))
    world.intacct.reverse_payment(second, date(2026, 11, 30))
    world.touched |= {("invoice", number), ("customer", customer), ("payment", "CHK-B")}
    _fail_on(sync_and_check(world))
    with Session(engine) as session:
        invoice = session.exec(select(Invoice).where(Invoice.number == number)).one()
        assert (invoice.amount_paid, invoice.balance) == (Decimal("60.00"), Decimal("40.00"))
