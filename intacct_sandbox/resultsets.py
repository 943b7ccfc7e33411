"""Server-side result sets behind ``readByQuery``'s resultId, consumed page by page with ``readMore``."""

from __future__ import annotations

import secrets
import threading
from array import array
from dataclasses import dataclass


@dataclass
class ResultSet:
    result_id: str
    owner: tuple[str, str]
    object_name: str
    fields: list[str]
    ids: array
    pagesize: int
    position: int
    expires_at: float


class ResultSets:
    """The snapshot of matching RECORDNOs is taken at the first page, so pages never skip or repeat."""

    def __init__(self, ttl_seconds: int, max_sets: int) -> None:
        self.ttl = ttl_seconds
        self.max_sets = max_sets
        self._sets: dict[str, ResultSet] = {}
        self._last_by_object: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()

    def add(self, owner: tuple[str, str], object_name: str, fields: list[str], ids: array, pagesize: int,
            position: int, now: float) -> str:
        result_id = secrets.token_hex(12) + "AAAAA" + str(len(self._sets) % 10)
        with self._lock:
            self._purge(now)
            if len(self._sets) >= self.max_sets:
                oldest = min(self._sets.values(), key=lambda r: r.expires_at)
                self._sets.pop(oldest.result_id, None)
            self._sets[result_id] = ResultSet(result_id, owner, object_name, fields, ids, pagesize, position,
                                              now + self.ttl)
            self._last_by_object[(*owner, object_name)] = result_id
        return result_id

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
