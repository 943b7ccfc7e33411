"""Values read out of Intacct records for the ledger: amounts, dates and required fields, each refused with a
reason (`UnreadableRecord`); and the run item of each record an import read: left out, or unchanged, or updated
with its new version. Shared by every import."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlmodel import Session

from storage.models import ItemAction
from storage.types import utcnow
from sync_engine.intacct.values import parse_date, parse_decimal
from sync_engine.sync.ledger import record_version
from sync_engine.sync.run_context import RunContext

ZERO = Decimal("0.00")


def batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """`items` in lists of `size` (the last one shorter)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


# The largest amount kept to the cent everywhere: SQLite stores NUMERIC as a binary double, which holds any
# number of 15 significant digits exactly (13 before the point, 2 after). Anything larger is no real invoice.
MAX_AMOUNT = Decimal("1e13")


class UnreadableRecord(ValueError):
    """Intacct sent a record we cannot take as it is (a missing key, a value that is not what its field holds)."""


def amount_of(record: dict[str, Any], field: str) -> Decimal:
    """The field as an amount (empty: zero)."""
    try:
        value = parse_decimal(record.get(field)) or ZERO
    except ValueError:
        raise UnreadableRecord(f"{field} is {record.get(field)!r}, not an amount") from None
    if abs(value) >= MAX_AMOUNT:
        raise UnreadableRecord(f"{field} is {record.get(field)!r}, too large to be a real amount")
    return value


def required(record: dict[str, Any], *fields: str) -> None:
    """Refuse the record when any of `fields` is empty."""
    missing = [field for field in fields if not (record.get(field) or "").strip()]
    if missing:
        raise UnreadableRecord(f"{', '.join(missing)} missing")


def date_of(record: dict[str, Any], field: str) -> date | None:
    """The field as a date (empty: None)."""
    try:
        return parse_date(record.get(field))
    except ValueError:
        raise UnreadableRecord(f"{field} is {record.get(field)!r}, not a date") from None


def left_out(session: Session, ctx: RunContext, record_type: str, record: dict[str, Any], exc: ValueError) -> None:
    """The failed run item of a record the run could not read and left out."""
    key = record.get("RECORDNO") or "?"
    ident = record.get("CUSTOMERID" if record_type == "customer" else "RECORDID") or f"#{key}"
    ctx.item(session, record_type=record_type, label=f"{record_type.title()} {ident}", action=ItemAction.FAILED,
             intacct_key=record.get("RECORDNO"), category="record",
             message=f"Intacct sent this {record_type} in a form we cannot read ({exc}); it was left out and "
                     "the rest of the run went on. Check the record in Intacct.")


def read_again(session: Session, ctx: RunContext, *, record_type: str, record: Any, label: str,
               changes: dict[str, list[str | None]], after: dict[str, str | None], intacct_key: str | None,
               message: str | None = None) -> None:
    """The run item of a record the ledger already held: unchanged, or updated with the version of the change."""
    if not changes:
        ctx.item(session, record_type=record_type, label=label, action=ItemAction.UNCHANGED)
        return
    record.updated_at = utcnow()
    record_version(session=session, record_type=record_type, record_id=record.id, run_id=ctx.run_id,
                   source="import", changes=changes, snapshot_values=after)
    ctx.item(session, record_type=record_type, label=label, action=ItemAction.UPDATED, record_id=record.id,
             intacct_key=intacct_key, changes=changes, message=message)
