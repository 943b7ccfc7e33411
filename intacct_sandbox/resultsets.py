"""Server-side result sets behind ``readByQuery``'s resultId, consumed page by page with ``readMore``."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass


@dataclass
class ResultSet:
    """A keyset cursor: the filter, the RECORDNO reached, and the highest RECORDNO that existed at the start.

    Pages walk RECORDNO upwards and stop at that bound, so records created later never appear and no record
    is returned twice or skipped (for records that keep matching the filter).
    """

    result_id: str
    owner: tuple[str, str]
    object_name: str
    fields: list[str]
    where: str
    params: list
    upper_key: int
    last_key: int
    total: int
    returned: int
    pagesize: int
    limit: int | None
    expires_at: float


class ResultSets:
    """readByQuery cursors by resultId, with a time to live."""

    def __init__(self, ttl_seconds: int, max_sets: int) -> None:
        self.ttl = ttl_seconds
        self.max_sets = max_sets
        self._sets: dict[str, ResultSet] = {}
        self._last_by_object: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()

    def add(self, cursor: ResultSet, now: float) -> str:
        cursor.result_id = secrets.token_hex(12) + "AAAAA" + str(len(self._sets) % 10)
        cursor.expires_at = now + self.ttl
        with self._lock:
            self._purge(now)
            if len(self._sets) >= self.max_sets:
                oldest = min(self._sets.values(), key=lambda r: r.expires_at)
                self._sets.pop(oldest.result_id, None)
            self._sets[cursor.result_id] = cursor
            self._last_by_object[(*cursor.owner, cursor.object_name)] = cursor.result_id
        return cursor.result_id

    def get(self, result_id: str, owner: tuple[str, str], now: float) -> ResultSet | None:
        with self._lock:
            found = self._sets.get(result_id)
            if found is None or found.expires_at <= now or found.owner != owner:
                return None
            return found

    def last_for_object(self, owner: tuple[str, str], object_name: str) -> str | None:
        with self._lock:
            return self._last_by_object.get((*owner, object_name))

    def drop(self, result_id: str) -> None:
        with self._lock:
            self._sets.pop(result_id, None)

    def _purge(self, now: float) -> None:
        for key in [k for k, r in self._sets.items() if r.expires_at <= now]:
            del self._sets[key]
