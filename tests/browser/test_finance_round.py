"""The whole job of a finance person in real Chromium, against the sandbox with a real scheduler: preview and apply
a customer import, pick the mapping from Intacct's lists, add an item override and a payment routing rule (to a
bank account), enter an invoice and a payment, Sync Now and find them in Intacct; break an invoice on purpose (its
account label made inactive in Intacct), fix it on its record, retry it alone and see it reach Intacct. The
console comes from tests/browser/conftest.py; the scheduler starts once the console has migrated the database."""
from __future__ import annotations

import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.browser.helpers import add_row, fill_row, open_page, pick, settle, shot, sign_in
from tests.engine.helpers import sandbox_query
from tests.fixtures.console_server import ConsoleServer
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.browser
ADMIN, PASSWORD = "finance-admin", "browser-round-pw"  # the console fixture's first administrator
REAL_EXECUTOR = "sync_engine.sync.runs:execute_run"


def _query(db_url: str, sql: str, **params) -> list:  # type: ignore[no-untyped-def]
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def _wait_for(condition, what: str, timeout: float = 90) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


def _runs_done(db_url: str, *, at_least: int) -> bool:
    """At least this many runs were queued and none is queued or running any more."""
    [(total,)] = _query(db_url, "SELECT count(*) FROM sync_run")
    return total >= at_least and not _query(db_url, "SELECT id FROM sync_run WHERE status IN ('queued', 'running')")


def _deactivate_label(sandbox, label: str) -> None:  # type: ignore[no-untyped-def]
    """Someone retires the account label in Intacct (after our lists were last read)."""
    [row] = sandbox_query(sandbox, "ARACCOUNTLABEL", ["RECORDNO", "ACCOUNTLABEL"], f"ACCOUNTLABEL = '{label}'")
    response = sandbox.call(f'<function controlid="retire"><update><ARACCOUNTLABEL><RECORDNO>{row["RECORDNO"]}'
                            "</RECORDNO><STATUS>inactive</STATUS></ARACCOUNTLABEL></update></function>")
    assert response.findtext(".//result/status") == "success"


def _sign_in(page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, ADMIN, PASSWORD)
    settle(page)


