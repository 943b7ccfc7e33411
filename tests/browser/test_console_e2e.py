"""The flow a finance admin clicks through in real Chromium: sign in, save the Intacct connection, press
Sync Now and see the run queued in Recent Syncs. One Streamlit server per module (tests/browser/conftest.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.helpers import open_page, shot, sign_in

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
ADMIN, PASSWORD = "finance-admin", "browser-test-pw"  # the console fixture's first administrator


def _sign_in(page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, ADMIN, PASSWORD)


def test_a_deep_link_as_the_first_request_still_meets_the_sign_in_gate(console_url: str, page) -> None:  # type: ignore[no-untyped-def]
    """Right after a restart, an emailed run link shows the sign-in form, never Streamlit's page list (this test
    runs first, so it is the fresh server's first request)."""
    from playwright.sync_api import expect

    # Record whether Streamlit's page list is ever drawn, even for a moment before the sign-in form.
    page.add_init_script("""
        window.__pageListSeen = false;
        new MutationObserver(() => {
            if (document.querySelector('[data-testid="stSidebarNav"], [data-testid="stSidebarNavItems"]')) {
                window.__pageListSeen = true;
            }
        }).observe(document, {childList: true, subtree: true});
    """)
    page.goto(f"{console_url}/run_detail?run=1")
    # A loaded 2-core machine may take a while to start the first script run: wait on the form itself.
    expect(page.get_by_role("textbox", name="User name")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Please sign in first")).to_have_count(0)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    assert page.evaluate("window.__pageListSeen") is False


def test_sign_in_connect_and_sync_now(console_url: str, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(console_url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    _sign_in(page)
    expect(page.get_by_role("heading", name="Accounting sync")).to_be_visible()
    expect(page.get_by_text("Intacct is not connected yet")).to_be_visible()
    shot(page, tmp_path, "01-not-connected")

    open_page(page, "Connection")
    expect(page.get_by_role("heading", name="Intacct connection")).to_be_visible()
    for label, value in [("Company ID", "DEMO-AR"), ("User ID", "ws_console"), ("User password", "sandbox-user-pw"),
                         ("Sender ID", "ar-console-sender"), ("Sender password", "sandbox-sender-pw"),
                         ("Gateway URL", "http://127.0.0.1:8765/ia/xml/xmlgw.phtml")]:
        page.get_by_role("textbox", name=label, exact=True).fill(value)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Connection saved")).to_be_visible()
    expect(page.get_by_role("textbox", name="User password", exact=True)).to_have_value("")
    expect(page.get_by_text("Not tested yet").first).to_be_visible()
    shot(page, tmp_path, "02-connection-saved")

    open_page(page, "Accounting sync")
    sync_now = page.get_by_role("button", name="Sync Now")
    expect(sync_now).to_be_enabled()
    sync_now.click()
    expect(page.get_by_text("Waiting for the scheduler to pick this up")).to_be_visible()
    expect(sync_now).to_be_disabled()
    recent = page.get_by_test_id("stDataFrame").first
    expect(recent).to_be_visible()
    # The grid draws on a canvas; its accessible cells carry the text.
    expect(recent.get_by_text("Queued", exact=True)).to_be_attached()
    expect(page.get_by_text("The scheduler is not running").first).to_be_visible()
    shot(page, tmp_path, "03-sync-queued")

    # A deep link to the run (as in an email) opens it right after signing in, and the run can be cancelled.
    page.goto(f"{console_url}/run_detail?run=1")
    _sign_in(page)
    expect(page.get_by_role("heading", name="Accounting sync #1")).to_be_visible()
    page.get_by_role("button", name="Cancel this run").click()
    expect(page.get_by_text("Cancelled.", exact=True)).to_be_visible()
    shot(page, tmp_path, "04-run-cancelled")


def _choose_file(page, path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.locator("input[type=file]").first.set_input_files(str(path))
    expect(page.get_by_test_id("stFileUploader").first.get_by_text(path.name)).to_be_visible()
    # The chip shows when the upload ends; the widget's new value reaches the server just after.
    page.wait_for_timeout(1000)


def test_upload_ledger_invoices_from_csv(console_url: str, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(console_url)
    _sign_in(page)
    open_page(page, "Upload CSV")
    expect(page.get_by_role("heading", name="Upload to the ledger")).to_be_visible()
    bad = tmp_path / "bad.csv"
    bad.write_text("invoice_number,customer_number,customer_name,invoice_date,amount\n"
                   "X-1,N-1,New Co,2026-13-01,10.00\n")
    _choose_file(page, bad)
    page.get_by_role("button", name="Check invoices").click()
    expect(page.get_by_text("1 problem(s)")).to_be_visible()
    expect(page.get_by_role("button", name="Download the rejected rows (CSV)")).to_be_visible()

    _choose_file(page, ROOT / "samples" / "ledger_invoices.csv")
    page.get_by_role("button", name="Check invoices").click()
    page.get_by_role("button", name=re.compile(r"^Add these \d+ rows$")).click()
    expect(page.get_by_text("Added 3 invoices: AR-2001, AR-2002, AR-2003")).to_be_visible()
    shot(page, tmp_path, "05-upload")
    open_page(page, "Invoices")
    expect(page.get_by_text("AR-2002").first).to_be_attached()
