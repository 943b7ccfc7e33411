"""Sandbox fixtures for this folder: the shared ones plus one server per test module (``module_sandbox``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.sandbox import SandboxHandle, demo_sandbox, sandbox, start_sandbox  # noqa: F401


@pytest.fixture(scope="module")
def module_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    """A minimal-seed sandbox shared by the tests of one module (tests must not depend on each other's writes)."""
    handle = start_sandbox(tmp_path_factory.mktemp("module_sandbox"), seed="minimal")
    try:
        yield handle
    finally:
        handle.stop()
