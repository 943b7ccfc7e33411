"""Unit tests for Intacct value formats."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from sync_engine.intacct import values as v


def test_parse_decimal():
    assert v.parse_decimal("1250") == Decimal("1250")
    assert v.parse_decimal("4598.4") == Decimal("4598.4")
    assert v.parse_decimal(" -12.50 ") == Decimal("-12.50")
    assert v.parse_decimal("") is None
    assert v.parse_decimal(None) is None
    with pytest.raises(ValueError):
        v.parse_decimal("1,250.00")
    with pytest.raises(ValueError):
        v.parse_decimal("NaN")


@pytest.mark.parametrize(
    "value, expected",
    [
        (Decimal("1250"), "1250.00"),
        (Decimal("4598.4"), "4598.40"),
        (Decimal("0.005"), "0.01"),
        (Decimal("2.675"), "2.68"),
        (Decimal("-0.001"), "0.00"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("-19.999"), "-20.00"),
        (12, "12.00"),
    ],
)
def test_format_decimal_money(value, expected):
    assert v.format_decimal(value) == expected


def test_format_decimal_plain_and_refuses_float():
    assert v.format_decimal(Decimal("1.23456"), places=None) == "1.23456"
    assert v.format_decimal(Decimal("1E+3"), places=None) == "1000"
    with pytest.raises(TypeError):
        v.format_decimal(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        v.format_decimal(True)  # type: ignore[arg-type]


def test_dates():
    assert v.parse_date("05/01/2024") == date(2024, 5, 1)
    assert v.parse_date("") is None and v.parse_date(None) is None
    assert v.format_date(date(2024, 5, 1)) == "05/01/2024"
    with pytest.raises(ValueError):
        v.parse_date("2024-05-01")


def test_timestamps():
    ts = v.parse_timestamp("05/02/2024 14:03:11")
    assert ts == datetime(2024, 5, 2, 14, 3, 11, tzinfo=UTC)
    pacific = timezone(timedelta(hours=-7))
    ts2 = v.parse_timestamp("05/02/2024 14:03:11", tz=pacific)
    assert ts2 is not None and ts2.utcoffset() == timedelta(hours=-7)
    assert v.parse_timestamp("2024-05-01T22:00:01+00:00") == datetime(2024, 5, 1, 22, 0, 1, tzinfo=UTC)
    assert v.parse_timestamp(None) is None
    assert v.format_timestamp(datetime(2024, 5, 2, 14, 3, 11, tzinfo=UTC)) == "05/02/2024 14:03:11"
    assert v.format_timestamp(datetime(2024, 5, 2, 14, 0, 0, tzinfo=pacific)) == "05/02/2024 21:00:00"
    assert v.format_timestamp(datetime(2024, 5, 2, 21, 0, tzinfo=UTC), tz=pacific) == "05/02/2024 14:00:00"
    with pytest.raises(ValueError):
        v.format_timestamp(datetime(2024, 5, 2))
    with pytest.raises(ValueError):
        v.parse_timestamp("yesterday")


def test_format_value_and_bools():
    assert v.format_value(True) == "true"
    assert v.format_value(False) == "false"
    assert v.format_value(Decimal("10.50")) == "10.50"
    assert v.format_value(7) == "7"
    assert v.format_value(date(2024, 1, 2)) == "01/02/2024"
    assert v.parse_bool("T") is True and v.parse_bool("false") is False and v.parse_bool("") is None
    with pytest.raises(TypeError):
        v.format_value(1.5)
