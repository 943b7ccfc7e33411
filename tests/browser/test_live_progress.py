"""While an import runs, the Imports page keeps telling the truth without a reload: the progress panel and the
run's row in "Last imports" both follow the run row as the scheduler writes it (a fragment redraws them)."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage.db import make_engine, write_session
from storage.migrate import upgrade_database
from storage.models import IntacctConnection, SyncRun
from storage.types import utcnow
from tests.browser.helpers import open_page, sign_in
from tests.console.seed import seed_connection

ADMIN, PASSWORD = "progress-admin", "progress-browser-pw"  # the console fixture's first administrator


def _running_import(console, page) -> tuple[object, int]:  # type: ignore[no-untyped-def]
    """Signed in; a connection and an invoice import the scheduler has just started: (engine, run id)."""
    from playwright.sync_api import expect

    page.goto(console.url)
    sign_in(page, ADMIN, PASSWORD)
    expect(page.get_by_role("heading", name="Accounting sync")).to_be_visible()
    engine = make_engine(console.database_url)
    upgrade_database(engine)
    with write_session(engine) as session:
        connection_id = session.exec(select(IntacctConnection.id)).first()
    connection_id = connection_id or seed_connection(engine)
    now = utcnow()
    with write_session(engine) as session:
        run = SyncRun(connection_id=connection_id, kind="invoice_import", status="running", requested_by=ADMIN,
                      started_at=now - timedelta(seconds=5), step="invoices",
                      step_started_at=now - timedelta(seconds=3), progress_total=100_000)
        session.add(run)
        session.flush()
        return engine, run.id  # type: ignore[return-value]


def _flush(engine, run_id: int, **fields) -> None:  # type: ignore[no-untyped-def]
    """What the scheduler's RunContext.flush does to the run row between pages."""
    with write_session(engine) as session:
        run = session.get(SyncRun, run_id)
        for name, value in fields.items():
            setattr(run, name, value)
        session.add(run)


def test_the_running_imports_row_and_panel_follow_the_run_without_a_reload(console, page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    engine, run_id = _running_import(console, page)
    open_page(page, "Imports")
    grid = page.get_by_test_id("stDataFrame").first
    # The grid draws on a canvas; its accessible cells carry the text.
    expect(grid.get_by_text("Running", exact=True)).to_be_attached()
    expect(page.get_by_text("Created 0 ·")).to_be_visible()

    _flush(engine, run_id, progress_done=3_600, created_count=3_600, step_first_done_at=utcnow(), step_first_done=3_600)
    expect(page.get_by_text("3,600 of 100,000 records · time left: estimating…")).to_be_visible()
    expect(grid.get_by_text("12", exact=True)).to_have_count(0)

    _flush(engine, run_id, progress_done=89_100, created_count=89_088, failed_count=12)
    expect(page.get_by_text("Created 89,088 ·")).to_be_visible()
    # The row beside the panel follows it (the grid's accessible cells hold the columns in view: up to Failed).
    expect(grid.get_by_text("12", exact=True)).to_be_attached()
    expect(page.get_by_text("about", exact=False).first).to_be_visible()

    _flush(engine, run_id, status="partly_failed", finished_at=utcnow(), progress_done=100_000, created_count=99_988)
    expect(page.get_by_text("Created 89,088 ·")).to_have_count(0)  # the panel goes when the run ends
    expect(grid.get_by_text("Running", exact=True)).to_have_count(0)
    engine.dispose()


def test_a_running_runs_counts_on_its_page_follow_it(console, page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    engine, run_id = _running_import(console, page)
    page.goto(f"{console.url}/run_detail?run={run_id}")
    sign_in(page, ADMIN, PASSWORD)  # a new page load is a new session here (app.py, without the cookie routes)
    created = page.get_by_test_id("stMetric").filter(has_text="Created")
    expect(created).to_contain_text("0")
    _flush(engine, run_id, progress_done=41_000, created_count=40_990, failed_count=10)
    expect(created).to_contain_text("40,990")
    expect(page.get_by_test_id("stMetric").filter(has_text="Failed")).to_contain_text("10")
    _flush(engine, run_id, status="cancelled", finished_at=utcnow())
    expect(page.get_by_role("button", name="Cancel this run")).to_have_count(0)
    expect(created).to_contain_text("40,990")
    engine.dispose()
