"""Hardened parsing of gateway responses into a small model of the three status levels (section 3).

The parser never expands entities, loads DTDs or touches the network; any DOCTYPE is refused
outright. Problems are reported as :class:`MalformedResponse` (a plain reason string) so that
``errors.classify`` alone decides whether that is a format error or an ambiguous write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from .errors import ErrorDetail
from .values import parse_timestamp


class MalformedResponse(Exception):
    """The body is not a usable Intacct response; ``str()`` is the reason."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def _looks_like_html(head: bytes) -> bool:
    sniff = head.lstrip()[:512].lower()
    return sniff.startswith(b"<!doctype html") or sniff.startswith(b"<html") or b"<html" in sniff[:256]


def parse_xml(body: bytes, content_type: str | None = None) -> etree._Element:
    """Parse ``body`` safely and return its root element, or raise :class:`MalformedResponse`."""
    if not body or not body.strip():
        raise MalformedResponse("empty response body")
    if (content_type and "html" in content_type.lower()) or _looks_like_html(body[:1024]):
        raise MalformedResponse("an HTML page was returned instead of XML (a gateway or CDN error page)")
    lowered = body.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise MalformedResponse("the response declares a DOCTYPE/entities, which is refused")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedResponse(f"not well-formed XML ({exc.msg})") from None
    except ValueError as exc:
        raise MalformedResponse(f"not parseable XML ({exc})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise MalformedResponse("the response declares a DOCTYPE/entities, which is refused")
    if not isinstance(root.tag, str) or _local(root.tag) != "response":
        raise MalformedResponse(f"root element is <{root.tag}>, expected <response>")
    return root


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def child(el: etree._Element | None, name: str) -> etree._Element | None:
    """First child named ``name`` (case-insensitive), or None."""
    if el is None:
        return None
    name = name.lower()
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def children(el: etree._Element | None, name: str) -> list[etree._Element]:
    """All children named ``name`` (case-insensitive)."""
    if el is None:
        return []
    name = name.lower()
    return [c for c in el if _local(c.tag) == name]


def text(el: etree._Element | None, name: str | None = None) -> str:
    """Stripped text of ``el`` (or of its child ``name``); empty string when absent."""
    target = child(el, name) if name is not None else el
    if target is None or target.text is None:
        return ""
    return target.text.strip()


def error_details(parent: etree._Element | None) -> list[ErrorDetail]:
    """The ``<error>`` entries of ``parent``'s ``<errormessage>`` block."""
    block = child(parent, "errormessage")
    return [
        ErrorDetail(
            errorno=text(e, "errorno"),
            description=text(e, "description"),
            description2=text(e, "description2"),
            correction=text(e, "correction"),
        )
        for e in children(block, "error")
    ]


@dataclass
class Authentication:
    """The ``operation/authentication`` block."""

    status: str
    user_id: str
    company_id: str
    location_id: str | None
    session_timeout: datetime | None
    errors: list[ErrorDetail] = field(default_factory=list)


@dataclass
class Result:
    """One ``<result>``: the outcome of one function."""

    status: str
    function: str
    controlid: str
    key: str | None
    data: etree._Element | None
    errors: list[ErrorDetail]

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def data_attrs(self) -> dict[str, str]:
        return dict(self.data.attrib) if self.data is not None else {}


@dataclass
class Response:
    """A parsed gateway response."""

    control_status: str
    control_errors: list[ErrorDetail]
    authentication: Authentication | None
    operation_errors: list[ErrorDetail]
    results: list[Result]


def parse_response(body: bytes, content_type: str | None = None) -> Response:
    """Parse a full gateway response; raise :class:`MalformedResponse` if its structure is unusable."""
    root = parse_xml(body, content_type)
    control = child(root, "control")
    control_status = text(control, "status").lower()
    if control_status not in ("success", "failure"):
        raise MalformedResponse("missing or unknown control/status")
    operation = child(root, "operation")
    auth_el = child(operation, "authentication")
    auth = None
    if auth_el is not None:
        timeout_text = text(auth_el, "sessiontimeout")
        try:
            timeout = parse_timestamp(timeout_text) if timeout_text else None
        except ValueError:
            timeout = None
        loc = child(auth_el, "locationid")
        auth = Authentication(
            status=text(auth_el, "status").lower(),
            user_id=text(auth_el, "userid"),
            company_id=text(auth_el, "companyid"),
            location_id=(text(loc) or None) if loc is not None else None,
            session_timeout=timeout,
        )
    results = []
    for r in children(operation, "result"):
        key_el = child(r, "key")
        results.append(
            Result(
                status=text(r, "status").lower(),
                function=text(r, "function"),
                controlid=text(r, "controlid"),
                key=text(key_el) or None if key_el is not None else None,
                data=child(r, "data"),
                errors=error_details(r),
            )
        )
    if control_status == "success" and operation is None:
        raise MalformedResponse("control succeeded but the response has no <operation>")
    return Response(
        control_status=control_status,
        control_errors=error_details(root),
        authentication=auth,
        operation_errors=error_details(operation),
        results=results,
    )


def gateway_error_details(body: bytes, content_type: str | None = None) -> list[ErrorDetail]:
    """Best-effort error details from a 4xx/5xx body; empty when it is not Intacct XML."""
    try:
        root = parse_xml(body, content_type)
    except MalformedResponse:
        return []
    return error_details(root) or error_details(child(root, "operation"))
