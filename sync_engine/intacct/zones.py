"""The company's time zone: Intacct's record timestamps (WHENMODIFIED…) carry none; session timestamps do.

Record timestamps are the company's wall time, so they are read and filtered in the zone of the connection
setting (``values.parse_timestamp`` / ``format_timestamp`` with that zone). The gateway writes the session's
``sessiontimestamp`` with the company's offset, which lets Test connection check that setting.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .session import SessionInfo


def company_zone(name: str | None) -> tzinfo:
    """The zone for the connection's setting (an IANA name; empty or unknown names are UTC)."""
    if not name or name.strip().upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_mismatch(zone_name: str | None, info: SessionInfo, at: datetime | None = None) -> str | None:
    """A sentence for the user when the session's offset differs from the configured zone's; else None.

    Compared at the session's own timestamp (else ``at``, else now), so a DST change cannot blur it. None also
    when the gateway wrote no usable offset (nothing to compare).
    """
    if info.utc_offset is None:
        return None
    when = info.stamped_at or at or datetime.now(UTC)
    expected = when.astimezone(company_zone(zone_name)).utcoffset()
    if expected == info.utc_offset:
        return None
    return (f"Intacct writes this company's times at {_offset_text(info.utc_offset)}, but the connection's time "
            f"zone ({zone_name or 'UTC'}) is at {_offset_text(expected or timedelta(0))} then: change the time zone "
            "setting, or changes made in Intacct may be read hours late or early.")
