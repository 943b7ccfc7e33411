"""Hostile and sloppy uploads: every bad value is a clear message on its row, never a silent misreading or a
traceback; oversized files are refused before parsing; invisible characters never reach the ledger."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from storage.models import Customer, Invoice
from sync_engine import ledger_csv
from sync_engine.ledger_csv import CsvFormatError, import_invoices_csv, import_payments_csv

HEADER = "invoice_number,customer_number,customer_name,invoice_date,amount\n"


def _upload(engine, body: str):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return import_invoices_csv(session=session, data=HEADER + body, actor="ann")


@pytest.mark.parametrize("amount, message", [
    ("1.000,00", "not an amount in our format"),
    ("1,00", "not an amount in our format"),
    ("1e28", "not an amount in our format"),
    ("1E+30", "not an amount in our format"),
    ("99999999999999999999999999999", "not an amount in our format"),
    ("10000000000.00", "more than the largest amount accepted (9,999,999,999.99)"),
    ("$12.00", "not an amount in our format"),
    ("NaN", "not an amount in our format"),
    ("12.345", "more than two decimals"),
    ("1,2345.00", "not an amount in our format"),
])
def test_amounts_outside_the_documented_format_are_refused_with_a_message(engine, amount: str, message: str) -> None:
    result = _upload(engine, f'X-1,N-1,New,2026-11-01,"{amount}"\nX-2,N-1,New,2026-11-01,10.00\n')
    assert [(p.row, p.column) for p in result.problems] == [(2, "amount")]
    assert message in result.problems[0].message
    assert result.created == ["X-2"]


def test_amounts_in_the_documented_format_are_read_exactly(engine) -> None:
    result = _upload(engine, 'A-1,N-1,New,2026-11-01,"1,250.00"\nA-2,N-1,New,2026-11-01,-7.5\n'
                             "A-3,N-1,New,2026-11-01,9999999999.99\nA-4,N-1,New,2026-11-01,42\n")
    assert result.ok
    with Session(engine) as session:
        totals = {i.number: i.total for i in session.exec(select(Invoice))}
    assert totals == {"A-1": Decimal("1250.00"), "A-2": Decimal("-7.50"), "A-3": Decimal("9999999999.99"),
                      "A-4": Decimal("42.00")}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_text_is_an_amount_or_a_clear_refusal(text: str) -> None:
    try:
        amount = ledger_csv._money(text)
    except ValueError as exc:
        assert "amount" in str(exc) or "decimals" in str(exc)
        return
    assert amount == amount.quantize(Decimal("0.01")) and abs(amount) <= ledger_csv.MAX_AMOUNT


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=-ledger_csv.MAX_AMOUNT, max_value=ledger_csv.MAX_AMOUNT, places=2))
def test_every_amount_we_document_reads_back_exactly(value: Decimal) -> None:
    assert ledger_csv._money(f"{value:.2f}") == value
    assert ledger_csv._money(f"{value:,.2f}") == value


@pytest.mark.parametrize("written", ["11/02/2026", "2026-2-1", "2026-02-30", "02.11.2026", "2026-11-02T00:00"])
def test_dates_are_only_yyyy_mm_dd(engine, written: str) -> None:
    result = _upload(engine, f"D-1,N-1,New,{written},10.00\n")
    assert [(p.column, "use YYYY-MM-DD" in p.message) for p in result.problems] == [("invoice_date", True)]


def test_a_field_over_128_kib_is_an_error_of_its_row_only(engine) -> None:
    huge = "x" * (200 * 1024)
    result = _upload(engine, f"H-1,N-1,New,2026-11-01,10.00\nH-2,N-1,{huge},2026-11-01,10.00\n"
                             "H-3,N-1,New,2026-11-01,10.00\n")
    assert result.created == ["H-1", "H-3"]
    assert [p.row for p in result.problems] == [3] and "cannot be read as CSV" in result.problems[0].message
    long_but_readable = "y" * 5000
    result = _upload(engine, f"L-1,N-1,{long_but_readable},2026-11-01,10.00\n")
    assert [(p.column, p.message) for p in result.problems] == [("customer_name",
                                                                "customer_name is longer than 4,000 characters")]
    assert len(result.problems[0].value) < 50  # the page does not echo 5,000 characters back


def test_a_file_over_the_limit_is_refused_before_parsing(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_UPLOAD_MAX_MB", "1")
    body = (HEADER + "B-1,N-1,New,2026-11-01,10.00\n" * 40_000).encode()
    assert len(body) > 1024 * 1024
    with Session(engine) as session, pytest.raises(CsvFormatError, match=r"uploads are limited to 1 MB"):
        import_invoices_csv(session=session, data=io.BytesIO(body), actor="ann")
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Invoice)).one() == 0
    assert ledger_csv.max_upload_bytes() == 1024 * 1024
    monkeypatch.delenv("CONSOLE_UPLOAD_MAX_MB")
    assert ledger_csv.max_upload_bytes() == 20 * 1024 * 1024


def test_invisible_characters_never_reach_the_ledger(engine) -> None:
    result = _upload(engine, "Z\u200b-1,C\ufeff-7\u200d,Zero\u00a0Width Co,2026-11-01,10.00\n")
    assert result.ok and result.created == ["Z-1"]
    with Session(engine) as session:
        customer = session.exec(select(Customer)).one()
    assert (customer.number, customer.name) == ("C-7", "Zero Width Co")


def test_rejected_rows_of_a_hostile_file_still_come_back_as_csv(engine) -> None:
    result = _upload(engine, 'R-1,N-1,New,2026-11-01,"1.000,00"\n')
    rejected = list(csv.DictReader(io.StringIO(result.rejected_csv)))
    assert rejected[0]["invoice_number"] == "R-1" and "not an amount" in rejected[0]["problem"]


def test_payments_are_parsed_as_strictly(engine) -> None:
    with Session(engine) as session:
        session.add(Customer(number="N-1", name="New"))
        session.commit()
        result = import_payments_csv(session=session, actor="ann", data=(
            "reference,customer_number,received_on,amount\nP-1,N-1,2026-11-02,\"1.000,00\"\n"
            "P-2,N-1,11/02/2026,10.00\n"))
    assert [(p.row, p.column) for p in result.problems] == [(2, "amount"), (3, "received_on")]


def test_extra_row_checks_run_on_every_row(engine) -> None:
    def no_test_customers(row):  # type: ignore[no-untyped-def]
        if row.get("customer_number", "").startswith("TEST"):
            yield "customer_number", "test customers are not uploaded"

    with Session(engine) as session:
        result = import_invoices_csv(session=session, actor="ann", row_checks=[no_test_customers],
                                     data=HEADER + "E-1,TEST-1,T,2026-11-01,1.00\nE-2,N-1,New,2026-11-01,1.00\n")
    assert result.created == ["E-2"] and [p.message for p in result.problems] == ["test customers are not uploaded"]


def test_a_company_id_with_a_zero_width_space_is_cleaned(engine) -> None:
    from sync_engine import settings as engine_settings

    with Session(engine) as session:
        saved = engine_settings.save_connection(session=session, actor="t", form=engine_settings.ConnectionForm(
            endpoint_url="http://127.0.0.1:9/ia/xml/xmlgw.phtml", company_id="\u200bDEMO-AR\u200b ", user_id="ws\u2060",
            user_password="pw-with-\u200b-kept", sender_id="s", sender_password="sp"))
        assert (saved.company_id, saved.user_id) == ("DEMO-AR", "ws")
        from storage.secrets import SecretBox

        assert SecretBox().decrypt(saved.user_password_enc) == "pw-with-\u200b-kept"  # passwords are never altered
