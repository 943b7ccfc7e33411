"""``getAPISession``: hands out a session id and the endpoint the client reached us on."""

from __future__ import annotations

from lxml import etree

from ..context import Context
from ..errors import FunctionError, bl
from ..xmlio import Node, leaf
from .common import find


def get_api_session(ctx: Context, el: etree._Element) -> Node:
    sessions = ctx.services.sessions
    location_el = find(el, "locationid")
    if location_el is not None:
        entity = (location_el.text or "").strip()
        if entity and (not ctx.company.multi_entity or entity not in ctx.company.entities):
            raise FunctionError(bl(f"Invalid entity '{entity}' for company {ctx.company_id}.",
                                   "Use an entity ID of this company, or an empty locationid for the top level."))
        session = sessions.create(ctx.sender_id, ctx.company_id, ctx.user_id, entity)
    elif ctx.session is not None:
        session = ctx.session
    else:
        session = sessions.create(ctx.sender_id, ctx.company_id, ctx.user_id, ctx.entity)
    return Node("data").add(Node("api").add(
        leaf("sessionid", session.session_id), leaf("endpoint", ctx.endpoint), leaf("locationid", session.entity),
    ))
