"""The long-lived parts of one sandbox server that every request and function handler may use.

Its own module so that a handler's context (`context.py`) can name it without importing the gateway, which imports
the handlers: the sandbox has no import circle.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo

from .auth import Registry, SessionStore
from .clock import Clock
from .config import SandboxConfig
from .db import Store
from .faults import FaultInjector
from .resultsets import ResultSets
from .stats import Stats


@dataclass
class Services:
    config: SandboxConfig
    store: Store
    clock: Clock
    registry: Registry
    sessions: SessionStore
    resultsets: ResultSets
    faults: FaultInjector
    stats: Stats
    zone: tzinfo = UTC
