"""Building the request envelope (reference section 2) around a list of functions."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from .credentials import IntacctCredentials
from .functions import Function


@dataclass(frozen=True)
class LoginAuth:
    """Authenticate with the company user's credentials (used only for getAPISession)."""

    credentials: IntacctCredentials


@dataclass(frozen=True)
class SessionAuth:
    """Authenticate with a session id (held here, never shown in repr)."""

    session_id: str

    def __repr__(self) -> str:
        return "SessionAuth(session_id=<redacted>)"

    __str__ = __repr__


def build_request(
    credentials: IntacctCredentials,
    auth: LoginAuth | SessionAuth,
    functions: Sequence[Function],
    *,
    uniqueid: bool,
    transaction: bool = False,
    request_controlid: str | None = None,
) -> bytes:
    """Serialize a complete ``<request>`` document as UTF-8 bytes."""
    if not functions:
        raise ValueError("a request needs at least one function")
    request = etree.Element("request")
    control = etree.SubElement(request, "control")
    etree.SubElement(control, "senderid").text = credentials.sender_id
    etree.SubElement(control, "password").text = credentials.sender_password
    etree.SubElement(control, "controlid").text = request_controlid or f"req-{uuid.uuid4().hex}"
    etree.SubElement(control, "uniqueid").text = "true" if uniqueid else "false"
    etree.SubElement(control, "dtdversion").text = "3.0"
    etree.SubElement(control, "includewhitespace").text = "false"

    operation = etree.SubElement(request, "operation", transaction="true" if transaction else "false")
    authentication = etree.SubElement(operation, "authentication")
    if isinstance(auth, LoginAuth):
        login = etree.SubElement(authentication, "login")
        etree.SubElement(login, "userid").text = credentials.user_id
        etree.SubElement(login, "companyid").text = credentials.company_id
        etree.SubElement(login, "password").text = credentials.user_password
        if credentials.entity_id:
            etree.SubElement(login, "locationid").text = credentials.entity_id
    else:
        etree.SubElement(authentication, "sessionid").text = auth.session_id

    content = etree.SubElement(operation, "content")
    seen: set[str] = set()
    for func in functions:
        if func.controlid in seen:
            raise ValueError(f"duplicate function controlid in one request: {func.controlid!r}")
        seen.add(func.controlid)
        wrapper = etree.SubElement(content, "function", controlid=func.controlid)
        # Copy: appending would move the caller's element out of its Function (lxml reparents).
        wrapper.append(copy.deepcopy(func.element))
    return etree.tostring(request, xml_declaration=True, encoding="UTF-8")
