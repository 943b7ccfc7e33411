"""Runs on screen: status badges, the live progress panel, run tables, the activity chart and failure cards."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st
from sqlmodel import Session

from console.formatting import (
    CATEGORY,
    RUN_KIND,
    STEP,
    ago,
    is_preview,
    plain,
    plural,
    run_status_label,
    run_title,
    span,
    status_style,
)
from console.links import record_link, run_link
from console.reader_time import local, reader_zone, time_columns, when
from console.state import (
    CONNECTION,
    MAPPING,
    RUN_DETAIL,
    current_user,
    get_engine,
)
from console.tables import readable_table, show_table
from storage.db import read_session
from storage.models import ACTIVE_RUN_STATUSES, Role, RunKind, SyncRun
from storage.types import utcnow
from sync_engine.schedule.queue import time_left
from sync_engine.services.heartbeat import scheduler_status
from sync_engine.services.history import (
    DayActivity,
    FailureGroup,
    RunFailureGroup,
    run_duration,
)


def run_status_badge(status: str) -> None:
    label, color, icon = status_style(status)
    st.badge(label, color=color, icon=icon)


def run_badges(run: SyncRun) -> None:
    """The run's status badge, and a violet 'Preview' badge when nothing was written."""
    if is_preview(run):
        st.badge("Preview · nothing written", color="violet", icon=":material/visibility:")
        _, color, icon = status_style(run.status)
        st.badge(run_status_label(run), color=color, icon=icon)
    else:
        run_status_badge(run.status)


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
        remaining = _time_left_text(run)
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
                   + (f" · this step for {span(utcnow() - run.step_started_at)}"
                      if run.kind == RunKind.ACCOUNTING_SYNC and run.step_started_at else "")
                   + (" · stopping after the current record…" if run.cancel_requested else ""))


def run_counts(run: SyncRun) -> None:
    """The run's five counts as metrics; while it is active they are redrawn every 2 s, as its progress panel is."""
    if run.status in ACTIVE_RUN_STATUSES and run.id is not None:
        _refreshing_run_counts(run.id)
    else:
        _counts(run)


def _counts(run: SyncRun) -> None:
    verbs = (("Would create", "Would update", "Already in step", "Would skip", "Would fail") if is_preview(run)
             else ("Created", "Updated", "Unchanged", "Skipped", "Failed"))
    values = (run.created_count, run.updated_count, run.unchanged_count, run.skipped_count, run.failed_count)
    for col, label, value in zip(st.columns(5), verbs, values, strict=True):
        col.metric(label, f"{value:,}")


@st.fragment(run_every=2)
def _refreshing_run_counts(run_id: int) -> None:
    with read_session(get_engine()) as session:
        run = session.get(SyncRun, run_id)
    if run is not None:
        _counts(run)


def _time_left_text(run: SyncRun) -> str:
    """'about 20 s left' (in a sync: of the current step, each step having its own pace), or why not yet."""
    if not run.progress_total:
        return "time left: counting…"
    left = time_left(run)
    if left is None:
        return "time left: estimating…"
    return f"about {span(left)} left" + (" in this step" if run.kind == RunKind.ACCOUNTING_SYNC else "")


def live_runs_table(runs: Sequence[SyncRun], *, load: Callable[[Session], Sequence[SyncRun]], key: str) -> None:
    """The runs table; while one of them is queued or running it is redrawn every 2 s like the progress panel
    (from `load`), so the active run's row shows the status and counts the panel shows, not those of page load."""
    if any(r.status in ACTIVE_RUN_STATUSES for r in runs):
        _refreshing_runs_table(load, key=key)
    else:
        runs_table(runs, key=key)


@st.fragment(run_every=2)
def _refreshing_runs_table(load: Callable[[Session], Sequence[SyncRun]], *, key: str) -> None:
    # The progress panel reruns the whole page when its run ends, which draws the table once more without this.
    with read_session(get_engine()) as session:
        runs = list(load(session))
    runs_table(runs, key=key)


def runs_frame(runs: Sequence[SyncRun]) -> pd.DataFrame:
    rows = []
    for run in runs:
        what = "Preview (nothing written)" if is_preview(run) else RUN_KIND.get(run.kind, run.kind)
        who = run.requested_by or "Auto-sync"
        if run.trigger == "retry":
            who += " (retry)"
        # The counts (failures first) come right after the status, so they are in view without scrolling; the
        # exact time last.
        rows.append({"Run": f"#{run.id}", "What": what, "When": local(run.queued_at), "Status": run_status_label(run),
                     "Failed": run.failed_count, "Created": run.created_count, "Updated": run.updated_count,
                     "Unchanged": run.unchanged_count, "Started by": who, "Duration": span(run_duration(run)),
                     "Problem": run.error_message or "", "When (exact)": local(run.queued_at)})
    frame = pd.DataFrame(rows)
    if not frame.empty and not frame["Problem"].astype(bool).any():
        frame = frame.drop(columns=["Problem"])  # an always-empty column only costs width
    return frame


def runs_table(runs: Sequence[SyncRun], *, key: str) -> None:
    """Recent runs (previews marked as such); selecting a row opens its detail page."""
    frame, columns = readable_table(runs_frame(runs), {
        **time_columns(), "Problem": st.column_config.TextColumn(width="large"),
        "What": st.column_config.TextColumn("What", width="medium"),
        "Status": st.column_config.TextColumn("Status", width="medium"),
        "Created": st.column_config.NumberColumn(format="localized"),
        "Updated": st.column_config.NumberColumn(format="localized"),
        "Unchanged": st.column_config.NumberColumn(format="localized",
                                                   help="Records read that were already as in Intacct"),
        "Failed": st.column_config.NumberColumn(format="localized",
                                                help="Records that failed (in a preview: would fail)")})
    event = st.dataframe(frame, hide_index=True, key=key, on_select="rerun", selection_mode="single-row",
                         column_config=columns)
    st.caption("Select a row to see every record the run touched.")
    if event and event.selection.rows:
        st.switch_page(RUN_DETAIL, query_params={"run": str(runs[event.selection.rows[0]].id)})


def last_run_summary(run: SyncRun) -> None:
    """One line saying how the last finished sync went, with a link to it: the first thing people look for."""
    label, color, icon = status_style(run.status)
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
            if run.id is not None:
                run_link(run.id, "Open it")


OUTCOME_COLORS = {"succeeded": "#2e7d32", "partly failed": "#ef8f00", "failed": "#c62828", "stopped": "#9e9e9e"}


def activity_chart(activity: Sequence[DayActivity], *, days: int = 14) -> None:
    """Stacked bars of finished runs per day by outcome (every day shown, quiet ones empty); failed records in
    the tooltip."""
    today = utcnow().astimezone(reader_zone()).date()
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
    show_table(frame, {"Cause": st.column_config.TextColumn(width="large"),
                       "What to do": st.column_config.TextColumn(width="large")})


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
                    record_link(item.record_type, item.record_id or 0, item.label)
            if len(group.items) > len(links):
                st.caption(f"and {len(group.items) - len(links):,} more in the table below.")
            keys = sorted({(i.record_type, i.record_id) for i in group.items
                           if i.record_id and i.record_type in RETRIABLE})
            if on_retry is not None and keys and group.needs_attention:
                st.button(f"Retry {'this record' if len(keys) == 1 else f'these {len(keys):,} records'}",
                          icon=":material/replay:", key=f"retry_group_{n_group}", on_click=on_retry, args=(keys,),
                          help="Queues a sync that writes only these records: fix the cause first.")
