"""The JSON admin endpoint under ``/_sandbox/``, kept apart from the Intacct protocol.

GET  /_sandbox/health         -> {"status": "ok", "now": ..., "companies": [...]}
GET  /_sandbox/faults         -> current fault spec with counters
POST /_sandbox/faults         -> replace (or ``"append": true``) the fault spec; see ``faults.py``
DELETE /_sandbox/faults       -> clear every fault and the concurrency limit
GET  /_sandbox/stats          -> {"total": N, "functions": {...}, "http_status": {...}, "faults_injected": {...}}
POST /_sandbox/stats/reset    -> zero the counters
GET  /_sandbox/clock          -> {"now": ISO}
POST /_sandbox/clock          -> {"advance_seconds": 3600} | {"set": "2024-05-01T10:00:00+00:00"} | {"reset": true}
POST /_sandbox/sessions/expire -> invalidate every API session
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .clock import iso
from .faults import FaultSpecError
from .services import Services


def handle_admin(services: Services, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    route = path.split("?", 1)[0].rstrip("/")
    try:
        payload = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return 400, {"error": f"invalid JSON: {exc}"}
    try:
        return _route(services, method, route, payload)
    except (FaultSpecError, ValueError, TypeError) as exc:
        return 400, {"error": str(exc)}


def _route(s: Services, method: str, route: str, payload: Any) -> tuple[int, dict[str, Any]]:
    if route == "/_sandbox/health" and method == "GET":
        return 200, {"status": "ok", "now": iso(s.clock.now()), "companies": sorted(s.registry.companies)}
    if route == "/_sandbox/faults":
        if method == "GET":
            return 200, s.faults.snapshot()
        if method in ("POST", "PUT"):
            s.faults.configure(payload)
            return 200, s.faults.snapshot()
        if method == "DELETE":
            s.faults.clear()
            return 200, s.faults.snapshot()
    if route == "/_sandbox/stats" and method == "GET":
        return 200, s.stats.snapshot()
    if route == "/_sandbox/stats/reset" and method == "POST":
        s.stats.reset()
        return 200, s.stats.snapshot()
    if route == "/_sandbox/clock":
        if method == "POST":
            if payload.get("reset"):
                s.clock.reset()
            elif "set" in payload:
                s.clock.set(datetime.fromisoformat(str(payload["set"])))
            else:
                seconds = payload.get("advance_seconds", payload.get("advance"))
                if seconds is None:
                    raise ValueError("give advance_seconds, set or reset")
                s.clock.advance(float(seconds))
        elif method != "GET":
            return 405, {"error": "use GET or POST"}
        return 200, {"now": iso(s.clock.now())}
    if route == "/_sandbox/sessions/expire" and method == "POST":
        return 200, {"expired": s.sessions.expire_all()}
    return 404, {"error": f"no admin route {method} {route}"}
