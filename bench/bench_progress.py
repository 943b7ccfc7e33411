"""The live progress panel of a 100,000-invoice import, watched in Chromium (issue 12: records done / total, the
current step and the time left, refreshed by a fragment, visible on a 100,000-invoice import).

The cached seeded company of bench/seeded.py in a sandbox of its own; a fresh SQLite ledger connected to it, its
customers imported first (as bench/worker.py does); then the real console (`console_server.py`, as `make run`
serves it) and the real scheduler process on that ledger. In Chromium a person signs in, opens Imports and presses
**Start invoice import**; every change of the run's progress panel is read until the run ends. What is checked:
N of "N of M records" rises, M is the number of outstanding invoices in Intacct, an "about X left" appears. Two
screenshots: docs/screenshots/15-import-progress-early.png and 16-import-progress-late.png.

`python -m bench.bench_progress [--customers N --invoices M]` puts its figures under "progress" in
bench/results.json and rewrites bench/RESULTS.md; `make bench` runs it as the step `progress`
(`--skip progress` leaves it out). Figures are printed and reported, never asserted.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlmodel import Session, select

from bench import report
from bench.seeded import cached_company, start_copy
from bench.worker import connect_ledger, run_kind
from tests.browser.helpers import launch_chromium, new_page_in, open_page, settle, sign_in
from tests.fixtures.console_server import ConsoleServer, console_env
from tests.scheduler.helpers import SchedulerProcess

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "docs" / "screenshots"
EARLY, LATE = "15-import-progress-early.png", "16-import-progress-late.png"
ADMIN, PASSWORD = "bench-admin", "bench-progress-pw"
RUN_TIMEOUT_SECONDS = 1800  # the import takes 1-3 minutes; a stuck panel must not hold the bench for ever
_DONE_OF = re.compile(r"([\d,]+) of ([\d,]+) records")
_SO_FAR = re.compile(r"([\d,]+) records so far")
_LEFT = re.compile(r"about (.+?) left")
# The panel's progress text, or "" once it is gone (the run ended and the page reran without it).
_PANEL_TEXT = ("(() => { const p = document.querySelector('[data-testid=\"stProgress\"]'); "
               "return p ? p.innerText.trim() : ''; })()")
_PANEL_JS, _CHANGED_JS = f"() => {_PANEL_TEXT}", f"(before) => {_PANEL_TEXT} !== before"


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] progress: {message}", flush=True)


def reading(text: str) -> dict[str, Any]:
    """What one look at the panel says: done, total (None while counting), the time left as shown (or None)."""
    done_of, so_far, left = _DONE_OF.search(text), _SO_FAR.search(text), _LEFT.search(text)
    done = int((done_of or so_far).group(1).replace(",", "")) if (done_of or so_far) else None  # type: ignore[union-attr]
    return {"done": done, "total": int(done_of.group(2).replace(",", "")) if done_of else None,
            "left": left.group(1) if left else None, "text": " ".join(text.split())}


def seconds_of(left: str) -> int:
    """'1 min 15 s', '26 s', '2 h 10 min' (console.formatting.span) in seconds."""
    units = {"h": 3600, "min": 60, "s": 1}
    return sum(int(n) * units[unit] for n, unit in re.findall(r"(\d+) (h|min|s)\b", left))


def half_way(readings: list[dict[str, Any]], end_t: float) -> dict[str, Any] | None:
    """The time left the panel showed once half the records were done, beside the time that was really left."""
    seen = next((r for r in readings if r["left"] and r["total"] and r["done"] >= r["total"] / 2), None)
    if seen is None:
        return None
    return {"t": seen["t"], "done": seen["done"], "said_left": seconds_of(seen["left"]),
            "was_left": round(end_t - seen["t"], 1)}


def judge(readings: list[dict[str, Any]], expected_total: int) -> dict[str, Any]:
    """Did the panel do what the issue asks: N rise, M be the total, a time left appear."""
    counted = [r["done"] for r in readings if r["done"] is not None]
    totals = {r["total"] for r in readings if r["total"] is not None}
    return {"rising": len(counted) >= 2 and counted[-1] > counted[0]
            and all(b >= a for a, b in zip(counted, counted[1:], strict=False)),
            "total_right": totals == {expected_total},
            "time_left_seen": any(r["left"] for r in readings),
            "distinct_done": len(set(counted))}


def _outstanding_invoices(handle: Any) -> int:
    """Intacct's own count of the invoices the import reads (TOTALDUE > 0)."""
    response = handle.call('<function controlid="count"><readByQuery><object>ARINVOICE</object><fields>RECORDNO'
                           "</fields><query>TOTALDUE &gt; 0</query><pagesize>1</pagesize></readByQuery></function>")
    return int(response.find(".//result/data").get("totalcount"))


def _run_row(engine: Any, run_id: int) -> Any:
    from storage.models import SyncRun

    with Session(engine) as session:
        return session.get(SyncRun, run_id)


