"""Links to a record's history page and to a run's detail page."""
from __future__ import annotations

import streamlit as st

from console.state import (
    RECORD_DETAIL,
    RUN_DETAIL,
)


def record_link(record_type: str, record_id: int, label: str) -> None:
    st.page_link(RECORD_DETAIL, label=label, icon=":material/history:",
                 query_params={"type": record_type, "id": str(record_id)})


def run_link(run_id: int, label: str | None = None) -> None:
    st.page_link(RUN_DETAIL, label=label or f"Open run #{run_id}", icon=":material/receipt_long:",
                 query_params={"run": str(run_id)})
