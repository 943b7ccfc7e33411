"""Diffs and run tables speak the user's words: no column names, enum values or 'False → True'."""
from __future__ import annotations

from console.widgets import diff_frame, runs_frame
from storage.models import SyncRun
from sync_engine.history import FieldChange


def test_diffs_show_labels_not_column_names_or_enum_values() -> None:
    frame = diff_frame([FieldChange("status", "open", "partially_paid"), FieldChange("active", "false", "true"),
                        FieldChange("customer_id", "3", "4")])
    assert frame.values.tolist() == [["Status", "Open", "Partly paid"], ["Active", "no", "yes"],
                                     ["Customer", "3", "4"]]


def test_the_runs_table_counts_unchanged_records_and_drops_an_always_empty_problem_column() -> None:
    frame = runs_frame([SyncRun(id=1, connection_id=1, kind="customer_import", status="succeeded",
                                unchanged_count=50)])
    assert frame.loc[0, "Unchanged"] == 50 and "Problem" not in frame.columns
