"""The company's time zone while a request is served: Intacct writes record timestamps in it, without an offset.

The database keeps UTC. Timestamps leave as the company's local wall time (``MM/DD/YYYY HH:MM:SS``, no zone, as
Intacct's own FAQ says of its dates) and filter values arrive in it; session timestamps carry the company's
offset (``2024-05-01T03:00:01-07:00``). One zone per sandbox (``--timezone``, default UTC). A local time that a
DST change makes ambiguous is read as its first occurrence; one it skips, as the time after the gap.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo

_CURRENT: contextvars.ContextVar[tzinfo] = contextvars.ContextVar("company_zone", default=timezone.utc)


def named(name: str | None) -> tzinfo:
    """The zone for an IANA name ("America/Los_Angeles"); UTC for empty/"UTC"."""
    if not name or name.upper() == "UTC":
        return timezone.utc
    return ZoneInfo(name)


def current() -> tzinfo:
    return _CURRENT.get()


@contextlib.contextmanager
def serving(zone: tzinfo) -> Iterator[None]:
    token = _CURRENT.set(zone)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def iso(moment: datetime) -> str:
    """A session timestamp: ISO-8601 in the company's zone with its offset."""
    return moment.astimezone(current()).replace(microsecond=0).isoformat()


def stored_to_local(value: str) -> str:
    """Database UTC ``YYYY-MM-DD HH:MM:SS`` -> company-local ``MM/DD/YYYY HH:MM:SS``."""
    zone = current()
    if zone is not timezone.utc:
        moment = datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).astimezone(zone)
        value = moment.strftime("%Y-%m-%d %H:%M:%S")
    return f"{value[5:7]}/{value[8:10]}/{value[0:4]} {value[11:19]}"


def local_to_stored(naive: datetime) -> str:
    """A company-local wall time from a request -> database UTC text."""
    zone = current()
    if zone is not timezone.utc:
        naive = naive.replace(tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)
    return naive.strftime("%Y-%m-%d %H:%M:%S")
