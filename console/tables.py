"""Readable tables: labelled columns wide enough for their headers, and no column that is empty in every row.

Every `st.dataframe` of the screens takes its `column_config` from here or sets widths of its own; a column
whose header would be cut ("Preview r…") gets a width that fits it.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import pandas as pd
import streamlit as st

CHANGE_COLUMNS = {
    "When": st.column_config.TextColumn("When", width="medium"),
    "Who": st.column_config.TextColumn("Who", width="medium"),
    "What": st.column_config.TextColumn("What", width="medium"),
    "Setting": st.column_config.TextColumn("Setting", width="medium"),
    "Old": st.column_config.TextColumn("Old", width="large"),
    "New": st.column_config.TextColumn("New", width="large"),
    "Note": st.column_config.TextColumn("Note", width="medium"),
}


Width = Literal["small", "medium", "large"]


def _width(frame: pd.DataFrame, column: str) -> Width:
    """small / medium / large: wide enough for the header and the longest of the first rows' values."""
    if pd.api.types.is_datetime64_any_dtype(frame[column]) or any(
            hasattr(v, "tzinfo") for v in frame[column].head(5)):
        return "medium"  # "5 minutes ago" or "2026-12-01 14:05"
    sample = [len(str(v)) for v in frame[column].head(50)]
    longest = max([len(str(column)) + 2, *sample])  # + room for the sort arrow
    return "small" if longest <= 9 else "medium" if longest <= 22 else "large"


def column_widths(frame: pd.DataFrame, config: dict | None = None) -> dict:
    """`config` with a width for every column of `frame` that has none, so no header or value is cut."""
    out = dict(config or {})
    for column in frame.columns:
        given = out.get(column)
        if given is None:
            out[column] = st.column_config.Column(str(column), width=_width(frame, column))
        elif isinstance(given, dict) and not given.get("width"):
            out[column] = {**given, "width": _width(frame, column)}
    return out


def readable_table(frame: pd.DataFrame, config: dict | None = None, *,
                   keep: Iterable[str] = ()) -> tuple[pd.DataFrame, dict]:
    """The frame without always-empty columns, and a column config with a width for each column."""
    frame = without_empty_columns(frame, keep=keep)
    return frame, column_widths(frame, config)


def show_table(frame: pd.DataFrame, config: dict | None = None, *, keep: Iterable[str] = (), **kwargs) -> object:
    """`st.dataframe` of a readable table (no index, full width unless told); returns its selection event."""
    frame, columns = readable_table(frame, config, keep=keep)
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    return st.dataframe(frame, column_config=columns, **kwargs)


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
