"""Function name -> handler, and which functions write (they run under the writer lock)."""

from __future__ import annotations

from typing import Callable

from lxml import etree

from ..context import Context
from ..xmlio import Node
from . import adjust, ar, inspect, master_legacy, reads, session, writes

Handler = Callable[[Context, etree._Element], "Node | str | None"]

HANDLERS: dict[str, Handler] = {
    "getAPISession": session.get_api_session,
    "readByQuery": reads.read_by_query,
    "readMore": reads.read_more,
    "query": reads.query,
    "read": reads.read,
    "readByName": reads.read_by_name,
    "lookup": reads.lookup,
    **inspect.HANDLERS,
}
WRITE_FUNCTIONS: set[str] = set()
GENERIC_OBJECT_WRITES = {"create", "update"}


for _module in (writes, ar, master_legacy, adjust):
    HANDLERS.update(_module.HANDLERS)
    WRITE_FUNCTIONS.update(_module.HANDLERS)
