"""Invoice and payment writes to the sandbox over HTTP, with bad records and every fault: no duplicate, nothing lost.

Every sync here runs with both read steps on, as users run it: the writes must hold up beside the imports of
the same run (the records we wrote come back on the next read and must be recognised, not refused).
"""
from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from storage.models import Customer, Invoice, JournalState, Payment, RunStatus, SyncRunItem, WriteJournal
from storage.types import utcnow
from tests.engine.helpers import connect, ledger_invoice, ledger_payment, run_now, sandbox_query
from tests.scheduler.helpers import wait_for

WRITE_STEPS = ("invoice_writes", "payment_writes")


def _written(engine, run_id: int, action: str = "created") -> list[str]:  # type: ignore[no-untyped-def]
    """Labels of the records the run's write steps gave `action` (the reads of the same run left out)."""
    with Session(engine) as session:
        return sorted(i.label for i in session.exec(select(SyncRunItem).where(
            SyncRunItem.run_id == run_id, SyncRunItem.action == action, SyncRunItem.step.in_(WRITE_STEPS))))


def _why(engine, run) -> str:  # type: ignore[no-untyped-def]
    """The run's message and its failed records, for an assertion that a run succeeded."""
    failed = "; ".join(f"{i.label}: {i.message}" for i in _items(engine, run.id, "failed"))
    return f"{run.status}: {run.error_message}; failed: {failed or 'none'}"


def _items(engine, run_id: int, action: str) -> list[SyncRunItem]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(SyncRunItem).where(SyncRunItem.run_id == run_id, SyncRunItem.action == action)))


