"""Shared widgets for the console pages: formatting (money, times, statuses), badges, empty states,
the sidebar status, the live run-progress panel, run tables and charts.

Pages stay thin by composing these; nothing here talks to Intacct, and long work is only ever watched,
never run.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import altair as alt
import pandas as pd
import streamlit as st

from console.state import (CONNECTION, MAPPING, RECORD_DETAIL, RUN_DETAIL, CurrentUser, credentials_problem, current_user,
                           get_engine, sign_out)
from storage.db import read_session
from storage.models import ACTIVE_RUN_STATUSES, IntacctConnection, Role, SyncRun
from storage.types import utcnow
from sync_engine.heartbeat import scheduler_status
from sync_engine.history import (AgingBucket, DayActivity, FailureGroup, FieldChange, RecordChange, RunFailureGroup,
                                 run_duration)
from sync_engine.queue import time_left
from sync_engine.settings import get_connection, get_schedule, next_sync_due

RUN_STATUS = {  # label, badge colour, icon
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
CONNECTION_STATUS = {"ok": ("Connected", "green", ":material/check_circle:"),
                     "failing": ("Sign-in failing", "red", ":material/error:"),
                     "not_tested": ("Not tested yet", "gray", ":material/help:")}
STEP = {"customers": "Reading customers", "invoices": "Reading invoices", "invoice_writes": "Writing invoices",
        "payment_writes": "Writing payments", "customer_writes": "Writing customers",
        "payments": "Reading payments made in Intacct", "deletion_sweep": "Checking for records deleted in Intacct",
        "read_back": "Reading back what was written"}


# --- formatting -----------------------------------------------------------------------------------------


def money(amount: Decimal | None, currency: str | None = None) -> str:
    """'1,234.50' (or 'USD 1,234.50'): thousands separators, two decimals, exact Decimal formatting."""
    if amount is None:
        return ""
    text = format(Decimal(amount).quantize(Decimal("0.01")), ",.2f")
    return f"{currency} {text}" if currency else text


def _zone() -> ZoneInfo:
    try:
        return ZoneInfo(st.context.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError, AttributeError):
        return ZoneInfo("UTC")


def when(moment: datetime | None, *, with_zone: bool = False) -> str:
    """A timestamp in the reader's browser time zone, e.g. '2025-03-04 14:05'."""
    if moment is None:
        return "—"
    local = moment.astimezone(_zone())
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
    """'due now' or 'in 59 min 58 s' for `next_sync_due`'s answer; the main panel and the sidebar both use it."""
    if due is None:
        return "not scheduled"
    return "due now" if due <= utcnow() else f"due {ago(due)}"


@st.fragment(run_every=15)
def next_sync_caption(connection_id: int) -> None:
    """The main panel's "Next sync due …", refreshed like the sidebar so the two agree after an auto-run."""
    with read_session(get_engine()) as session:
        due = next_sync_due(session=session, connection_id=connection_id)
    st.caption(f"Next sync {due_words(due)}" + (f" ({when(due)})." if due is not None else "."))


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


def run_title(run: SyncRun) -> str:
    return f"Preview #{run.id}" if is_preview(run) else f"{RUN_KIND.get(run.kind, run.kind)} #{run.id}"


def run_status_label(run: SyncRun) -> str:
    """The status in words; a finished preview says what it found instead of 'succeeded'."""
    if is_preview(run) and run.status in PREVIEW_STATUS:
        return PREVIEW_STATUS[run.status]
    return RUN_STATUS.get(run.status, (run.status,))[0]


# --- small pieces ---------------------------------------------------------------------------------------


def run_status_badge(status: str) -> None:
    label, color, icon = RUN_STATUS.get(status, (status, "gray", None))
    st.badge(label, color=color, icon=icon)


def run_badges(run: SyncRun) -> None:
    """The run's status badge, and a violet 'Preview' badge when nothing was written."""
    if is_preview(run):
        st.badge("Preview · nothing written", color="violet", icon=":material/visibility:")
        _, color, icon = RUN_STATUS.get(run.status, (run.status, "gray", None))
        st.badge(run_status_label(run), color=color, icon=icon)
    else:
        run_status_badge(run.status)


def connection_badge(connection: IntacctConnection | None) -> None:
    if connection is None:
        st.badge("Not connected", color="gray", icon=":material/link_off:")
        return
    label, color, icon = CONNECTION_STATUS.get(connection.status, CONNECTION_STATUS["not_tested"])
    st.badge(label, color=color, icon=icon)


