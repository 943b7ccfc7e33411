"""Every page renders without an exception on an empty, migrated database, signed in as an admin."""
from __future__ import annotations

import pytest

from console import state

PAGES = list(state.ROUTED_PAGES)  # every page app.py can route to
# The upload page shows tables after an upload; the entry forms show editors, not tables.
PAGES_WITH_TABLES = [page for page in PAGES if page not in (state.UPLOAD, state.NEW_INVOICE, state.NEW_PAYMENT)]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_empty_database(app_as, page: str) -> None:
    at = app_as("admin", page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "every page has a title"


@pytest.mark.parametrize("page", PAGES_WITH_TABLES)
def test_page_renders_with_data(app_as, db, page: str) -> None:
    from tests.console.seed import seed_ledger

    ids = seed_ledger(db)
    query = {state.RUN_DETAIL: {"run": str(ids["bad_run"])},
             state.RECORD_DETAIL: {"type": "customer", "id": str(ids["acme"])}}.get(page)
    at = app_as("admin", None if query else page, query=query)
    if query:
        at.switch_page(page)
        at.query_params.update(query)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.dataframe, "a page with data shows a table"
