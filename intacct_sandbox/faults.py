"""Fault injection for tests and demos, driven by a JSON spec (CLI ``--faults`` or ``POST /_sandbox/faults``).

Spec::

    {
      "faults": [
        {"kind": "latency", "ms": 200, "jitter_ms": 50},
        {"kind": "rate_limit", "next": 2},
        {"kind": "http_503", "every": 5, "function": "readByQuery"},
        {"kind": "http_524", "next": 1, "function": "create_invoice"},
        {"kind": "drop_connection", "probability": 0.1},
        {"kind": "offline", "next": 1},
        {"kind": "expire_sessions", "next": 1}
      ],
      "concurrency_limit": 2,
      "seed": 42
    }

Kinds: ``latency`` (sleep ``ms`` + uniform(0, ``jitter_ms``)), ``rate_limit`` (HTTP 429 GW-0010),
``http_502`` / ``http_503`` (before anything runs), ``http_524`` and ``drop_connection`` (after the
request's changes are committed: the record exists, the response is lost), ``offline`` (HTTP 200, every
function fails with "The Service is Temporarily Off-line", nothing runs), ``expire_sessions`` (all
sessions become invalid before the request is authenticated).
Triggers (at most one; none = every matching request): ``next`` N (the next N matching requests),
``every`` N (every Nth matching request), ``probability`` p. ``function`` restricts a fault to requests
containing that function name. ``concurrency_limit`` N > 0 rejects, per company, requests beyond N in
flight with 429 GW-0010. ``seed`` makes probabilities and jitter reproducible. POST replaces the fault list
unless ``"append": true``; ``DELETE`` clears faults and the concurrency limit.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("latency", "rate_limit", "http_502", "http_503", "http_524", "drop_connection", "offline",
         "expire_sessions")
OUTCOMES = ("rate_limit", "http_502", "http_503", "http_524", "drop_connection", "offline")


class FaultSpecError(ValueError):
    pass


@dataclass
class Fault:
    kind: str
    next: int | None = None
    every: int | None = None
    probability: float | None = None
    function: str | None = None
    ms: float = 0.0
    jitter_ms: float = 0.0
    matched: int = 0
    fired: int = 0

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Fault:
        if not isinstance(raw, dict):
            raise FaultSpecError("each fault must be an object")
        kind = raw.get("kind")
        if kind not in KINDS:
            raise FaultSpecError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        unknown = set(raw) - {"kind", "next", "every", "probability", "function", "ms", "jitter_ms"}
        if unknown:
            raise FaultSpecError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        triggers = [k for k in ("next", "every", "probability") if raw.get(k) is not None]
        if len(triggers) > 1:
            raise FaultSpecError("use at most one of next, every, probability")
        fault = cls(kind=kind, next=raw.get("next"), every=raw.get("every"), probability=raw.get("probability"),
                    function=raw.get("function"), ms=float(raw.get("ms", 0)), jitter_ms=float(raw.get("jitter_ms", 0)))
        if fault.next is not None and int(fault.next) < 0:
            raise FaultSpecError("next must be >= 0")
        if fault.every is not None and int(fault.every) < 1:
            raise FaultSpecError("every must be >= 1")
        if fault.probability is not None and not 0 <= float(fault.probability) <= 1:
            raise FaultSpecError("probability must be between 0 and 1")
        return fault

    def public(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Decision:
    """What the faults chose for one request."""

    delay_seconds: float = 0.0
    outcome: str | None = None
    expire_sessions: bool = False
    fired: list[str] = field(default_factory=list)


class FaultInjector:
    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)
        self._seed = seed
        self.concurrency_limit = 0
        self._in_flight: dict[str, int] = {}

    def configure(self, spec: dict[str, Any] | list, *, append: bool = False) -> None:
        if isinstance(spec, list):
            spec = {"faults": spec}
        if not isinstance(spec, dict):
            raise FaultSpecError("the fault spec must be a JSON object")
        unknown = set(spec) - {"faults", "concurrency_limit", "seed", "append"}
        if unknown:
            raise FaultSpecError(f"unknown spec keys: {', '.join(sorted(unknown))}")
        faults = [Fault.from_dict(raw) for raw in spec.get("faults", [])]
        append = append or bool(spec.get("append"))
        with self._lock:
            self._faults = (self._faults + faults) if append else faults
            if "concurrency_limit" in spec:
                self.concurrency_limit = max(0, int(spec["concurrency_limit"] or 0))
            if "seed" in spec:
                self._seed = spec["seed"]
                self._rng = random.Random(self._seed)

    def clear(self) -> None:
        with self._lock:
            self._faults = []
            self.concurrency_limit = 0

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"faults": [f.public() for f in self._faults], "concurrency_limit": self.concurrency_limit,
                    "seed": self._seed}

    def decide(self, function_names: list[str]) -> Decision:
        decision = Decision()
        with self._lock:
            for fault in self._faults:
                if fault.function and fault.function not in function_names:
                    continue
                if fault.next is not None and fault.next <= 0:
                    continue
                fault.matched += 1
                if fault.every is not None and fault.matched % int(fault.every) != 0:
                    continue
                if fault.probability is not None and self._rng.random() >= float(fault.probability):
                    continue
                if fault.kind in OUTCOMES and decision.outcome is not None:
                    continue
                if fault.next is not None:
                    fault.next -= 1
                fault.fired += 1
                decision.fired.append(fault.kind)
                if fault.kind == "latency":
                    decision.delay_seconds += (fault.ms + self._rng.uniform(0, fault.jitter_ms)) / 1000.0
                elif fault.kind == "expire_sessions":
                    decision.expire_sessions = True
                else:
                    decision.outcome = fault.kind
        return decision

    def enter(self, company_id: str) -> bool:
        """Take an in-flight slot for the company; False when the concurrency limit is reached."""
        with self._lock:
            current = self._in_flight.get(company_id, 0)
            if self.concurrency_limit and current >= self.concurrency_limit:
                return False
            self._in_flight[company_id] = current + 1
            return True

    def leave(self, company_id: str) -> None:
        with self._lock:
            self._in_flight[company_id] = max(0, self._in_flight.get(company_id, 1) - 1)
