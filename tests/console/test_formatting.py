"""The console's pure formatting, without Streamlit: what a reader sees for amounts, times and field names."""
from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from console.formatting import clock_text, diff_value, field_label, money, plain, plural, span, totals_by_currency


def test_money_is_exact_with_separators_and_an_optional_currency() -> None:
    assert money(Decimal("1234.5")) == "1,234.50"
    assert money(Decimal("7"), "USD") == "USD 7.00"
    assert money(None) == ""


def test_a_time_is_shown_in_the_zone_given() -> None:
    moment = datetime(2025, 3, 4, 14, 5, tzinfo=UTC)
    assert clock_text(moment, ZoneInfo("America/New_York"), with_zone=True) == "2025-03-04 09:05 EST"
    assert clock_text(None, ZoneInfo("UTC")) == "—"


def test_durations_counts_and_field_names_read_as_words() -> None:
    assert [span(timedelta(seconds=s)) for s in (45, 185, 7800)] == ["45 s", "3 min 05 s", "2 h 10 min"]
    assert (plural(1, "record"), plural(1200, "record")) == ("1 record", "1,200 records")
    assert field_label("intacct_recordno") == "Intacct key" and field_label("due_date") == "Due date"
    assert diff_value("total", "1500") == "1,500.00" and diff_value("sync_state", "skipped") == "Don't sync"


def test_names_with_markdown_characters_are_escaped() -> None:
    assert plain("A*B_C") == "A\\*B\\_C"


def test_totals_are_per_currency_and_never_mixed() -> None:
    pairs = [("USD", Decimal("1.10")), ("EUR", Decimal("2.00")), ("USD", Decimal("0.20"))]
    assert totals_by_currency(pairs) == {"EUR": Decimal("2.00"), "USD": Decimal("1.30")}


def test_formatting_loads_without_streamlit() -> None:
    code = "import sys, console.formatting; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
