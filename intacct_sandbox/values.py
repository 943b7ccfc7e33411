"""Request text -> stored value conversion for each field type (filters and writes share it)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from . import zone
from .schema import BOOL, DATE, INT, MONEY, TS, FieldDef

CENT = Decimal("0.01")
_TRUE = {"true", "t", "1", "yes"}
_FALSE = {"false", "f", "0", "no"}


def parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise ValueError(f"'{text}' is not a valid number") from None
    if not value.is_finite():
        raise ValueError(f"'{text}' is not a valid number")
    return value


def to_cents(amount: Decimal) -> int:
    """Round half-up to cents, the way amounts with more than two decimals are stored."""
    return int((amount.quantize(CENT, rounding=ROUND_HALF_UP) * 100).to_integral_value())


def parse_date(text: str) -> date:
    text = text.strip()
    for pattern in ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%Y %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a valid date (expected MM/DD/YYYY)")


def parse_timestamp(text: str) -> datetime:
    text = text.strip()
    for pattern in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a valid timestamp (expected MM/DD/YYYY HH:MM:SS)")


def to_stored(fdef: FieldDef, text: str, *, for_filter: bool = False) -> object:
    """Convert request text to the stored form of ``fdef`` (money in cents, ISO dates, 0/1 booleans)."""
    text = text if text is not None else ""
    if fdef.type == INT:
        try:
            return int(text.strip())
        except ValueError:
            if for_filter:
                return float(parse_decimal(text))
            raise ValueError(f"'{text}' is not a valid integer for {fdef.name}") from None
    if fdef.type == MONEY:
        amount = parse_decimal(text) * 100
        if for_filter and amount != amount.to_integral_value():
            return float(amount)
        return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if fdef.type == DATE:
        return parse_date(text).isoformat()
    if fdef.type == TS:
        return zone.local_to_stored(parse_timestamp(text))
    if fdef.type == BOOL:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return 1
        if lowered in _FALSE:
            return 0
        raise ValueError(f"'{text}' is not a valid boolean for {fdef.name}")
    return fdef.aliases.get(text, text)
