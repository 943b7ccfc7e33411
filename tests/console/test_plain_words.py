"""Diffs and run tables speak the user's words: no column names, enum values or 'False → True'."""
from __future__ import annotations

from sqlmodel import select

from console import state
from console.widgets import diff_frame, runs_frame
from storage.db import read_session
from storage.models import Customer, RecordVersion, SyncRun
from sync_engine.services.history import FieldChange
from sync_engine.services.settings import MappingForm, save_mapping
from tests.console.seed import seed_connection, seed_ledger


def test_diffs_show_labels_not_column_names_or_enum_values() -> None:
    frame = diff_frame([FieldChange("status", "open", "partially_paid"), FieldChange("active", "false", "true")])
    assert frame.values.tolist() == [["Status", "Open", "Partly paid"], ["Active", "no", "yes"]]


def test_the_runs_table_counts_unchanged_records_and_drops_an_always_empty_problem_column() -> None:
    frame = runs_frame([SyncRun(id=1, connection_id=1, kind="customer_import", status="succeeded",
                                unchanged_count=50)])
    assert frame.loc[0, "Unchanged"] == 50 and "Problem" not in frame.columns


def _cells(at) -> set[str]:  # type: ignore[no-untyped-def]
    return {str(v) for df in at.dataframe for v in df.value.astype(str).values.ravel()}


def test_an_invoice_whose_customer_changed_shows_the_customers_by_name_not_by_id(app_as, db) -> None:
    ids = seed_ledger(db)
    with read_session(db) as session:
        globex = session.exec(select(Customer).where(Customer.number == "C-200")).one()
        session.add_all([  # an import moved it to Globex (ledger ids), then a fix moved it back (numbers)
            RecordVersion(record_type="invoice", record_id=ids["inv3"], version=2, run_id=ids["bad_run"],
                          source="import", changes={"customer_id": [str(ids["acme"]), str(globex.id)]}),
            RecordVersion(record_type="invoice", record_id=ids["inv3"], version=3, source="edit",
                          changed_by="ann", changes={"customer": ["C-200", "C-100"]})])
        session.commit()
    at = app_as("viewer", query={"type": "invoice", "id": str(ids["inv3"])})
    at.switch_page(state.RECORD_DETAIL).run()
    diffs = [df.value for df in at.dataframe if list(df.value.columns) == ["Field", "Before", "After"]]
    assert [d.values.tolist() for d in diffs[:2]] == [
        [["Customer", "Globex GmbH (C-200)", "Acme Corp (C-100)"]],
        [["Customer", "Acme Corp (C-100)", "Globex GmbH (C-200)"]]]
    at = app_as("accountant", query={"run": str(ids["bad_run"])})
    at.switch_page(state.RUN_DETAIL).run()
    assert "Globex GmbH (C-200)" in _cells(at), "the run's own diff names the customer too"


def test_change_logs_name_each_setting_as_its_screen_does_with_values_in_words(app_as, db) -> None:
    connection_id = seed_connection(db)
    with read_session(db) as session:
        save_mapping(session=session, connection_id=connection_id, actor="admin-user", form=MappingForm(
            item_account_label="Sales", undeposited_funds_account="1010", read_customers=False))
    at = app_as("admin", state.SETTINGS)
    log = next(df.value for df in at.dataframe if "Setting" in df.value.columns)
    settings = set(log["Setting"])
    assert {"Gateway URL", "Company ID", "User password", "Read customers"} <= settings
    assert not {s for s in settings if "_" in s or s.islower()}, settings
    assert {"Connection", "Account mapping"} <= set(log["What"])
    reads = log[log["Setting"] == "Read customers"].iloc[0]
    assert (reads["Old"], reads["New"]) == ("on", "off")
    assert not {v for v in log["New"] if v in ("True", "False", "true", "false")}
    at.switch_page(state.CONNECTION).run()
    history = next(df.value for df in at.dataframe if "Setting" in df.value.columns)
    assert "Gateway URL" in set(history["Setting"]) and "endpoint_url" not in set(history["Setting"])


def test_field_names_in_a_run_pages_summary_line_keep_names_and_abbreviations() -> None:
    from console.diffs import in_sentence
    from console.formatting import field_label

    assert [in_sentence(field_label(f)) for f in ("due_date", "intacct_state", "po_number")] == [
        "due date", "Intacct state", "PO number"]
