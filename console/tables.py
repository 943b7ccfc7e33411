"""Readable tables: labelled columns wide enough for their headers, and no column that is empty in every row.

Every `st.dataframe` of the screens takes its `column_config` from here or sets widths of its own; a column
whose header would be cut ("Preview r…") gets a width that fits it.
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import streamlit as st

CHANGE_COLUMNS = {
    "When": st.column_config.TextColumn("When", width="medium"),
    "Who": st.column_config.TextColumn("Who", width="small"),
    "What": st.column_config.TextColumn("What", width="medium"),
    "Setting": st.column_config.TextColumn("Setting", width="medium"),
    "Old": st.column_config.TextColumn("Old", width="large"),
    "New": st.column_config.TextColumn("New", width="large"),
    "Note": st.column_config.TextColumn("Note", width="medium"),
}


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and value.strip() in ("", "—")


def without_empty_columns(frame: pd.DataFrame, *, keep: Iterable[str] = ()) -> pd.DataFrame:
    """`frame` without the columns that are empty ('' , '—', None) in every row (those in `keep` stay)."""
    if frame.empty:
        return frame
    kept = set(keep)
    empty = [c for c in frame.columns if c not in kept and all(_blank(v) for v in frame[c])]
    return frame.drop(columns=empty)
