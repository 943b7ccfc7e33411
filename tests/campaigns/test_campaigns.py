"""Short versions of the campaigns (`make campaigns` runs them at full size): each comes back clean and prints
its figures."""
from __future__ import annotations

from campaigns import concurrency, crash, lost_response


def test_short_crash_campaign_leaves_nothing_duplicated_or_missing() -> None:
    lines: list[str] = []
    assert crash.campaign(trials=3, invoices=40, payments=40, out=lines.append), "\n".join(lines)
    report = "\n".join(lines)
    assert "0 duplicated and 0 missing" in report and "CLEAN" in report


def test_short_lost_response_campaign_gets_everything_across_once() -> None:
    lines: list[str] = []
    assert lost_response.campaign(invoices=40, payments=40, out=lines.append), "\n".join(lines)
    assert "gateway injected:" in "\n".join(lines)


def test_short_concurrency_campaign_on_postgresql() -> None:
    lines: list[str] = []
    assert concurrency.campaign(attempts=12, clicks=10, rounds=1, out=lines.append), "\n".join(lines)
    report = "\n".join(lines)
    assert "5 checked, 7 refused" in report and "queued 1 run(s)" in report and "0 overlapping" in report
