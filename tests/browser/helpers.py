"""Driving the console from Playwright the way a person does: Chromium and its pages, signing in, waiting for a
rerun to end, picking from a select box, typing a row into a data editor (a canvas grid: click its cell, type, Tab
to the next column). Used by the browser tests (through tests/browser/conftest.py) and bench/bench_progress.py."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ROW_HEIGHT, HEADER_HEIGHT = 35, 36  # Streamlit's data grid


def launch_chromium(playwright):  # type: ignore[no-untyped-def]
    """Debian's Chromium, headless; None when it is not installed."""
    if not Path(CHROMIUM).exists():
        return None
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def new_page_in(browser, *, height: int = 1000, timeout_ms: int = 20_000,  # type: ignore[no-untyped-def]
                timezone: str | None = "Europe/Paris"):
    """A page in a fresh context (its own cookies), 1400 pixels wide; `timezone=None` keeps the machine's."""
    context = browser.new_context(viewport={"width": 1400, "height": height},
                                  **({"timezone_id": timezone} if timezone else {}))
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    return page


def sign_in(page, user: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("textbox", name="User name").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def settle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the script run triggered by the last action has finished (the 'Running…' widget is gone)."""
    from playwright.sync_api import expect

    page.wait_for_timeout(500)  # let the rerun start
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=60_000)
    # Elements of the previous run stay on screen, marked stale, until the new run has replaced them.
    expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=60_000)


def open_page(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name=name, exact=True).click()
    settle(page)


def pick(page, label: str, option: str, *, search: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Choose `option` in the select box labelled `label` (typing `search` first, as in a long list)."""
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True)).first
    box.click()
    if search:
        page.keyboard.type(search)
    page.get_by_role("option", name=option).first.click()
    settle(page)


def fill_row(page, editor, row: int, values: list) -> None:  # type: ignore[no-untyped-def]
    """Type one data-editor row left to right: a string is typed, ("select", text) is picked from a select
    column, None skips the column. Each cell is selected afresh before it is filled (the row's first cell clicked,
    then arrow keys), because the rerun that follows each committed cell can redraw the grid without its
    selection, and keys pressed then go nowhere; a pick is tried again until the cell shows it."""
    for column, value in enumerate(values):
        if value is None:
            continue
        settle(page)  # the previous cell's edit reruns the script
        offset = _select_cell(page, editor, row, column)
        if isinstance(value, tuple):
            _pick_in_cell(page, editor, row, column, offset, value[1])
        else:
            page.keyboard.type(value)
            page.wait_for_timeout(200)
            page.keyboard.press("Tab")  # commits
    settle(page)


def _pick_in_cell(page, editor, row: int, column: int, offset: int, text: str) -> None:  # type: ignore[no-untyped-def]
    """Open the selected cell's list, type `text`, pick the first match; again while a rerun closes the list
    before the cell shows the pick."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    combo = page.locator("#portal").get_by_role("combobox")
    cell = editor.locator(f'[id="glide-cell-{column + offset}-{row}"]')
    for attempt in range(5):
        if attempt:
            settle(page)
            _select_cell(page, editor, row, column)
        page.keyboard.press("Enter")  # opens the cell's list
        try:
            combo.wait_for(timeout=3_000)
            combo.press_sequentially(text, timeout=5_000)
            page.wait_for_timeout(300)  # the list filters as it is typed
            page.keyboard.press("Enter")  # picks the option and commits
            settle(page)
            expect(cell).to_contain_text(text, timeout=3_000)
            return
        except (PlaywrightTimeout, AssertionError):
            continue
    raise AssertionError(f"could not pick {text!r} in column {column} of row {row}")


def _select_cell(page, editor, row: int, column: int) -> int:  # type: ignore[no-untyped-def]
    """Select the cell at (row, column) of a data editor: click the row's first cell (checked on the grid's
    accessible cells, whose ids count columns from 1 where the grid has row markers), then move right. Returns
    that offset (0 or 1)."""
    from playwright.sync_api import expect

    if page.evaluate("() => !document.activeElement || document.activeElement === document.body"):
        editor.locator("canvas").first.focus()  # key presses on the page itself would go nowhere
    first = editor.locator(f'[id="glide-cell-0-{row}"][aria-selected="true"], '
                           f'[id="glide-cell-1-{row}"][aria-selected="true"]')
    for _ in range(3):
        page.keyboard.press("Escape")  # closes an open cell editor, or clears the selection
        box = _still_box(page, editor.locator("canvas").first)  # the grid itself (header row on top)
        page.mouse.click(box["x"] + 50, box["y"] + HEADER_HEIGHT + ROW_HEIGHT * row + ROW_HEIGHT // 2)
        try:  # the first click may only give the grid the focus
            expect(first).to_have_count(1, timeout=2_000)
            break
        except AssertionError:
            continue
    selected = first.first.get_attribute("id", timeout=1_000) if first.count() else None
    for _ in range(column):
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    return 0 if selected and selected.startswith("glide-cell-0-") else 1


def _still_box(page, editor) -> dict:  # type: ignore[no-untyped-def]
    """The editor's box once scrolling into view has stopped moving it."""
    editor.scroll_into_view_if_needed()
    box = editor.bounding_box()
    for _ in range(20):
        page.wait_for_timeout(100)
        again = editor.bounding_box()
        if again == box:
            break
        box = again
    return box


def add_row(page, editor) -> None:  # type: ignore[no-untyped-def]
    settle(page)
    editor.scroll_into_view_if_needed()
    editor.hover()  # the toolbar shows on hover
    editor.get_by_role("button", name="Add row").click(force=True)
    settle(page)


def shot(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """A full-page screenshot, also copied to $SCREENSHOT_DIR when set (the README's pictures)."""
    settle(page)
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("SCREENSHOT_DIR"):
        shutil.copy(path, Path(os.environ["SCREENSHOT_DIR"]) / path.name)