def empty_state(title: str, body: str, links: Sequence[tuple[str, str, str]] = ()) -> None:
    """A bordered box saying why a list is empty and what to do next; links are (page, label, icon)."""
    with st.container(border=True):
        st.markdown(f"**{title}**")
        st.caption(body)
        for page, label, icon in links:
            st.page_link(page, label=label, icon=icon)


def needs_connection(connection: IntacctConnection | None, user: CurrentUser) -> bool:
    """Say what to do when Intacct is not connected yet; True when there is no connection."""
    if connection is not None:
        return False
    links = [(CONNECTION, "Set up the Intacct connection", ":material/link:")] if user.can(Role.ADMIN) else []
    who = "" if links else " Ask an administrator to set it up."
    empty_state("Intacct is not connected yet",
                f"Syncs and imports need the company's web services credentials first.{who}", links)
    return True


def credentials_blocked(connection: IntacctConnection, user: CurrentUser) -> bool:
    """Explain stored credentials the current key cannot open (and how to fix it); True when that is the case.

    Pages keep showing their history below the message: only the actions that need Intacct are blocked.
    """
    problem = credentials_problem(connection)
    if not problem:
        return False
    st.error(f"The Intacct credentials cannot be read: {problem}. Re-enter the user password and the sender "
             "password on Connection and save; nothing else is lost.", icon=":material/key_off:")
    if user.can(Role.ADMIN):
        st.page_link(CONNECTION, label="Re-enter the credentials", icon=":material/key:")
    return True


def sync_blocker(connection: IntacctConnection, user: CurrentUser, *, blocked: bool,
                 active: SyncRun | None) -> tuple[str | None, tuple[str, str, str] | None]:
    """Why Sync Now / Preview cannot start right now, and the one link that fixes it (page, label, icon)."""
    admin = user.can(Role.ADMIN)
    fix = (CONNECTION, "Fix the connection", ":material/build:") if admin else None
    if not user.can(Role.ACCOUNTANT):
        return "Only accountants and administrators can start syncs.", None
    if blocked:
        return "The stored Intacct credentials cannot be read: re-enter them first.", fix
    if connection.status == "failing":
        return ("Intacct refused the sign-in at the last test, so a sync would fail the same way. "
                + ("Fix the credentials, then press Test connection." if admin
                   else "Ask an administrator to fix the connection.")), fix
    if active is not None:
        what = "A preview" if is_preview(active) else "A sync"
        return (f"{what} (run #{active.id}) is already {RUN_STATUS.get(active.status, (active.status,))[0].lower()}: "
                "wait for it to finish or open it to cancel it."), None
    return None, None


def setup_checklist(connection: IntacctConnection, mapping_validated: bool, runs: Sequence[SyncRun]) -> None:
    """First steps until the first real sync has finished: what is done, and a link to the next step."""
    steps = [(connection.status == "ok", "Connect Intacct and test the connection", CONNECTION),
             (mapping_validated, "Map the accounts and validate them against Intacct", MAPPING),
             (any(is_preview(r) and r.finished_at for r in runs), "Preview the first sync (writes nothing)", None),
             (any(not is_preview(r) and r.finished_at for r in runs), "Run the first sync", None)]
    with st.container(border=True):
        st.markdown("**Getting started**")
        for done, label, page in steps:
            mark = ":green[:material/check_circle:]" if done else ":gray[:material/radio_button_unchecked:]"
            if page and not done and (user := current_user()) is not None and user.can(Role.ADMIN):
                st.page_link(page, label=label, icon=":material/arrow_forward:")
            else:
                st.markdown(f"{mark} {label}")


def connection_warning(connection: IntacctConnection | None, user: CurrentUser) -> None:
    """A red banner when the last connection test failed: syncs would fail the same way."""
    if connection is not None and connection.status == "failing":
        st.error(f"Intacct sign-in is failing: {connection.last_test_message or 'no details'} "
                 f"(tested {ago(connection.last_tested_at)}). Syncs and imports will fail until this is fixed.",
                 icon=":material/error:")
        if user.can(Role.ADMIN):
            st.page_link(CONNECTION, label="Fix the connection", icon=":material/link:")


def record_link(record_type: str, record_id: int, label: str) -> None:
    st.page_link(RECORD_DETAIL, label=label, icon=":material/history:",
                 query_params={"type": record_type, "id": str(record_id)})


