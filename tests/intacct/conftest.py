"""Fixtures for the Intacct client tests: the sandbox fixtures plus client factories bound to a sandbox."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from sync_engine.intacct import IntacctClient, IntacctCredentials, RetryPolicy
from tests.fixtures.sandbox import SandboxHandle, demo_sandbox, sandbox, start_sandbox  # noqa: F401

FAST_RETRY = RetryPolicy(max_attempts=4, initial_delay=0.01, max_delay=0.1)


def credentials_for(handle: SandboxHandle, **overrides: str) -> IntacctCredentials:
    values = dict(endpoint_url=handle.url, sender_id=handle.sender_id, sender_password=handle.sender_password,
                  company_id=handle.company_id, user_id=handle.user_id, user_password=handle.user_password)
    values.update(overrides)
    return IntacctCredentials(**values)


def client_for(handle: SandboxHandle, **kw) -> IntacctClient:
    kw.setdefault("retry", FAST_RETRY)
    kw.setdefault("timeout", (5, 30))
    overrides = kw.pop("credentials", {})
    return IntacctClient(credentials_for(handle, **overrides), **kw)


@pytest.fixture(scope="module")
def big_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    """A sandbox with 2,345 customers and 10,000 invoices, for paging and the paging measurement."""
    workdir: pathlib.Path = tmp_path_factory.mktemp("big_sandbox")
    handle = start_sandbox(workdir, seed="minimal", extra_args=["--customers", "2345", "--invoices", "10000"])
    try:
        yield handle
    finally:
        handle.stop()
