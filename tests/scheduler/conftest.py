"""Fixtures for scheduler tests: a factory of scheduler subprocesses that are always cleaned up."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.scheduler.helpers import SchedulerProcess


@pytest.fixture
def spawn_scheduler(tmp_path: Path) -> Iterator[Callable[..., SchedulerProcess]]:
    started: list[SchedulerProcess] = []

    def spawn(db_url: str, *args: str, env: dict[str, str] | None = None, **kw: str) -> SchedulerProcess:
        proc = SchedulerProcess(db_url, tmp_path / f"scheduler-{len(started)}.log", *args, env=env, **kw)
        started.append(proc)
        return proc

    yield spawn
    for proc in started:
        proc.close()