def fields_grid(fields: dict[str, object], columns: int = 3) -> None:
    """Label/value pairs in a compact grid; empty values are left out."""
    shown = [(k, v) for k, v in fields.items() if v not in (None, "")]
    cols = st.columns(columns)
    for i, (label, value) in enumerate(shown):
        with cols[i % columns]:
            st.caption(label)
            st.markdown(plain(value))


def run_link(run_id: int, label: str | None = None) -> None:
    st.page_link(RUN_DETAIL, label=label or f"Open run #{run_id}", icon=":material/receipt_long:",
                 query_params={"run": str(run_id)})


def download_csv(frame: pd.DataFrame, name: str, label: str = "Download CSV") -> None:
    st.download_button(label, frame.to_csv(index=False).encode("utf-8"), file_name=name, mime="text/csv",
                       icon=":material/download:")


# --- sidebar --------------------------------------------------------------------------------------------


def sidebar_status(user: CurrentUser) -> None:
    """Connection health, scheduler heartbeat and the signed-in user, on every page."""
    with st.sidebar:
        _health()
        st.divider()
        st.caption(f"Signed in as **{plain(user.display_name)}** ({user.role})")
        st.button("Sign out", icon=":material/logout:", on_click=sign_out, key="sign_out")


@st.fragment(run_every=15)
def _health() -> None:
    # Refreshed on its own so a scheduler that dies while the page sits open is noticed without a click.
    with read_session(get_engine()) as session:
        connection = get_connection(session=session)
        scheduler = scheduler_status(session=session)
        schedule = get_schedule(session=session, connection_id=connection.id) if connection else None
        next_due = next_sync_due(session=session, connection_id=connection.id) if connection else None
    user = current_user()
    admin = user is not None and user.can(Role.ADMIN)
    st.caption("Intacct connection")
    connection_badge(connection)
    if connection is not None and connection.status == "failing":
        st.caption(f"Intacct refused the sign-in {ago(connection.last_tested_at)}. Syncs fail until it is fixed.",
                   help=connection.last_test_message)
        if admin:
            st.page_link(CONNECTION, label="Fix the connection", icon=":material/build:")
    elif connection is not None:
        tested = f"tested {ago(connection.last_tested_at)}" if connection.last_tested_at else "never tested"
        st.caption(f"Company {connection.company_id} · {tested}")
    elif admin:
        st.page_link(CONNECTION, label="Set up the connection", icon=":material/link:")
    if connection is not None:
        st.caption("Auto-sync")
        if schedule is not None and schedule.paused_reason:
            st.badge("Paused", color="red", icon=":material/pause_circle:")
            st.caption("Intacct refused the sign-in, so hourly syncs stopped (to avoid locking the user out). "
                       "Fix the connection and test it to resume.")
        elif schedule is not None and schedule.enabled:
            st.badge("On", color="green", icon=":material/autorenew:")
            st.caption(f"Next sync {due_words(next_due)}", help=when(next_due, with_zone=True))
        else:
            st.badge("Off", color="gray", icon=":material/sync_disabled:")
    st.caption("Scheduler")
    if scheduler.alive:
        st.badge("Running", color="green", icon=":material/favorite:")
        st.caption(f"Last heartbeat {ago(scheduler.last_beat)}", help=scheduler.message)
    else:
        st.badge("Not running", color="red", icon=":material/heart_broken:")
        st.warning("Syncs wait in the queue until it runs again. "
                   + ((f"{'Restart' if scheduler.last_beat else 'Start'} it: `python -m sync_engine.scheduler`.")
                      if admin else "Tell your administrator."),
                   icon=":material/warning:")
        st.caption(f"Last heartbeat {ago(scheduler.last_beat)}" if scheduler.last_beat else "It has never run.",
                   help=scheduler.message)


# --- runs -----------------------------------------------------------------------------------------------