def test_the_whole_round_in_the_browser(  # type: ignore[no-untyped-def]
        console: ConsoleServer, sandbox: SandboxHandle, new_page, spawn_scheduler, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # reruns on a loaded 2-core machine take seconds
    page = new_page(height=1100, timeout_ms=30_000)
    url, db_url = console.url, console.database_url
    page.goto(url)
    _sign_in(page)
    expect(page.get_by_role("heading", name="Accounting sync")).to_be_visible()
    # The console migrated the database on its first page; now the scheduler (the real executor) may start.
    spawn_scheduler(db_url, "--poll-seconds", "0.5", "--heartbeat-seconds", "1", "--log-level", "INFO",
                    env=console.env, executor=REAL_EXECUTOR)

    open_page(page, "Connection")
    for label, value in [("Company ID", sandbox.company_id), ("User ID", sandbox.user_id),
                         ("User password", sandbox.user_password), ("Sender ID", sandbox.sender_id),
                         ("Sender password", sandbox.sender_password), ("Gateway URL", sandbox.url)]:
        page.get_by_role("textbox", name=label, exact=True).fill(value)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Connection saved")).to_be_visible()

    # Preview a customer import from the Customers page, then apply it.
    open_page(page, "Customers")
    page.get_by_role("button", name="Import").click()
    page.get_by_role("button", name="Preview").click()
    _wait_for(lambda: _runs_done(db_url, at_least=1), "the preview")
    open_page(page, "Imports")
    expect(page.get_by_text(re.compile(r"would create 5 customers, update 0"))).to_be_visible()
    page.get_by_role("button", name=re.compile(r"Apply preview #\d+")).click()
    expect(page.get_by_text(re.compile(r"it applies preview #\d+"))).to_be_visible()
    _wait_for(lambda: _runs_done(db_url, at_least=2) and _query(db_url, "SELECT count(*) FROM customer")[0][0] == 5,
              "the customer import")
    shot(page, tmp_path, "10-import-preview")

    # The mapping, picked from Intacct's lists; an item override and a routing rule.
    open_page(page, "Account mapping")
    page.get_by_role("button", name="Refresh from Intacct").click()
    expect(page.get_by_text(re.compile(r"Read from Intacct: 4 account label"))).to_be_visible()
    pick(page, "Item account label", "Services Revenue — Professional services", search="Services")
    pick(page, "Undeposited funds account", "1210 — Undeposited Funds", search="1210")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Mapping saved")).to_be_visible()
    editors = page.get_by_test_id("stDataFrame")
    add_row(page, editors.nth(0))
    fill_row(page, editors.nth(0), 0, ["HW-1", ("select", "Product Revenue")])
    page.get_by_role("button", name="Save item overrides").click()
    expect(page.get_by_text("1 item override(s) saved")).to_be_visible()
    add_row(page, editors.nth(1))
    fill_row(page, editors.nth(1), 0, [("select", "Credit Card"), None, ("select", "BOA-CHK")])  # a bank account
    page.get_by_role("button", name="Save routing rules").click()
    expect(page.get_by_text("1 routing rule(s) saved")).to_be_visible()
    shot(page, tmp_path, "11-mapping-from-lists")

    # Two invoices and a payment entered in the browser.
    [(customer_name, customer_number)] = _query(db_url, "SELECT name, number FROM customer ORDER BY name LIMIT 1")
    for number, line in (("WEB-1", ["HW-1", "Two routers", "2", "40.00", None]),
                         ("WEB-2", [None, "Annual plan", "1", "100.00", ("select", "Subscription Revenue")])):
        open_page(page, "New invoice")
        pick(page, "Customer", f"{customer_name} ({customer_number})", search=customer_name[:4])
        page.get_by_role("textbox", name="Invoice number").fill(number)
        page.keyboard.press("Enter")  # Tab would open the date picker next to it
        settle(page)
        fill_row(page, page.get_by_test_id("stDataFrame").first, 0, line)
        page.get_by_role("button", name="Add invoice").click()
        expect(page.get_by_text(f"Invoice {number} is in the ledger. It will be written to Intacct at the next "
                                "sync.")).to_be_visible()
    shot(page, tmp_path, "12-new-invoice")
    open_page(page, "Record payment")
    pick(page, "Customer", f"{customer_name} ({customer_number})", search=customer_name[:4])
    page.get_by_role("textbox", name="Reference").fill("CARD-77")
    page.get_by_role("textbox", name="Amount").fill("80.00")
    page.keyboard.press("Enter")
    settle(page)
    pick(page, "Method", "Credit Card")
    rows = _query(db_url, "SELECT number FROM invoice WHERE customer_id = (SELECT id FROM customer WHERE number = "
                          ":n) AND balance > 0 ORDER BY invoice_date, id", n=customer_number)
    position = [r[0] for r in rows].index("WEB-1")
    fill_row(page, page.get_by_test_id("stDataFrame").first, position, [None, None, None, None, "80.00"])
    expect(page.get_by_text("Applied USD 80.00 of USD 80.00")).to_be_visible()
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text("Payment CARD-77 is in the ledger")).to_be_visible()

    # Someone retires WEB-2's account label in Intacct; Sync Now.
    _deactivate_label(sandbox, "Subscription Revenue")
    open_page(page, "Accounting sync")
    page.get_by_role("button", name="Sync Now").click()
    _wait_for(lambda: _runs_done(db_url, at_least=3), "the sync")
    [web1] = sandbox_query(sandbox, "ARINVOICE", ["RECORDNO", "TOTALENTERED", "TOTALPAID"], "RECORDID = 'WEB-1'")
    assert (Decimal(web1["TOTALENTERED"]), Decimal(web1["TOTALPAID"])) == (Decimal("80.00"), Decimal("80.00"))
    lines = sandbox_query(sandbox, "ARINVOICEITEM", ["ACCOUNTNO", "AMOUNT"], f"RECORDKEY = '{web1['RECORDNO']}'")
    assert [(ln["ACCOUNTNO"], Decimal(ln["AMOUNT"])) for ln in lines] == [("4010", Decimal("80.00"))], "item override"
    [payment] = sandbox_query(sandbox, "ARPYMT", ["FINANCIALENTITY", "UNDEPOSITEDACCOUNTNO"], "DOCNUMBER = 'CARD-77'")
    assert (payment["FINANCIALENTITY"], payment["UNDEPOSITEDACCOUNTNO"]) == ("BOA-CHK", ""), "routed by its method"
    assert sandbox_query(sandbox, "ARINVOICE", ["RECORDNO"], "RECORDID = 'WEB-2'") == []

    # The failure, by cause, on the run; fixed on its record and retried alone.
    [(run_id,)] = _query(db_url, "SELECT max(id) FROM sync_run WHERE kind = 'accounting_sync'")
    page.goto(f"{url}/run_detail?run={run_id}")  # as from the run's email: a new browser session
    _sign_in(page)
    expect(page.get_by_text("An account label is inactive or unknown in Intacct").first).to_be_visible()
    shot(page, tmp_path, "13-failure-by-cause")
    page.get_by_role("link", name="Invoice WEB-2").first.click()
    settle(page)
    expect(page.get_by_text("Fix and retry")).to_be_visible()
    pick(page, "Account label", "Services Revenue")
    page.get_by_role("button", name="Save label").click()
    expect(page.get_by_text("Line 1 of invoice WEB-2 now posts to Services Revenue")).to_be_visible()
    page.get_by_role("button", name="Retry this record").click()
    expect(page.get_by_text("is queued to be written to Intacct on its own")).to_be_visible()
    _wait_for(lambda: _runs_done(db_url, at_least=4), "the retry")
    [(options,)] = _query(db_url, "SELECT options FROM sync_run ORDER BY id DESC LIMIT 1")
    assert '"only"' in options
    assert len(sandbox_query(sandbox, "ARINVOICE", ["RECORDNO"], "RECORDID = 'WEB-2'")) == 1
    page.reload()
    _sign_in(page)
    expect(page.get_by_text(re.compile(r"Our ledger · Synced"))).to_be_visible()
    shot(page, tmp_path, "14-fixed-and-retried")
