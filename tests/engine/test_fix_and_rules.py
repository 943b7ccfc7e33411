"""Fix it where it failed, against the sandbox over HTTP: Intacct's lists cached for pickers, item overrides and
payment routing used by the writes, failures grouped by cause, a record fixed and retried alone."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from storage.models import AccountMapping, AuditEvent, Invoice, InvoiceLine, Payment, RunStatus, SyncRun, SyncRunItem
from sync_engine.schedule.queue import enqueue_run, retry_records
from sync_engine.services.history import failure_groups, group_run_failures
from sync_engine.services.ledger_entry import (
    EntryError,
    InvoiceEntry,
    LineEntry,
    PaymentEntry,
    add_invoice,
    add_payment,
    check_invoice,
    check_payment,
)
from sync_engine.services.record_fixes import set_line_account_label
from sync_engine.sync import leases, runs
from sync_engine.sync.error_catalogue import classify
from sync_engine.sync.intacct_lists import choices, last_refreshed, problem, refresh_lists
from sync_engine.sync.write_rules import (
    BANK_ACCOUNT,
    GL_ACCOUNT,
    Deposit,
    OverrideRow,
    RoutingRow,
    RulesError,
    resolve_payment_deposit,
    routing_rules,
    save_item_overrides,
    save_routing_rules,
)
from tests.engine.helpers import HOLDER, connect, ledger_invoice, sandbox_query

WRITES_ONLY = {"read_customers": False, "read_invoices": False}


def _execute(engine, run_id: int) -> SyncRun:  # type: ignore[no-untyped-def]
    import threading

    claimed = leases.claim_next_run(engine=engine, holder=HOLDER)
    assert claimed is not None and claimed.id == run_id
    runs.execute_run(engine=engine, run_id=run_id, holder=HOLDER, stop=threading.Event())
    leases.release_lease(engine=engine, holder=HOLDER, run_id=run_id)
    with Session(engine) as session:
        return session.get(SyncRun, run_id)  # type: ignore[return-value]


def test_lists_are_read_from_intacct_and_check_values(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        assert last_refreshed(session=session, connection_id=connection_id) is None
        assert problem(session=session, connection_id=connection_id, list_name="account_labels",
                       value="Anything") is None, "a list never read checks nothing"
        counts = refresh_lists(session=session)
        assert counts["account_labels"] == 4 and counts["departments"] == 4 and counts["gl_accounts"] >= 10
        assert counts["bank_accounts"] == 2
        assert [c.label for c in choices(session=session, connection_id=connection_id, list_name="bank_accounts")
                ] == ["BOA-CHK — Bank of America Checking"], "the closed account is not offered"
        assert "inactive" in problem(session=session, connection_id=connection_id, list_name="bank_accounts",
                                     value="OLD-CHK")
        labels = [c.value for c in choices(session=session, connection_id=connection_id, list_name="account_labels")]
        assert "Services Revenue" in labels and "Legacy Revenue" not in labels, "pickers offer active entries"
        assert last_refreshed(session=session, connection_id=connection_id) is not None
        assert "inactive" in problem(session=session, connection_id=connection_id, list_name="account_labels",
                                     value="Legacy Revenue")
        assert "does not exist" in problem(session=session, connection_id=connection_id, list_name="gl_accounts",
                                           value="9999")
        assert refresh_lists(session=session) == counts, "a second refresh replaces, never doubles, the lists"


def test_forms_refuse_bad_entries_field_by_field(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        refresh_lists(session=session)
        invoice = ledger_invoice(session, customer_number="F-1", invoice_number="F-INV-1", amounts=["100.00"])
        problems = check_invoice(session=session, connection_id=connection_id, entry=InvoiceEntry(
            number="F-INV-1", customer_id=None, invoice_date=date(2026, 11, 2), due_date=date(2026, 11, 1),
            currency="dollars", lines=[LineEntry(amount=Decimal("10.005")),
                                       LineEntry(unit_price=Decimal("5"), account_label="Legacy Revenue")]))
        assert set(problems) == {"number", "customer", "due_date", "currency", "lines.1.amount",
                                 "lines.2.account_label"}
        with pytest.raises(EntryError):
            add_payment(session=session, actor="t", entry=PaymentEntry(
                customer_id=invoice.customer_id, reference="", received_on=None, amount=Decimal("-1"),
                method="Barter", applications=[(invoice.id, Decimal("500.00"))]))  # type: ignore[list-item]
        problems = check_payment(session=session, entry=PaymentEntry(
            customer_id=invoice.customer_id, reference="R-1", received_on=date(2026, 11, 3), amount=Decimal("50.00"),
            applications=[(invoice.id, Decimal("60.00"))]))  # type: ignore[list-item]
        assert set(problems) == {"applications"}, problems
        assert session.exec(select(Payment)).all() == [], "nothing saved while a problem remains"


def test_override_and_routing_decide_where_writes_land(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, **WRITES_ONLY)
        refresh_lists(session=session)
        with pytest.raises(RulesError, match="inactive"):
            save_item_overrides(session=session, connection_id=connection_id, actor="t",
                                rows=[OverrideRow("HW-1", "Legacy Revenue")])
        save_item_overrides(session=session, connection_id=connection_id, actor="t",
                            rows=[OverrideRow("HW-1", "Product Revenue")])
        with pytest.raises(RulesError, match="does not exist"):
            save_routing_rules(session=session, connection_id=connection_id, actor="t",
                               rows=[RoutingRow("Credit Card", None, "9999")])
        save_routing_rules(session=session, connection_id=connection_id, actor="t",
                           rows=[RoutingRow("Credit Card", None, "1000"), RoutingRow(None, "USD", "1210")])
        assert session.exec(select(AuditEvent).where(AuditEvent.entity == "payment_routing")).all()
        customer_id = ledger_invoice(session, customer_number="R-1", invoice_number="SEED",
                                     amounts=["1.00"]).customer_id
        invoice = add_invoice(session=session, actor="t", connection_id=connection_id, entry=InvoiceEntry(
            number="R-INV-1", customer_id=customer_id, invoice_date=date(2026, 11, 2),
            lines=[LineEntry(item_code="HW-1", quantity=Decimal("2"), unit_price=Decimal("40.00")),
                   LineEntry(description="Setup", unit_price=Decimal("20.00"))]))
        session.flush()
        add_payment(session=session, actor="t", entry=PaymentEntry(
            customer_id=customer_id, reference="CARD-1", received_on=date(2026, 11, 5), amount=Decimal("100.00"),
            method="Credit Card", applications=[(invoice.id, Decimal("100.00"))]))  # type: ignore[list-item]
        session.commit()
        mapping = session.exec(select(AccountMapping)).one()
        rules = routing_rules(session=session, connection_id=connection_id)
        assert resolve_payment_deposit(method="EFT", currency="usd", rules=rules, mapping=mapping) == Deposit(
            GL_ACCOUNT, "1210")
        assert resolve_payment_deposit(method="EFT", currency="EUR", rules=rules, mapping=mapping) == Deposit(
            GL_ACCOUNT, "1210")
        run = enqueue_run(session=session, connection_id=connection_id, kind="accounting_sync", requested_by="t")
    assert _execute(engine, run.id).status == RunStatus.SUCCEEDED
    [remote] = sandbox_query(sandbox, "ARINVOICE", ["RECORDNO", "TOTALENTERED"], "RECORDID = 'R-INV-1'")
    assert Decimal(remote["TOTALENTERED"]) == Decimal("100.00")
    lines = sandbox_query(sandbox, "ARINVOICEITEM", ["RECORDKEY", "ACCOUNTNO", "AMOUNT"],
                          f"RECORDKEY = '{remote['RECORDNO']}'")
    assert sorted((ln["ACCOUNTNO"], Decimal(ln["AMOUNT"])) for ln in lines) == [
        ("4000", Decimal("20.00")), ("4010", Decimal("80.00"))], "the item's override, else the mapped label"
    [payment] = sandbox_query(sandbox, "ARPYMT", ["DOCNUMBER", "UNDEPOSITEDACCOUNTNO"], "DOCNUMBER = 'CARD-1'")
    assert payment["UNDEPOSITEDACCOUNTNO"] == "1000", "the first matching routing rule wins"


def test_a_routing_rule_deposits_payments_into_a_bank_account_in_intacct(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, **WRITES_ONLY)
        refresh_lists(session=session)
        with pytest.raises(RulesError, match="Bank account 'OLD-CHK' is inactive"):
            save_routing_rules(session=session, connection_id=connection_id, actor="t",
                               rows=[RoutingRow("EFT", None, "OLD-CHK", BANK_ACCOUNT)])
        with pytest.raises(RulesError, match="Bank account '1210' does not exist"):  # a G/L account is not a bank
            save_routing_rules(session=session, connection_id=connection_id, actor="t",
                               rows=[RoutingRow("EFT", None, "1210", BANK_ACCOUNT)])
        with pytest.raises(RulesError, match="must be the last rule"):
            save_routing_rules(session=session, connection_id=connection_id, actor="t",
                               rows=[RoutingRow(None, None, "BOA-CHK", BANK_ACCOUNT), RoutingRow("Cash", None, "1210")])
        save_routing_rules(session=session, connection_id=connection_id, actor="t",
                           rows=[RoutingRow("Cash", None, "1210"), RoutingRow(None, None, "BOA-CHK", BANK_ACCOUNT)])
        [audit] = [e for e in session.exec(select(AuditEvent).where(AuditEvent.entity == "payment_routing"))
                   if e.field == "Rule 2"]
        assert audit.new_value == "any method, any currency → bank account BOA-CHK"
        invoice = ledger_invoice(session, customer_number="B-1", invoice_number="B-INV-1", amounts=["300.00"])
        for reference, method, amount in (("WIRE-1", "EFT", "200.00"), ("TILL-1", "Cash", "100.00")):
            add_payment(session=session, actor="t", entry=PaymentEntry(
                customer_id=invoice.customer_id, reference=reference, received_on=date(2026, 11, 5),
                amount=Decimal(amount), method=method,
                applications=[(invoice.id, Decimal(amount))]))  # type: ignore[list-item]
        session.commit()
        run = enqueue_run(session=session, connection_id=connection_id, kind="accounting_sync", requested_by="t")
    assert _execute(engine, run.id).status == RunStatus.SUCCEEDED
    fields = ["DOCNUMBER", "FINANCIALENTITY", "FINANCIALENTITYTYPE", "UNDEPOSITEDACCOUNTNO", "TOTALENTERED"]
    remote = {p["DOCNUMBER"]: p for p in sandbox_query(sandbox, "ARPYMT", fields, "CUSTOMERID = 'B-1'")}
    assert (remote["WIRE-1"]["FINANCIALENTITY"], remote["WIRE-1"]["UNDEPOSITEDACCOUNTNO"]) == ("BOA-CHK", ""), \
        "the default rule sends the EFT payment to the bank account"
    assert remote["WIRE-1"]["FINANCIALENTITYTYPE"] == "checkingaccount"
    assert Decimal(remote["WIRE-1"]["TOTALENTERED"]) == Decimal("200.00")
    assert (remote["TILL-1"]["FINANCIALENTITY"], remote["TILL-1"]["UNDEPOSITEDACCOUNTNO"]) == ("", "1210"), \
        "the cash rule comes first and keeps its undeposited funds account"


def test_validating_the_mapping_checks_each_routing_rule_s_account_in_intacct(engine, sandbox) -> None:
    from sync_engine.services.connection import validate_mapping

    with Session(engine) as session:  # the lists were never read, so the rules were saved unchecked
        connection_id = connect(session, sandbox)
        save_routing_rules(session=session, connection_id=connection_id, actor="t",
                           rows=[RoutingRow("EFT", None, "BOA-CHK", BANK_ACCOUNT),
                                 RoutingRow("Cash", None, "OLD-CHK", BANK_ACCOUNT), RoutingRow(None, "EUR", "1210")])
        result = validate_mapping(session=session)
    assert result.problems == ["Payment routing rule 2: bank account 'OLD-CHK' is inactive in Intacct."]
    assert "Payment routing rule 1: bank account 'BOA-CHK' found and active." in result.notes
    assert "Payment routing rule 3: account '1210' found and active." in result.notes


def test_a_failure_is_fixed_on_its_record_and_retried_alone(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, **WRITES_ONLY)
        for n in range(3):
            ledger_invoice(session, customer_number="B-1", invoice_number=f"BAD-{n}", amounts=["10.00"],
                           label="Legacy Revenue")
        run = enqueue_run(session=session, connection_id=connection_id, kind="accounting_sync", requested_by="t")
    first = _execute(engine, run.id)
    assert first.status == RunStatus.PARTLY_FAILED and first.failed_count == 3
    with Session(engine) as session:
        items = list(session.exec(select(SyncRunItem).where(SyncRunItem.run_id == run.id)))
        [group] = group_run_failures(items)
        assert len(group.items) == 3 and group.cause == "label_unusable" and group.screen == "record"
        assert [g.count for g in failure_groups(session=session)] == [3], "one cause, one group"
        bad = session.exec(select(Invoice).where(Invoice.number == "BAD-1")).one()
        line = session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == bad.id)).one()
        refresh_lists(session=session)
        with pytest.raises(ValueError, match="inactive"):
            set_line_account_label(session=session, line_id=line.id, account_label="Legacy Revenue", actor="t")
        set_line_account_label(session=session, line_id=line.id, account_label="Services Revenue", actor="t")
        retry = retry_records(session=session, connection_id=connection_id, records=[("invoice", bad.id)],
                              requested_by="t")
        assert retry_records(session=session, connection_id=connection_id, records=[("invoice", bad.id)],
                             requested_by="t").id == retry.id, "a second click adds to the queued retry"
    done = _execute(engine, retry.id)
    assert (done.status, done.created_count, done.failed_count) == (RunStatus.SUCCEEDED, 2, 0)  # its customer, then it
    assert len(sandbox_query(sandbox, "ARINVOICE", ["RECORDNO"], "RECORDID = 'BAD-1'")) == 1
    assert sandbox_query(sandbox, "ARINVOICE", ["RECORDNO"], "RECORDID = 'BAD-2'") == [], "only the chosen record"


def test_the_catalogue_groups_messages_that_differ_only_by_record() -> None:
    a = classify(errorno="BL01001973", message="Invalid Customer 'C-9' specified.", category="record")
    b = classify(errorno="BL01001973", message="Invalid Customer 'C-12' specified.", category="record")
    assert a == b and a.key == "customer_unknown" and a.fixed_on_record
    assert classify(errorno=None, message="Intacct is busy (429)", category="transient").key == "temporary"
    assert classify(errorno="XYZ", message="something new", category="record").key == "other"
    assert classify(errorno="BL01001973", message="Invalid bank account 'OLD-CHK' specified.",
                    category="record").key == "bank_account_unusable"