@st.fragment(run_every=2)
def run_progress(run_id: int) -> None:
    """The live panel of a queued or running run; reruns the page when the run ends."""
    with read_session(get_engine()) as session:
        run = session.get(SyncRun, run_id)
        scheduler = scheduler_status(session=session)
    if run is None or run.status not in ACTIVE_RUN_STATUSES:
        st.rerun()
    with st.container(border=True):
        head, badge = st.columns([4, 1])
        head.markdown(f"**{run_title(run)}** · requested by {run.requested_by or 'auto-sync'} {ago(run.queued_at)}"
                      + (" · a preview: nothing will be written" if is_preview(run) else ""))
        with badge:
            run_status_badge(run.status)
        if run.status == "queued":
            st.progress(0, text="Waiting for the scheduler to pick this up…")
            if not scheduler.alive:
                st.warning(scheduler.message, icon=":material/heart_broken:")
            return
        step = STEP.get(run.step or "", run.step or "Starting")
        done, total = run.progress_done, run.progress_total
        left = time_left(run)
        remaining = f"about {span(left)} left" if left is not None else "time left: counting…"
        if total:
            st.progress(min(done / total, 1.0), text=f"{step} · {done:,} of {total:,} records · {remaining}")
        else:
            st.progress(0, text=f"{step} · {done:,} records so far · {remaining}")
        if not scheduler.alive:
            st.warning(f"{scheduler.message} This run stops advancing; it will be marked abandoned and its "
                       "in-flight writes checked against Intacct before anything is sent again.",
                       icon=":material/heart_broken:")
        st.caption(f"Created {run.created_count:,} · updated {run.updated_count:,} · unchanged "
                   f"{run.unchanged_count:,} · skipped {run.skipped_count:,} · failed {run.failed_count:,} · "
                   f"running for {span(run_duration(run))}"
                   + (" · stopping after the current record…" if run.cancel_requested else ""))


def local(moment: datetime | None) -> pd.Timestamp | None:
    """A timestamp in the reader's zone for a datetime column (sortable, unlike pre-formatted text)."""
    return None if moment is None else pd.Timestamp(moment.astimezone(_zone()))


def time_columns(name: str = "When") -> dict:
    """Column configs for a '5 minutes ago' column and its exact-time twin '<name> (exact)'."""
    return {name: st.column_config.DatetimeColumn(name, format="distance",
                                                  help="How long ago; the exact time is in the next column."),
            f"{name} (exact)": st.column_config.DatetimeColumn(f"{name} (exact)", format="YYYY-MM-DD HH:mm")}


def runs_frame(runs: Sequence[SyncRun]) -> pd.DataFrame:
    rows = []
    for run in runs:
        what = "Preview (nothing written)" if is_preview(run) else RUN_KIND.get(run.kind, run.kind)
        who = run.requested_by or "Auto-sync"
        if run.trigger == "retry":
            who += " (retry)"
        rows.append({"Run": f"#{run.id}", "What": what, "When": local(run.queued_at),
                     "When (exact)": local(run.queued_at), "Status": run_status_label(run),
                     "Failed": run.failed_count, "Created": run.created_count, "Updated": run.updated_count,
                     "Unchanged": run.unchanged_count, "Started by": who, "Duration": span(run_duration(run)),
                     "Problem": run.error_message or ""})
    frame = pd.DataFrame(rows)
    if not frame.empty and not frame["Problem"].astype(bool).any():
        frame = frame.drop(columns=["Problem"])  # an always-empty column only costs width
    return frame


def runs_table(runs: Sequence[SyncRun], *, key: str) -> None:
    """Recent runs (previews marked as such); selecting a row opens its detail page."""
    frame = runs_frame(runs)
    event = st.dataframe(frame, hide_index=True, key=key, on_select="rerun", selection_mode="single-row",
                         column_config={**time_columns(), "Problem": st.column_config.TextColumn(width="large"),
                                        "Created": st.column_config.NumberColumn(format="localized"),
                                        "Updated": st.column_config.NumberColumn(format="localized"),
                                        "Unchanged": st.column_config.NumberColumn(
                                            format="localized", help="Records read that were already as in Intacct"),
                                        "Failed": st.column_config.NumberColumn(
                                            format="localized", help="Records that failed (in a preview: would fail)")})
    st.caption("Select a row to see every record the run touched.")
    if event and event.selection.rows:
        st.switch_page(RUN_DETAIL, query_params={"run": str(runs[event.selection.rows[0]].id)})


def last_run_summary(run: SyncRun) -> None:
    """One line saying how the last finished sync went, with a link to it: the first thing people look for."""
    label, color, icon = RUN_STATUS.get(run.status, (run.status, "gray", None))
    counts = [f"{n:,} {w}" for n, w in ((run.created_count, "created"), (run.updated_count, "updated"),
                                        (run.failed_count, "failed")) if n]
    with st.container(border=True):
        text, link = st.columns([4, 1], vertical_alignment="center")
        quiet = "nothing needed changing" if run.status == "succeeded" else "no record was changed"
        problem = run.error_message if run.error_message and run.error_category != "authentication" else None
        text.markdown(f"{icon} **Last sync :{color}[{label.lower()}]** {ago(run.finished_at)} · "
                      + (", ".join(counts) if counts else quiet)
                      + (f" · {plain(problem)}" if problem else "")
                      + (" · Intacct refused the sign-in" if run.error_category == "authentication" else ""),
                      help=f"Finished {when(run.finished_at, with_zone=True)}")
        with link:
            run_link(run.id, "Open it")


