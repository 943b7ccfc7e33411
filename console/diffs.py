"""Field-by-field changes: a version's Before/After table and the records a run changed."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from console.formatting import (
    diff_value,
    field_label,
    plural,
)
from console.links import record_link
from console.tables import show_table
from sync_engine.services.history import (
    FieldChange,
    RecordChange,
)


def in_sentence(label: str) -> str:
    """A field label inside a sentence: "Due date" -> "due date", but "Intacct state" and "PO number" keep
    their capitals (a name and an abbreviation)."""
    first = label.split(" ", 1)[0]
    if first == "Intacct" or (len(first) > 1 and first.isupper()):
        return label
    return label[:1].lower() + label[1:]


def diff_frame(changes: Sequence[FieldChange]) -> pd.DataFrame:
    """Field / Before / After rows of one version, with readable field names and amounts."""
    return pd.DataFrame([{"Field": field_label(c.field), "Before": diff_value(c.field, c.old),
                          "After": diff_value(c.field, c.new)} for c in changes],
                        columns=["Field", "Before", "After"])


def run_changes_section(changes: Sequence[RecordChange], *, shown: int = 30,
                        counts: tuple[int, int] | None = None) -> None:
    """Each record a run updated, as an expander with its field-by-field diff and a link to its history.

    `counts` = (updated, created) over the whole run when `changes` is only its first page.
    """
    updates = [c for c in changes if not c.created]
    updated_total, created = counts or (len(updates), len(changes) - len(updates))
    if not updates:
        st.caption("No existing record was changed." + (f" {plural(created, 'record')} were created: see the "
                                                          "table below." if created else ""))
        return
    st.caption(f"{plural(updated_total, 'record')} changed" + (f", {created:,} created" if created else "")
               + ". Open one to see each field before and after this run.")
    for change in updates[:shown]:
        names = ", ".join(in_sentence(field_label(c.field)) for c in change.changes[:4])
        more = f" +{len(change.changes) - 4}" if len(change.changes) > 4 else ""
        with st.expander(f"{change.label} · {names}{more}", expanded=len(updates) <= 3):
            show_table(diff_frame(change.changes))
            record_link(change.record_type, change.record_id, "Whole history of this record")
    if updated_total > shown:
        st.caption(f"{updated_total - shown:,} more changed records: pick 'Updated' in the table below.")
