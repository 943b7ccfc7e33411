"""Function name -> handler, and which functions write (they run under the writer lock)."""

from __future__ import annotations

from typing import Callable

from lxml import etree

from ..context import Context
from ..xmlio import Node
from . import ar, legacy_schema, reads, session, writes

Handler = Callable[[Context, etree._Element], "Node | str | None"]

HANDLERS: dict[str, Handler] = {
    "getAPISession": session.get_api_session,
    "readByQuery": reads.read_by_query,
    "readMore": reads.read_more,
    "query": reads.query,
    "read": reads.read,
    "readByName": reads.read_by_name,
    "lookup": reads.lookup,
}
WRITE_FUNCTIONS: set[str] = set()
GENERIC_OBJECT_WRITES = {"create", "update"}
VALIDATORS = {name: legacy_schema.validate for name in legacy_schema.ORDERS}


HANDLERS.update(writes.HANDLERS)
HANDLERS.update(ar.HANDLERS)
WRITE_FUNCTIONS.update(writes.HANDLERS, ar.HANDLERS)