OUTCOME_COLORS = {"succeeded": "#2e7d32", "partly failed": "#ef8f00", "failed": "#c62828", "stopped": "#9e9e9e"}


def activity_chart(activity: Sequence[DayActivity], *, days: int = 14) -> None:
    """Stacked bars of finished runs per day by outcome (every day shown, quiet ones empty); failed records in
    the tooltip."""
    today = utcnow().astimezone(_zone()).date()
    axis = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    rows = [{"Day": d.strftime("%b %d"), "Outcome": "succeeded", "Runs": 0, "Failed records": 0} for d in axis]
    rows += [{"Day": a.day.strftime("%b %d"), "Outcome": a.outcome, "Runs": a.runs, "Failed records": a.failed_records}
             for a in activity]
    chart = alt.Chart(pd.DataFrame(rows)).mark_bar(size=18).encode(
        x=alt.X("Day:O", sort=[d.strftime("%b %d") for d in axis], title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("sum(Runs):Q", title="Runs", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("Outcome:N", scale=alt.Scale(domain=list(OUTCOME_COLORS), range=list(OUTCOME_COLORS.values())),
                        legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["Day:O", "Outcome:N", alt.Tooltip("sum(Runs):Q", title="Runs"),
                 alt.Tooltip("sum(Failed records):Q", title="Failed records")],
    ).properties(height=220)
    st.altair_chart(chart)


def failure_groups_table(groups: Sequence[FailureGroup]) -> None:
    frame = pd.DataFrame([{
        "Records": g.count, "Cause": g.message, "Intacct error": g.errorno or "checked before sending",
        "What to do": g.correction or "", "Examples": ", ".join(g.records[:3]) + (" …" if g.count > 3 else ""),
        "Last seen": when(g.last_at), "Last run": f"#{g.last_run_id}",
    } for g in groups])
    st.dataframe(frame, hide_index=True, column_config={"Cause": st.column_config.TextColumn(width="large"),
                                                        "What to do": st.column_config.TextColumn(width="large")})



# --- ledger tables --------------------------------------------------------------------------------------


def money_column(label: str | None = None) -> st.column_config.TextColumn:
    """Amounts are pre-formatted exactly from Decimal, so the column only needs right alignment."""
    return st.column_config.TextColumn(label, alignment="right")


def totals_by_currency(pairs: Sequence[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Sum (currency, amount) pairs per currency, in Decimal."""
    totals: dict[str, Decimal] = {}
    for currency, amount in pairs:
        totals[currency] = totals.get(currency, Decimal("0.00")) + (amount or Decimal("0.00"))
    return dict(sorted(totals.items()))


def summary_metrics(count_label: str, count: int, total: int, amount_label: str,
                    pairs: Sequence[tuple[str, Decimal]], extra: tuple[str, int] | None = None) -> None:
    """A row of metrics: how many are shown, one amount per currency (never summed across), one extra count."""
    totals = totals_by_currency(pairs) or {"": Decimal("0.00")}
    cols = st.columns(1 + len(totals) + (1 if extra else 0))
    cols[0].metric(count_label, f"{count:,}", help=f"{total:,} in the ledger")
    for col, (currency, amount) in zip(cols[1:], totals.items()):
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
    event = st.dataframe(frame, hide_index=True, key=key, on_select="rerun", selection_mode="single-row",
                         column_config=column_config)
    st.caption(f"{len(frame):,} shown. Select a row to see the record and its change history.")
    if event and event.selection.rows:
        st.switch_page(RECORD_DETAIL, query_params={"type": record_type, "id": str(ids[event.selection.rows[0]])})


# --- field diffs and failure groups ---------------------------------------------------------------------

FIELD_LABELS = {"intacct_recordno": "Intacct key", "intacct_customer_id": "Intacct customer ID",
                "intacct_modified_at": "Modified in Intacct", "intacct_state": "Intacct state",
                "customer_id": "Customer", "reversed_in_intacct": "Reversed in Intacct", "po_number": "PO number", "postal_code": "Postal code",
                "address1": "Address", "amount_paid": "Paid", "sync_state": "Sync"}
INVOICE_STATUS = {"draft": "Draft", "open": "Open", "partially_paid": "Partly paid", "paid": "Paid",
                  "voided": "Voided"}
MONEY_FIELDS = {"total", "amount_paid", "balance", "amount"}
CATEGORY = {"transient": "Will retry on the next sync", "ambiguous": "Will be checked with Intacct on the next sync",
            "authentication": "Sign-in refused", "record": "Needs attention", "validation": "Needs attention",
            "configuration": "Needs attention"}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def _diff_value(name: str, value: str | None) -> str:
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


def diff_frame(changes: Sequence[FieldChange]) -> pd.DataFrame:
    """Field / Before / After rows of one version, with readable field names and amounts."""
    return pd.DataFrame([{"Field": field_label(c.field), "Before": _diff_value(c.field, c.old),
                          "After": _diff_value(c.field, c.new)} for c in changes],
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
        names = ", ".join(field_label(c.field).lower() for c in change.changes[:4])
        more = f" +{len(change.changes) - 4}" if len(change.changes) > 4 else ""
        with st.expander(f"{change.label} · {names}{more}", expanded=len(updates) <= 3):
            st.dataframe(diff_frame(change.changes), hide_index=True, width="stretch")
            record_link(change.record_type, change.record_id, "Whole history of this record")
    if updated_total > shown:
        st.caption(f"{updated_total - shown:,} more changed records: pick 'Updated' in the table below.")


FIX_SCREEN = {"mapping": (MAPPING, "Open Account mapping", ":material/account_tree:"),
              "connection": (CONNECTION, "Open Connection", ":material/link:")}
RETRIABLE = ("invoice", "payment")  # ledger records a run can write on their own


def failure_group_cards(groups: Sequence[RunFailureGroup], *, shown_links: int = 6,
                        on_retry: Callable[[list[tuple[str, int]]], None] | None = None) -> None:
    """A run's failures grouped by cause: the cause in plain words, what Intacct said, the next step with the
    screen that fixes it, whether it retries by itself, links to the records, and "Retry these records"."""
    attention = sum(len(g.items) for g in groups if g.needs_attention)
    retry = sum(len(g.items) for g in groups) - attention
    parts = ([f":red[**{plural(attention, 'record')} need{'s' if attention == 1 else ''} attention**]"]
             if attention else []) + ([f"{plural(retry, 'record')} will retry on the next sync"] if retry else [])
    st.markdown(" · ".join(parts))
    for n_group, group in enumerate(groups):
        with st.container(border=True):
            head, tag = st.columns([4, 1.3], vertical_alignment="center")
            source = (f"Intacct error `{group.errorno}`" if group.errorno
                      else "found before sending to Intacct" if group.category == "validation" else "")
            head.markdown(f"**{plain(group.message)}** · {plural(len(group.items), 'record')}"
                          + (f" · {source}" if source else ""))
            with tag:
                if group.needs_attention:
                    st.badge(CATEGORY.get(group.category or "", "Needs attention"), color="red",
                             icon=":material/build:")
                else:
                    st.badge(CATEGORY.get(group.category or "", "Will retry"), color="blue",
                             icon=":material/autorenew:")
            said = sorted({(i.message or "").strip() for i in group.items if i.message})
            if said:
                st.caption(("Message: " if group.category == "validation" else "Intacct said: ") + plain(said[0])
                           + (f" (and {len(said) - 1:,} similar)" if len(said) > 1 else ""))
            if group.correction:
                st.markdown(f"**What to do:** {plain(group.correction)}")
            fix = FIX_SCREEN.get(group.screen)
            user = current_user()
            if fix and user is not None and user.can(Role.ADMIN):
                st.page_link(fix[0], label=fix[1], icon=fix[2])
            links = [i for i in group.items if i.record_id][:shown_links]
            cols = st.columns(3)
            for n, item in enumerate(links):
                with cols[n % 3]:
                    record_link(item.record_type, item.record_id, item.label)
            if len(group.items) > len(links):
                st.caption(f"and {len(group.items) - len(links):,} more in the table below.")
            keys = sorted({(i.record_type, i.record_id) for i in group.items
                           if i.record_id and i.record_type in RETRIABLE})
            if on_retry is not None and keys and group.needs_attention:
                st.button(f"Retry {'this record' if len(keys) == 1 else f'these {len(keys):,} records'}",
                          icon=":material/replay:", key=f"retry_group_{n_group}", on_click=on_retry, args=(keys,),
                          help="Queues a sync that writes only these records: fix the cause first.")
