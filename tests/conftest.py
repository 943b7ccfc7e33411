"""Shared pytest fixtures: databases on both backends, secrets isolated per test."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from tests.fixtures.db import *  # noqa: F401,F403
from tests.fixtures.sandbox import demo_sandbox, sandbox  # noqa: F401
from tests.fixtures.scheduler import spawn_scheduler  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated_secret_key(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads or writes the developer's real key file."""
    monkeypatch.setenv("CONSOLE_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("CONSOLE_SECRET_KEY_FILE", str(tmp_path_factory.mktemp("key") / ".secret_key"))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    """Say how many database tests ran on each backend, so a skipped backend cannot go unnoticed."""
    counts = {"sqlite": 0, "postgresql": 0}
    for report in terminalreporter.stats.get("passed", []):
        for backend in counts:
            if f"[{backend}" in report.nodeid or f"-{backend}]" in report.nodeid or f"-{backend}-" in report.nodeid:
                counts[backend] += 1
    if any(counts.values()):
        terminalreporter.write_line(
            f"database tests passed: {counts['sqlite']} on SQLite, {counts['postgresql']} on PostgreSQL"
        )
