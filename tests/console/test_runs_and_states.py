"""Previews, run detail (failures by cause, the diffs of that run) and the states the sidebar and the Sync Now
button must explain: a failing connection, a paused auto-sync, a stopped scheduler."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from console import state
from storage.db import read_session, write_session
from storage.models import SchedulerHeartbeat, SyncRun, SyncRunItem, SyncSchedule
from storage.types import utcnow
from sync_engine.history import failure_groups, group_run_failures, open_failures, run_changes
from sync_engine.queue import enqueue_run
from sync_engine.settings import get_connection
from tests.console.conftest import texts
from tests.console.seed import seed_connection, seed_ledger


def _runs(db) -> list[SyncRun]:
    with read_session(db) as session:
        return list(session.exec(select(SyncRun).order_by(SyncRun.id)).all())


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def _beat(db, *, seconds_ago: float) -> None:
    now = utcnow()
    with write_session(db) as session:
        session.add(SchedulerHeartbeat(scheduler_id="test:1", pid=1, host="test", version="t",
                                       started_at=now - timedelta(hours=1), beat_at=now - timedelta(seconds=seconds_ago)))


def test_preview_queues_a_dry_run_shown_as_a_preview_everywhere(app_as, db) -> None:
    seed_connection(db)
    _beat(db, seconds_ago=1)
    at = app_as("accountant")
    _button(at, "Preview next sync").click().run()
    runs = _runs(db)
    assert len(runs) == 1 and runs[0].options == {"preview": True} and runs[0].kind == "accounting_sync"
    assert _button(at, "Sync Now").disabled and _button(at, "Preview next sync").disabled
    assert f"A preview (run #{runs[0].id}) is already queued" in texts(at)
    assert "Preview (nothing written)" in at.dataframe[0].value["What"].tolist()

    with write_session(db) as session:  # the scheduler finishes it
        run = session.get(SyncRun, runs[0].id)
        run.status, run.started_at, run.finished_at, run.created_count = "succeeded", utcnow(), utcnow(), 1
        session.add(run)
        session.add(SyncRunItem(run_id=run.id, step="invoice_writes", record_type="invoice", label="Invoice LED-1",
                                action="created", message="Would send create_invoice (number: LED-1)"))
    at.query_params["run"] = str(runs[0].id)
    at.switch_page(state.RUN_DETAIL).run()
    assert at.title[0].value == f"Preview #{runs[0].id}"
    assert "Nothing was written: this shows what a sync would do." in texts(at)
    assert "Would create" in [m.label for m in at.metric]
    items = next(df.value for df in at.dataframe if "Record" in df.value.columns)
    assert items.iloc[0]["Result"] == "Would create"
    assert not any(b.label.startswith("Retry") for b in at.button), "a preview's failures are not retried"


def test_a_click_that_meets_a_queued_run_says_nothing_new_started(app_as, db) -> None:
    connection_id = seed_connection(db)
    at = app_as("accountant")  # the page shows both buttons enabled…
    with write_session(db) as session:  # …then a colleague queues a real sync
        enqueue_run(session=session, connection_id=connection_id, kind="accounting_sync", requested_by="colleague")
    _button(at, "Preview next sync").click().run()
    assert len(_runs(db)) == 1 and not _runs(db)[0].options.get("preview")
    assert "Nothing new was started: run #1 (a sync) is already queued" in texts(at)


def test_previews_never_count_as_a_records_real_outcome(db) -> None:
    ids = seed_ledger(db)
    with write_session(db) as session:
        preview = SyncRun(connection_id=ids["connection"], kind="accounting_sync", status="partly_failed",
                          options={"preview": True}, finished_at=utcnow())
        session.add(preview)
        session.flush()
        session.add(SyncRunItem(run_id=preview.id, step="invoice_writes", record_type="invoice", label="Invoice LED-9",
                                action="failed", error_category="validation", message="Account label 'X' missing"))
        session.add(SyncRunItem(run_id=preview.id, step="invoice_writes", record_type="invoice",
                                label="Invoice INV-2001", action="created", message="Would send create_invoice"))
    with read_session(db) as session:
        labels = [i.label for i in open_failures(session=session)]
        assert labels == ["Invoice INV-2001"], "the real failure stays; the preview's neither hides nor adds one"
        assert [g.count for g in failure_groups(session=session)] == [1]


def test_run_detail_groups_failures_and_shows_that_runs_diffs(app_as, db) -> None:
    ids = seed_ledger(db)
    with write_session(db) as session:
        for n in (1, 2):
            session.add(SyncRunItem(run_id=ids["bad_run"], step="invoice_writes", record_type="invoice",
                                    record_id=ids["inv3"], label=f"Invoice T-{n}", action="failed",
                                    error_category="transient", message="Intacct is busy (429)"))
    with read_session(db) as session:
        run = session.get(SyncRun, ids["bad_run"])
        items = list(session.exec(select(SyncRunItem).where(SyncRunItem.run_id == run.id)))
        groups = group_run_failures(items)
        assert [(len(g.items), g.needs_attention) for g in groups] == [(1, True), (2, False)]
        changes = run_changes(session=session, run_id=ids["bad_run"])
        assert [(c.label, c.created) for c in changes] == [("Customer C-100", False)]
    at = app_as("viewer", query={"run": str(ids["bad_run"])})
    at.switch_page(state.RUN_DETAIL).run()
    page = texts(at)
    assert "1 record needs attention" in page and "2 records will retry on the next sync" in page
    assert "Location 'L10' is not valid for account 4000" in page
    diff = next(df.value for df in at.dataframe if list(df.value.columns) == ["Field", "Before", "After"])
    assert diff.set_index("Field").loc["Name", "Before"] == "Acme Corporation"
    assert diff.set_index("Field").loc["Name", "After"] == "Acme Corp"
    assert "Requests sent to Intacct" in page and "WHENMODIFIED" not in page


def test_failing_connection_explains_the_disabled_sync_and_links_the_fix(app_as, db) -> None:
    seed_connection(db)
    with read_session(db) as session:
        connection = get_connection(session=session)
        connection.status, connection.last_test_message = "failing", "Sign-in information is incorrect"
        session.add(connection)
        session.commit()
    at = app_as("admin")
    assert _button(at, "Sync Now").disabled and _button(at, "Preview next sync").disabled
    assert "Intacct refused the sign-in at the last test" in texts(at)
    assert any(link.label == "Fix the connection" for link in at.get("page_link"))


def test_sidebar_says_auto_sync_is_paused_and_the_scheduler_stopped(app_as, db) -> None:
    connection_id = seed_connection(db)
    _beat(db, seconds_ago=600)
    with write_session(db) as session:
        plan = session.exec(select(SyncSchedule).where(SyncSchedule.connection_id == connection_id)).first()
        plan = plan or SyncSchedule(connection_id=connection_id)
        plan.enabled, plan.paused_reason = True, "Auto-sync paused: Intacct refused the sign-in during run #3."
        session.add(plan)
    at = app_as("accountant")
    sidebar = "\n".join(str(getattr(el, "value", "")) for el in at.sidebar.get("markdown"))
    assert "Paused" in sidebar and "Not running" in sidebar
    assert "Auto-sync is paused" in texts(at)
    assert "Tell your administrator" in texts(at)


def test_record_history_marks_preview_activity_and_shows_readable_diffs(app_as, db) -> None:
    ids = seed_ledger(db)
    with write_session(db) as session:
        preview = SyncRun(connection_id=ids["connection"], kind="accounting_sync", status="succeeded",
                          options={"preview": True}, finished_at=utcnow())
        session.add(preview)
        session.flush()
        session.add(SyncRunItem(run_id=preview.id, step="customers", record_type="customer", record_id=ids["acme"],
                                label="Customer C-100", action="updated", message="Would update"))
    at = app_as("viewer", query={"type": "customer", "id": str(ids["acme"])})
    at.switch_page(state.RECORD_DETAIL).run()
    activity = next(df.value for df in at.dataframe if "Result" in df.value.columns)
    assert activity.iloc[0]["Run"].endswith("(preview)") and activity.iloc[0]["Result"] == "Would update"
    assert activity.iloc[1]["Result"] == "Updated"


def test_getting_started_lists_the_first_steps_until_the_first_sync(app_as, db) -> None:
    seed_connection(db)
    at = app_as("accountant")
    assert "Getting started" in texts(at) and "Preview the first sync (writes nothing)" in texts(at)


def test_a_customer_import_is_previewed_with_its_diffs_then_applied(app_as, db) -> None:
    ids = seed_ledger(db)
    at = app_as("accountant", page=state.IMPORTS)
    _button(at, "Preview customer import").click().run()
    with write_session(db) as session:
        preview = session.exec(select(SyncRun).where(SyncRun.preview == True,  # noqa: E712
                                                     SyncRun.kind == "customer_import")).one()
        assert preview.options["preview"] is True
        preview.status, preview.finished_at, preview.unchanged_count = "succeeded", utcnow(), 48
        session.add(SyncRunItem(run_id=preview.id, step="customers", record_type="customer", record_id=ids["acme"],
                                label="Customer C-100", action="updated",
                                changes={"name": ["Acme Corp", "Acme Corporation"]}))
        session.add(SyncRunItem(run_id=preview.id, step="customers", record_type="customer", label="Customer C-900",
                                action="created"))
        session.add(preview)
    at.run()
    shown = texts(at)
    assert "would create 1 customer, update 1, leave out 0; 48 already as in Intacct" in shown
    diff = next(df.value for df in at.dataframe if list(df.value.columns) == ["Field", "Before", "After"])
    assert (diff.iloc[0]["Field"], diff.iloc[0]["Before"], diff.iloc[0]["After"]) == (
        "Name", "Acme Corp", "Acme Corporation")
    _button(at, f"Apply preview #{preview.id}").click().run()
    assert f"it applies preview #{preview.id}" in texts(at)
    with read_session(db) as session:
        applied = session.exec(select(SyncRun).where(SyncRun.preview == False,  # noqa: E712
                                                     SyncRun.kind == "customer_import").order_by(SyncRun.id.desc())).first()
        assert applied.options.get("applies_preview") == preview.id and "preview" not in applied.options
