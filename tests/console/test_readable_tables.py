"""Every table the main screens show with a seeded ledger is readable: no column empty in every row, no raw
enum value or column name in its cells or headers, and each header fits its column (widths set)."""
from __future__ import annotations

import json

import pytest

from console import state
from tests.console.seed import seed_ledger

RAW = {"partially_paid", "not_synced", "partly_failed", "accounting_sync", "customer_import", "invoice_import",
       "True", "False", "nan", "None"}
SCREENS = [
    (state.ACCOUNTING_SYNC, None), (state.IMPORTS, None), (state.CONNECTION, None), (state.MAPPING, None),
    (state.CUSTOMERS, None), (state.INVOICES, None), (state.PAYMENTS, None), (state.SETTINGS, None),
    (state.RUN_DETAIL, "bad_run"), (state.RUN_DETAIL, "good_run"), (state.RECORD_DETAIL, "acme"),
    (state.RECORD_DETAIL, "inv3"), (state.RECORD_DETAIL, "pay"),
]


def _query(ids: dict[str, int], which: str | None) -> dict | None:
    if which is None:
        return None
    if which.endswith("run"):
        return {"run": str(ids[which])}
    kind = {"acme": "customer", "inv3": "invoice", "pay": "payment"}[which]
    return {"type": kind, "id": str(ids[which])}


@pytest.mark.parametrize("page, which", SCREENS, ids=[f"{p.split('/')[-1][:-3]}-{w or ''}" for p, w in SCREENS])
def test_no_table_has_an_always_empty_column_or_raw_values(app_as, db, page: str, which: str | None) -> None:
    ids = seed_ledger(db)
    at = app_as("admin", query=_query(ids, which))
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    for table in at.dataframe:
        frame = table.value
        if frame.empty:
            continue
        empty = [c for c in frame.columns
                 if all(v is None or str(v).strip() in ("", "—", "nan", "None", "NaT") for v in frame[c])]
        assert not empty, f"{page}: always-empty column(s) {empty} in a table of {list(frame.columns)}"
        headers = [str(c) for c in frame.columns]
        assert not [h for h in headers if "_" in h], f"{page}: column names as headers: {headers}"
        widths = json.loads(table.proto.columns or "{}")
        unsized = [h for h in headers if not (widths.get(h) or {}).get("width")]
        assert not unsized, f"{page}: columns without a width (headers may be cut): {unsized}"
        texts = frame[[c for c in frame.columns if frame[c].dtype != bool]]  # a yes/no column shows ticks
        cells = {str(v) for v in texts.astype(str).values.ravel()}
        assert not cells & RAW, f"{page}: raw values {cells & RAW} in {headers}"
