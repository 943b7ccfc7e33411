"""Pure formatting for the console: money, times, durations, statuses and field names in words.

Nothing here imports Streamlit, so it is tested on its own (`tests/console/test_formatting.py`); the reader's
time zone comes in as an argument (`console.reader_time` finds it in the browser).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from storage.models import SyncRun
from storage.types import utcnow

BadgeColor = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray", "grey", "primary"]
Style = tuple[str, BadgeColor, str | None]  # label, badge colour, icon
RUN_STATUS: dict[str, Style] = {
    "queued": ("Queued", "blue", ":material/schedule:"),
    "running": ("Running", "blue", ":material/sync:"),
    "succeeded": ("Succeeded", "green", ":material/check_circle:"),
    "partly_failed": ("Partly failed", "orange", ":material/warning:"),
    "failed": ("Failed", "red", ":material/error:"),
    "cancelled": ("Cancelled", "gray", ":material/cancel:"),
    "interrupted": ("Interrupted", "orange", ":material/pause_circle:"),
    "abandoned": ("Abandoned", "red", ":material/report:"),
}
PREVIEW_STATUS = {"succeeded": "Preview ready", "partly_failed": "Preview found problems", "failed": "Preview failed"}
PREVIEW_RESULT = {"failed": "Would fail", "created": "Would create", "updated": "Would update", "skipped": "Would skip"}
PREVIEW_BANNER = "Nothing was written: this shows what a sync would do."
RUN_KIND = {"accounting_sync": "Accounting sync", "customer_import": "Customer import",
            "invoice_import": "Invoice import"}
RUN_TRIGGER = {"auto": "Auto-sync", "manual": "Manual", "retry": "Retry of failures"}
SYNC_STATE = {"not_synced": "Not synced yet", "pending": "Pending", "synced": "Synced", "failed": "Failed",
              "skipped": "Don't sync"}
ORIGIN = {"ledger": "Our ledger", "intacct": "Intacct"}
CONNECTION_STATUS: dict[str, Style] = {"ok": ("Connected", "green", ":material/check_circle:"),
                     "failing": ("Sign-in failing", "red", ":material/error:"),
                     "not_tested": ("Not tested yet", "gray", ":material/help:")}
STEP = {"customers": "Reading customers from Intacct", "invoices": "Reading invoices from Intacct",
        "invoice_writes": "Writing invoices to Intacct", "payment_writes": "Writing payments to Intacct",
        "customer_writes": "Writing customers to Intacct", "payments": "Reading payments made in Intacct",
        "deletion_sweep": "Checking for records deleted in Intacct",
        "read_back": "Reading back from Intacct what was written"}


def money(amount: Decimal | None, currency: str | None = None) -> str:
    """'1,234.50' (or 'USD 1,234.50'): thousands separators, two decimals, exact Decimal formatting."""
    if amount is None:
        return ""
    text = format(Decimal(amount).quantize(Decimal("0.01")), ",.2f")
    return f"{currency} {text}" if currency else text


def clock_text(moment: datetime | None, zone: ZoneInfo, *, with_zone: bool = False) -> str:
    """A timestamp in `zone`, e.g. '2025-03-04 14:05' ('—' for none)."""
    if moment is None:
        return "—"
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M") + (f" {local.tzname()}" if with_zone else "")


def ago(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    seconds = int((utcnow() - moment).total_seconds())
    if seconds < 0:
        return "in " + span(timedelta(seconds=-seconds))
    if seconds < 60:
        return f"{seconds} s ago"
    return span(timedelta(seconds=seconds)) + " ago"


def due_words(due: datetime | None) -> str:
    """'due now' or 'due in 59 min 58 s' for `next_sync_due`'s answer; the main panel and the sidebar both use it."""
    if due is None:
        return "not scheduled"
    return "due now" if due <= utcnow() else f"due {ago(due)}"


def span(delta: timedelta | None) -> str:
    """'45 s', '3 min 05 s', '2 h 10 min'."""
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def plain(text: object) -> str:
    """Text from the ledger or Intacct, escaped so names like 'A*B_C' are not read as Markdown."""
    return "".join("\\" + ch if ch in "\\`*_{}[]<>()#+-.!|~$:" else ch for ch in str(text))


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def is_preview(run: SyncRun) -> bool:
    """A preview (dry run) reads Intacct and lists what a sync would do, writing nothing anywhere."""
    return run.is_preview


def status_style(status: str) -> Style:
    """A run status's label, badge colour and icon (an unknown status shows as itself, in grey)."""
    return RUN_STATUS.get(status) or (status, "gray", None)


def run_title(run: SyncRun) -> str:
    return f"Preview #{run.id}" if is_preview(run) else f"{RUN_KIND.get(run.kind, run.kind)} #{run.id}"


def run_status_label(run: SyncRun) -> str:
    """The status in words; a finished preview says what it found instead of 'succeeded'."""
    if is_preview(run) and run.status in PREVIEW_STATUS:
        return PREVIEW_STATUS[run.status]
    return RUN_STATUS.get(run.status, (run.status,))[0]


def totals_by_currency(pairs: Sequence[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Sum (currency, amount) pairs per currency, in Decimal."""
    totals: dict[str, Decimal] = {}
    for currency, amount in pairs:
        totals[currency] = totals.get(currency, Decimal("0.00")) + (amount or Decimal("0.00"))
    return dict(sorted(totals.items()))


FIELD_LABELS = {"intacct_recordno": "Intacct key", "intacct_customer_id": "Intacct customer ID",
                "intacct_modified_at": "Modified in Intacct", "intacct_state": "Intacct state",
                "customer_id": "Customer", "reversed_in_intacct": "Reversed in Intacct", "po_number": "PO number",
                "postal_code": "Postal code", "address1": "Address", "amount_paid": "Paid", "sync_state": "Sync"}
INVOICE_STATUS = {"draft": "Draft", "open": "Open", "partially_paid": "Partly paid", "paid": "Paid",
                  "voided": "Voided"}
MONEY_FIELDS = {"total", "amount_paid", "balance", "amount"}
CATEGORY = {"transient": "Will retry on the next sync", "ambiguous": "Will be checked with Intacct on the next sync",
            "authentication": "Sign-in refused", "record": "Needs attention", "validation": "Needs attention",
            "configuration": "Needs attention"}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def diff_value(name: str, value: str | None) -> str:
    if value in (None, ""):
        return "—"
    if name == "sync_state":
        return SYNC_STATE.get(value, value)
    if name == "status":
        return INVOICE_STATUS.get(value, value)
    if value in ("true", "false", "True", "False"):
        return "yes" if value.lower() == "true" else "no"
    if name in MONEY_FIELDS:
        try:
            return money(Decimal(value))
        except ArithmeticError:
            return value
    return value
