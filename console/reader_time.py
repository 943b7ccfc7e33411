"""Times in the reader's browser time zone: text, sortable table values and the table column configs."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from console.formatting import clock_text


def reader_zone() -> ZoneInfo:
    try:
        return ZoneInfo(st.context.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError, AttributeError):
        return ZoneInfo("UTC")


def when(moment: datetime | None, *, with_zone: bool = False) -> str:
    """A timestamp in the reader's browser time zone, e.g. '2025-03-04 14:05'."""
    return clock_text(moment, reader_zone(), with_zone=with_zone)


def local(moment: datetime | None) -> pd.Timestamp | None:
    """A timestamp in the reader's zone for a datetime column (sortable, unlike pre-formatted text)."""
    return None if moment is None else pd.Timestamp(moment.astimezone(reader_zone()))


def time_columns(name: str = "When") -> dict:
    """Column configs for a '5 minutes ago' column and its exact-time twin '<name> (exact)'."""
    return {name: st.column_config.DatetimeColumn(name, format="distance",
                                                  help="How long ago; the exact time is in the next column."),
            f"{name} (exact)": st.column_config.DatetimeColumn(f"{name} (exact)", format="YYYY-MM-DD HH:mm")}
