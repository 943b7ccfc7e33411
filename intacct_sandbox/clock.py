"""The sandbox's notion of "now": real UTC time plus an offset that tests move through the admin endpoint."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    """Thread-safe UTC clock that can be advanced or pinned without sleeping."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return (datetime.now(UTC) + offset).replace(microsecond=0)

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        with self._lock:
            self._offset = moment - datetime.now(UTC)
        return self.now()

    def reset(self) -> datetime:
        with self._lock:
            self._offset = timedelta(0)
        return self.now()


def iso(moment: datetime) -> str:
    """ISO-8601 with an explicit ``+00:00`` offset, as session timestamps are written."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def db_timestamp(moment: datetime) -> str:
    """Sortable UTC timestamp text used inside the database."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
