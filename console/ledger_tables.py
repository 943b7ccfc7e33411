"""Ledger list pages: filters, page picker, the selectable table, money columns, totals per currency and the
aging chart; label/value grids and CSV downloads."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import altair as alt
import pandas as pd
import streamlit as st

from console.formatting import (
    money,
    plain,
    totals_by_currency,
)
from console.state import (
    RECORD_DETAIL,
)
from console.tables import readable_table
from sync_engine.services.history import (
    AgingBucket,
)


def fields_grid(fields: dict[str, object], columns: int = 3) -> None:
    """Label/value pairs in a compact grid; empty values are left out."""
    shown = [(k, v) for k, v in fields.items() if v not in (None, "")]
    cols = st.columns(columns)
    for i, (label, value) in enumerate(shown):
        with cols[i % columns]:
            st.caption(label)
            st.markdown(plain(value))


def download_csv(frame: pd.DataFrame, name: str, label: str = "Download CSV") -> None:
    st.download_button(label, frame.to_csv(index=False).encode("utf-8"), file_name=name, mime="text/csv",
                       icon=":material/download:")


def money_column(label: str | None = None) -> Mapping[str, object]:
    """Amounts are pre-formatted exactly from Decimal, so the column only needs right alignment."""
    return st.column_config.TextColumn(label, alignment="right")


def summary_metrics(count_label: str, count: int, total: int, amount_label: str,
                    pairs: Sequence[tuple[str, Decimal]], extra: tuple[str, int] | None = None) -> None:
    """A row of metrics: how many are shown, one amount per currency (never summed across), one extra count."""
    totals = totals_by_currency(pairs) or {"": Decimal("0.00")}
    cols = st.columns(1 + len(totals) + (1 if extra else 0))
    cols[0].metric(count_label, f"{count:,}", help=f"{total:,} in the ledger")
    for col, (currency, amount) in zip(cols[1:], totals.items(), strict=False):
        col.metric(f"{amount_label} ({currency})" if currency else amount_label, money(amount))
    if extra:
        cols[-1].metric(extra[0], f"{extra[1]:,}")


def aging_chart(aging: Sequence[AgingBucket]) -> None:
    """Open balance by age, one bar per currency in each bucket (amounts of different currencies never added)."""
    frame = pd.DataFrame([{"Age": b.bucket, "Currency": b.currency, "Balance": float(b.amount),  # bar height only
                           "Amount": money(b.amount, b.currency), "Invoices": b.invoices} for b in aging])
    order = list(dict.fromkeys(frame["Age"]))
    st.altair_chart(alt.Chart(frame).mark_bar().encode(
        x=alt.X("Age:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("Currency:N"),
        y=alt.Y("Balance:Q", title="Open balance"),
        color=alt.Color("Currency:N", legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["Age", "Amount", "Invoices"]).properties(height=220))


def choice(label: str, labels: dict[str, str], *, key: str) -> str | None:
    """A filter select box over `labels` (value → label) with 'All' first; returns the value or None."""
    picked = st.selectbox(label, ["", *labels], key=key, format_func=lambda v: labels.get(v, "All"))
    return picked or None


PAGE_ROWS = 200  # rows a list page reads and shows at a time


def page_offset(count: int, *, key: str, rows: int = PAGE_ROWS) -> int:
    """A page picker when `count` rows do not fit one page; the offset of the chosen page's first row."""
    pages = max(1, -(-count // rows))
    if pages == 1:
        return 0
    page = st.number_input(f"Page (of {pages:,}, {rows} rows each)", min_value=1, max_value=pages, step=1, key=key)
    return (int(page) - 1) * rows


def ledger_table(frame: pd.DataFrame, ids: Sequence[int], *, record_type: str, key: str,
                 column_config: dict | None = None) -> None:
    """A ledger list; selecting a row opens the record with its field-by-field history."""
    frame, columns = readable_table(frame, column_config)
    event = st.dataframe(frame, hide_index=True, key=key, on_select="rerun", selection_mode="single-row",
                         column_config=columns)
    st.caption(f"{len(frame):,} shown. Select a row to see the record and its change history.")
    if event and event.selection.rows:
        st.switch_page(RECORD_DETAIL, query_params={"type": record_type, "id": str(ids[event.selection.rows[0]])})