def _sandbox_invoices(sandbox, number: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return sandbox_query(sandbox, "ARINVOICE", ["RECORDNO", "RECORDID", "CUSTOMERID", "TOTALENTERED", "TOTALPAID",
                                                 "TOTALDUE", "STATE"], f"RECORDID = '{number}'")


def test_invoice_and_payment_reach_intacct_with_balances(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        invoice = ledger_invoice(session, customer_number="L-100", invoice_number="L-INV-1", amounts=["1000.00", "250.50"])
        ledger_payment(session, invoice, "500.25", "WIRE-1")
    run = run_now(engine, connection_id, "accounting_sync")
    assert run.status == RunStatus.SUCCEEDED, _why(engine, run)
    assert _written(engine, run.id) == ["Customer L-100", "Invoice L-INV-1", "Payment WIRE-1 (L-100)"]
    [remote] = _sandbox_invoices(sandbox, "L-INV-1")
    assert remote["CUSTOMERID"] == "L-100"
    assert Decimal(remote["TOTALENTERED"]) == Decimal("1250.50")
    assert Decimal(remote["TOTALPAID"]) == Decimal("500.25")
    assert Decimal(remote["TOTALDUE"]) == Decimal("750.25")
    assert remote["STATE"] == "Partially Paid"
    payments = sandbox_query(sandbox, "ARPYMT", ["RECORDNO", "CUSTOMERID", "DOCNUMBER", "TOTALENTERED",
                                                 "UNDEPOSITEDACCOUNTNO"], "CUSTOMERID = 'L-100'")
    assert [(p["DOCNUMBER"], Decimal(p["TOTALENTERED"]), p["UNDEPOSITEDACCOUNTNO"]) for p in payments] == [
        ("WIRE-1", Decimal("500.25"), "1210")]
    with Session(engine) as session:
        stored = session.exec(select(Invoice).where(Invoice.number == "L-INV-1")).one()
        assert stored.intacct_recordno == remote["RECORDNO"] and stored.sync_state == "synced"
        assert session.exec(select(Payment)).one().intacct_recordno == payments[0]["RECORDNO"]
    wait_for(lambda: utcnow().replace(microsecond=0) > run.finished_at, timeout=5, what="a later second")
    again = run_now(engine, connection_id, "accounting_sync")  # the next sync, a moment later
    assert again.status == RunStatus.SUCCEEDED, _why(engine, again)
    assert (again.created_count, again.failed_count) == (0, 0)
    assert len(_sandbox_invoices(sandbox, "L-INV-1")) == 1


def test_bad_record_fails_alone_with_a_clear_message(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        ledger_invoice(session, customer_number="L-1", invoice_number="GOOD-1", amounts=["10.00"])
        ledger_invoice(session, customer_number="L-1", invoice_number="BAD-1", amounts=["20.00"], label="No Such Label")
        ledger_invoice(session, customer_number="L-2", invoice_number="GOOD-2", amounts=["30.00"])
    run = run_now(engine, connection_id, "accounting_sync")
    assert run.status == RunStatus.PARTLY_FAILED
    with Session(engine) as session:
        failed = session.exec(select(SyncRunItem).where(SyncRunItem.run_id == run.id, SyncRunItem.action == "failed")).all()
        assert [(f.label, f.error_category) for f in failed] == [("Invoice BAD-1", "validation")]
        assert "No Such Label" in failed[0].message and "line 1 of this invoice" in failed[0].message
    assert _sandbox_invoices(sandbox, "BAD-1") == []
    assert len(_sandbox_invoices(sandbox, "GOOD-1")) == len(_sandbox_invoices(sandbox, "GOOD-2")) == 1


def test_intacct_rejection_is_kept_with_errno(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        invoice = ledger_invoice(session, customer_number="L-7", invoice_number="OVERPAY-1", amounts=["10.00"])
        payment = ledger_payment(session, invoice, "10.00", "CHK-9")
        payment.method = "Barter"
        session.add(payment)
        session.commit()
    run = run_now(engine, connection_id, "accounting_sync")
    assert run.status == RunStatus.PARTLY_FAILED
    with Session(engine) as session:
        [item] = session.exec(select(SyncRunItem).where(SyncRunItem.run_id == run.id, SyncRunItem.action == "failed")).all()
        assert "Barter" in item.message


FAULTS = [
    pytest.param({"kind": "rate_limit", "next": 2}, id="429"),
    pytest.param({"kind": "http_503", "next": 1, "function": "create_invoice"}, id="503"),
    pytest.param({"kind": "http_524", "next": 1, "function": "create_invoice"}, id="524-after-commit"),
    pytest.param({"kind": "drop_connection", "next": 1, "function": "create_invoice"}, id="dropped-after-commit"),
    pytest.param({"kind": "expire_sessions", "next": 1}, id="session-expiry"),
]


@pytest.mark.parametrize("fault", FAULTS)
def test_faults_finish_with_no_duplicate_and_nothing_lost(engine, sandbox, fault) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        for n in range(3):
            invoice = ledger_invoice(session, customer_number="L-F", invoice_number=f"F-{n}", amounts=["100.00"])
        ledger_payment(session, invoice, "40.00", "F-PAY")
    sandbox.set_faults({"faults": [fault]})
    first = run_now(engine, connection_id, "accounting_sync")
    sandbox.clear_faults()
    if first.status != RunStatus.SUCCEEDED:
        retry = run_now(engine, connection_id, "accounting_sync")
        assert retry.status == RunStatus.SUCCEEDED, _why(engine, retry)
    for n in range(3):
        assert len(_sandbox_invoices(sandbox, f"F-{n}")) == 1, f"F-{n} duplicated or lost"
    payments = sandbox_query(sandbox, "ARPYMT", ["RECORDNO", "DOCNUMBER"], "CUSTOMERID = 'L-F'")
    assert [p["DOCNUMBER"] for p in payments] == ["F-PAY"]
    with Session(engine) as session:
        assert all(i.intacct_recordno for i in session.exec(select(Invoice)))
        states = {j.state for j in session.exec(select(WriteJournal))}
        assert states == {JournalState.CONFIRMED}


def test_uncertain_write_from_a_dead_run_is_adopted_not_resent(engine, sandbox) -> None:
    """A journal row left 'sent' by a crashed scheduler: the record is found in Intacct and linked."""
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        ledger_invoice(session, customer_number="L-C", invoice_number="CRASH-1", amounts=["75.00"])
    sandbox.set_faults({"faults": [{"kind": "drop_connection", "every": 1, "function": "create_invoice"}]})
    run_now(engine, connection_id, "accounting_sync")
    sandbox.clear_faults()
    with Session(engine) as session:
        entry = session.exec(select(WriteJournal).where(WriteJournal.operation == "create_invoice")).one()
        entry.state = JournalState.SENT  # as a killed process would leave it
        session.add(entry)
        invoice = session.exec(select(Invoice).where(Invoice.number == "CRASH-1")).one()
        invoice.intacct_recordno = None
        session.add(invoice)
        session.commit()
    sandbox.reset_stats()
    run = run_now(engine, connection_id, "accounting_sync")
    assert run.status == RunStatus.SUCCEEDED, _why(engine, run)
    assert "create_invoice" not in sandbox.stats()["functions"], "the uncertain invoice was sent again"
    [remote] = _sandbox_invoices(sandbox, "CRASH-1")
    with Session(engine) as session:
        assert session.exec(select(Invoice).where(Invoice.number == "CRASH-1")).one().intacct_recordno == remote["RECORDNO"]
        entry = session.exec(select(WriteJournal).where(WriteJournal.operation == "create_invoice")).one()
        assert entry.state == JournalState.CONFIRMED and entry.intacct_key == remote["RECORDNO"]
        for item in session.exec(select(SyncRunItem).where(SyncRunItem.run_id == run.id,
                                                           SyncRunItem.label == "Invoice CRASH-1",
                                                           SyncRunItem.step == "invoice_writes")):
            assert "not sent again" in (item.message or "")


def test_voided_invoice_is_reversed_not_deleted(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        ledger_invoice(session, customer_number="L-V", invoice_number="VOID-1", amounts=["80.00"])
    assert run_now(engine, connection_id, "accounting_sync").status == RunStatus.SUCCEEDED
    with Session(engine) as session:
        invoice = session.exec(select(Invoice).where(Invoice.number == "VOID-1")).one()
        invoice.status = "voided"
        session.add(invoice)
        session.commit()
    run = run_now(engine, connection_id, "accounting_sync")
    assert run.status == RunStatus.SUCCEEDED, _why(engine, run)
    [remote] = _sandbox_invoices(sandbox, "VOID-1")
    assert remote["STATE"] == "Reversed"


def test_secrets_never_reach_the_logs(engine, sandbox, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        ledger_invoice(session, customer_number="L-S", invoice_number="S-1", amounts=["1.00"])
    run_now(engine, connection_id, "accounting_sync")
    text = caplog.text
    # The full requests were logged (so a leak would show), with every secret element masked.
    assert "<create_invoice>" in text and "<password>***REDACTED***</password>" in text
    assert "<sessionid>***REDACTED***</sessionid>" in text
    for secret in (sandbox.user_password, sandbox.sender_password):
        assert secret not in text
    with Session(engine) as session:
        customer = session.exec(select(Customer).where(Customer.number == "L-S")).one()
        assert customer.sync_state == "synced"


def test_offline_service_is_retried_then_reported(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        ledger_invoice(session, customer_number="L-O", invoice_number="OFF-1", amounts=["5.00"])
    sandbox.set_faults({"faults": [{"kind": "offline", "next": 1}]})
    run = run_now(engine, connection_id, "accounting_sync")
    sandbox.clear_faults()
    if run.status != RunStatus.SUCCEEDED:
        assert run_now(engine, connection_id, "accounting_sync").status == RunStatus.SUCCEEDED
    assert len(_sandbox_invoices(sandbox, "OFF-1")) == 1


def test_a_bad_mapped_label_points_to_account_mapping(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = connect(session, sandbox, item_account_label="Retired Label")
        ledger_invoice(session, customer_number="L-M", invoice_number="MAP-1", amounts=["10.00"])
    run = run_now(engine, connection_id, "accounting_sync")
    with Session(engine) as session:
        [item] = session.exec(select(SyncRunItem).where(SyncRunItem.run_id == run.id, SyncRunItem.action == "failed")).all()
    assert item.message == "Account label 'Retired Label' does not exist in Intacct: fix it in Account mapping."
    assert _sandbox_invoices(sandbox, "MAP-1") == []


def test_a_ledger_customer_already_in_intacct_is_linked_not_created_again(engine, sandbox) -> None:
    existing = sandbox_query(sandbox, "CUSTOMER", ["RECORDNO", "CUSTOMERID"])[0]
    with Session(engine) as session:
        connection_id = connect(session, sandbox)
        ledger_invoice(session, customer_number=existing["CUSTOMERID"], invoice_number="LINK-1", amounts=["25.00"])
    run = run_now(engine, connection_id, "accounting_sync")
    assert run.status == RunStatus.SUCCEEDED, _why(engine, run)
    assert _written(engine, run.id) == ["Invoice LINK-1"]  # the invoice only: the customer was linked
    [remote] = _sandbox_invoices(sandbox, "LINK-1")
    assert remote["CUSTOMERID"] == existing["CUSTOMERID"]
    with Session(engine) as session:
        customer = session.exec(select(Customer).where(Customer.number == existing["CUSTOMERID"])).one()
        assert customer.intacct_recordno == existing["RECORDNO"]


def _connect_multi_entity(session: Session, sandbox, location: str | None) -> int:  # type: ignore[no-untyped-def]
    from sync_engine import settings

    connection = settings.save_connection(session=session, actor="tester", form=settings.ConnectionForm(
        endpoint_url=sandbox.url, company_id="DEMO-ME", user_id=sandbox.user_id, user_password=sandbox.user_password,
        sender_id=sandbox.sender_id, sender_password=sandbox.sender_password))
    settings.save_mapping(session=session, connection_id=connection.id, actor="tester", form=settings.MappingForm(
        item_account_label="Services Revenue", undeposited_funds_account="1210", location_id=location or ""))
    return connection.id  # type: ignore[return-value]


def test_multi_entity_company_needs_a_location_and_takes_it_from_the_mapping(engine, sandbox) -> None:
    with Session(engine) as session:
        connection_id = _connect_multi_entity(session, sandbox, location=None)
        ledger_invoice(session, customer_number="ME-1", invoice_number="ME-INV-1", amounts=["30.00"])
    refused = run_now(engine, connection_id, "accounting_sync")
    assert refused.status == RunStatus.PARTLY_FAILED
    with Session(engine) as session:
        [item] = session.exec(select(SyncRunItem).where(SyncRunItem.run_id == refused.id,
                                                        SyncRunItem.label == "Invoice ME-INV-1")).all()
        assert "Location" in item.message and item.errorno == "BL01001973"
        from sync_engine import settings

        mapping = settings.get_mapping(session=session, connection_id=connection_id)
        form = settings.MappingForm(item_account_label="Services Revenue", undeposited_funds_account="1210",
                                    location_id="US-EAST")
        settings.save_mapping(session=session, connection_id=mapping.connection_id, form=form, actor="tester")
    fixed = run_now(engine, connection_id, "accounting_sync")
    assert fixed.status == RunStatus.SUCCEEDED, _why(engine, fixed)
    reply = sandbox.call('<function controlid="q"><query><object>ARINVOICEITEM</object><select><field>LOCATIONID</field>'
                         '<field>RECORDKEY</field></select><filter><equalto><field>LOCATIONID</field><value>US-EAST</value>'
                         '</equalto></filter><options><showprivate>true</showprivate></options></query></function>',
                         company_id="DEMO-ME")
    assert reply.findtext(".//result/status") == "success"
    assert int(reply.find(".//result/data").get("count")) >= 1
