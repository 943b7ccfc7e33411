"""Request counters for the admin endpoint: total requests, per function name, per HTTP status, faults."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.functions: Counter[str] = Counter()
            self.http_status: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()

    def request(self, function_names: Iterable[str]) -> None:
        with self._lock:
            self.total += 1
            self.functions.update(function_names)

    def status(self, code: int) -> None:
        with self._lock:
            self.http_status[str(code)] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {"total": self.total, "functions": dict(self.functions), "http_status": dict(self.http_status),
                    "faults_injected": dict(self.faults)}
