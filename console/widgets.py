"""The console's shared widgets, by job: `formatting` (pure, no Streamlit), `reader_time`, `links`, `notices`,
`sidebar`, `runs`, `ledger_tables` and `diffs`.

This module only re-exports them so the screens keep one import line; new code may import the module it needs.
"""
from __future__ import annotations

from console.diffs import diff_frame, run_changes_section
from console.formatting import (
    CATEGORY,
    CONNECTION_STATUS,
    FIELD_LABELS,
    INVOICE_STATUS,
    MONEY_FIELDS,
    ORIGIN,
    PREVIEW_BANNER,
    PREVIEW_RESULT,
    PREVIEW_STATUS,
    RUN_KIND,
    RUN_STATUS,
    RUN_TRIGGER,
    STEP,
    SYNC_STATE,
    ago,
    clock_text,
    diff_value,
    due_words,
    field_label,
    is_preview,
    money,
    plain,
    plural,
    run_status_label,
    run_title,
    span,
    totals_by_currency,
)
from console.ledger_tables import (
    PAGE_ROWS,
    aging_chart,
    choice,
    download_csv,
    fields_grid,
    ledger_table,
    money_column,
    page_offset,
    summary_metrics,
)
from console.links import record_link, run_link
from console.notices import (
    connection_badge,
    connection_warning,
    credentials_blocked,
    empty_state,
    needs_connection,
    setup_checklist,
    sync_blocker,
)
from console.reader_time import local, reader_zone, time_columns, when
from console.runs import (
    FIX_SCREEN,
    OUTCOME_COLORS,
    RETRIABLE,
    activity_chart,
    failure_group_cards,
    failure_groups_table,
    last_run_summary,
    live_runs_table,
    run_badges,
    run_counts,
    run_progress,
    run_status_badge,
    runs_frame,
    runs_table,
)
from console.sidebar import next_sync_caption, sidebar_status

__all__ = [
    "INVOICE_STATUS",
    "RUN_STATUS", "PREVIEW_STATUS", "PREVIEW_RESULT", "PREVIEW_BANNER", "RUN_KIND", "RUN_TRIGGER", "SYNC_STATE",
    "ORIGIN", "CONNECTION_STATUS", "STEP", "money", "clock_text", "ago", "span", "plain", "plural", "is_preview",
    "run_title", "run_status_label", "totals_by_currency", "FIELD_LABELS", "MONEY_FIELDS", "CATEGORY", "field_label",
    "diff_value", "due_words", "next_sync_caption", "reader_zone", "when",
    "local", "time_columns", "record_link", "run_link", "connection_badge",
    "empty_state", "needs_connection", "credentials_blocked", "sync_blocker", "setup_checklist", "connection_warning",
    "sidebar_status", "run_status_badge", "run_badges", "run_progress", "run_counts", "runs_frame", "runs_table",
    "live_runs_table",
    "last_run_summary", "OUTCOME_COLORS", "activity_chart", "failure_groups_table", "FIX_SCREEN", "RETRIABLE",
    "failure_group_cards", "fields_grid", "download_csv", "money_column", "summary_metrics", "aging_chart", "choice",
    "PAGE_ROWS", "page_offset", "ledger_table", "diff_frame", "run_changes_section",
]