def _invoice_run_id(engine: Any) -> int | None:
    from storage.models import RunKind, SyncRun

    with Session(engine) as session:
        return session.exec(select(SyncRun.id).where(SyncRun.kind == RunKind.INVOICE_IMPORT)).first()


def _watch(page: Any, engine: Any, started: float) -> tuple[list[dict[str, Any]], int]:
    """Read the panel each time its text changes until the run is over; (readings, run id)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    readings: list[dict[str, Any]] = []
    shown, run_id, shots = "", None, set()
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(PlaywrightTimeout):  # the fragment redraws every 2 s: a new text, a new reading
            page.wait_for_function(_CHANGED_JS, arg=shown, timeout=30_000, polling=200)
        shown = page.evaluate(_PANEL_JS)
        run_id = run_id or _invoice_run_id(engine)
        run = _run_row(engine, run_id) if run_id else None
        if shown:
            seen = {"t": round(time.monotonic() - started, 1), **reading(shown)}
            readings.append(seen)
            _log(f"{seen['t']:6.1f} s  {seen['text']}")
            total, left = seen["total"], seen["left"]
            if EARLY not in shots and left and seen["done"]:
                page.screenshot(path=str(SCREENSHOTS / EARLY), full_page=True)
                shots.add(EARLY)
            if LATE not in shots and left and total and seen["done"] >= 0.8 * total:
                page.screenshot(path=str(SCREENSHOTS / LATE), full_page=True)
                shots.add(LATE)
        elif run is not None and run.finished_at is not None:
            break
    assert run_id is not None, "the invoice import was never queued"
    return readings, run_id


def measure(cached: Path, work: Path) -> dict[str, Any]:
    """Everything above, in `work`; the figures."""
    from playwright.sync_api import expect, sync_playwright

    from storage.db import make_engine
    from storage.migrate import upgrade_database

    work.mkdir(parents=True, exist_ok=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    key = os.environ.setdefault("CONSOLE_SECRET_KEY", Fernet.generate_key().decode())  # ours and the children's
    handle = start_copy(cached, work / "sandbox")
    console = scheduler = None
    try:
        expected = _outstanding_invoices(handle)
        ledger_url = f"sqlite:///{work / 'ledger.db'}"
        engine = make_engine(ledger_url)
        upgrade_database(engine)
        spec = {k: getattr(handle, k) for k in ("url", "company_id", "user_id", "user_password", "sender_id",
                                                "sender_password")}
        connection_id = connect_ledger(engine, spec)
        customers, seconds = run_kind(engine, connection_id, "customer_import")
        _log(f"{customers.created_count:,} customers imported in {seconds:.1f} s; {expected:,} invoices outstanding")
        env = console_env(work, admin=ADMIN, password=PASSWORD, database_url=ledger_url, secret_key=key)
        console = ConsoleServer.start(work / "console", env, script="console_server.py")
        scheduler = SchedulerProcess(ledger_url, work / "scheduler.log", "--poll-seconds", "0.5",
                                     "--heartbeat-seconds", "1", "--log-level", "INFO", env=env,
                                     executor="sync_engine.sync.runs:execute_run")
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            if browser is None:
                raise RuntimeError("Debian's chromium is not installed (apt-get install chromium)")
            page = new_page_in(browser, height=1000, timeout_ms=60_000)
            expect.set_options(timeout=60_000)
            page.goto(console.url)
            sign_in(page, ADMIN, PASSWORD)
            expect(page.get_by_role("heading", name="Accounting sync")).to_be_visible()
            open_page(page, "Imports")
            started, clicked_at = time.monotonic(), datetime.now(UTC)
            page.get_by_role("button", name="Start invoice import").click()
            settle(page)
            readings, run_id = _watch(page, engine, started)
            browser.close()
        run = _run_row(engine, run_id)
        engine.dispose()
    finally:
        if scheduler is not None:
            scheduler.close()
        if console is not None:
            console.stop()
        handle.stop()
    out = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "load": os.getloadavg()[0],
           "expected_total": expected, "readings": readings, "refreshes": len(readings),
           "run": {"id": run_id, "status": run.status, "created": run.created_count, "requests": run.api_requests,
                   "seconds": (run.finished_at - run.started_at).total_seconds()},
           "end_t": round((run.finished_at - clicked_at).total_seconds(), 1),
           "screenshots": [f"docs/screenshots/{name}" for name in (EARLY, LATE) if (SCREENSHOTS / name).exists()],
           **judge(readings, expected)}
    out["half_way"] = half_way(readings, out["end_t"])
    out["ok"] = out["rising"] and out["total_right"] and out["time_left_seen"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--invoices", type=int, default=100000)
    args = parser.parse_args()
    cached, _ = cached_company(args.customers, args.invoices)
    with tempfile.TemporaryDirectory(prefix="ar-bench-progress-") as tmp:
        figures = measure(cached, Path(tmp))
    results = json.loads(report.RESULTS_JSON.read_text()) if report.RESULTS_JSON.exists() else {}
    results["progress"] = figures
    report.write(results, save_baseline=False)
    _log(report.progress_line(figures))


if __name__ == "__main__":
    main()
