"""What every browser test needs: a console server per test module, one Chromium for all of them, and pages.

A test module says which console it wants with module-level names: `ADMIN` and `PASSWORD` (the first
administrator), and optionally `CONSOLE_SCRIPT` (default `app.py`; `console_server.py` is what `make run` serves,
with the session-cookie routes) and `CONSOLE_ENV` (more environment, e.g. a demo company). Each module gets its
own server on a fresh SQLite database, so a module's first test is that server's first request.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.browser.helpers import launch_chromium, new_page_in
from tests.fixtures.console_server import ConsoleServer, console_env


@pytest.fixture(scope="module")
def console(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    """The console of this test module, configured by its ADMIN, PASSWORD, CONSOLE_SCRIPT and CONSOLE_ENV."""
    module = request.module
    workdir = tmp_path_factory.mktemp(module.__name__.rsplit(".", 1)[-1])
    env = console_env(workdir, admin=module.ADMIN, password=module.PASSWORD,
                      extra=getattr(module, "CONSOLE_ENV", None))
    try:
        server = ConsoleServer.start(workdir, env, script=getattr(module, "CONSOLE_SCRIPT", "app.py"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def console_url(console: ConsoleServer) -> str:
    return console.url


@pytest.fixture(scope="package")
def browser():  # type: ignore[no-untyped-def]
    """One Chromium for all browser tests. Package scope, so it stops after the last of them: while Playwright's
    sync API runs, its event loop counts as running on the main thread, which later tests must not inherit."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        if browser is None:
            pytest.skip("Debian's chromium is not installed")
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """A factory of pages, each in a fresh browser context (its own cookies): `new_page(height=…, timeout_ms=…)`.
    The contexts close when the test ends."""
    contexts: list = []

    def make(**options):  # type: ignore[no-untyped-def]
        page = new_page_in(browser, **options)
        contexts.append(page.context)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):  # type: ignore[no-untyped-def]
    """A page 1400 × 1000 in Paris time, 20 s per action."""
    return new_page()
