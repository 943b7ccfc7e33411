"""Hardened, streaming parsing of gateway responses into a small model of the three status levels (section 3).

The parser never expands entities, loads DTDs or touches the network; any DOCTYPE is refused outright.
It is fed the body in chunks as it arrives (``ResponseParser.feed``) and turns each record of a result's
``<data>`` into a dict the moment its end tag is read, dropping the element, so a large page never exists
as bytes and tree at once. Every dimension is bounded (:class:`Limits`): elements, depth, attributes per
element, text size, records and errors. Problems are reported as :class:`MalformedResponse` (a plain reason
string) so that ``errors.classify`` alone decides whether that is a format error or an ambiguous write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from lxml import etree

from .errors import ErrorDetail
from .records import FlatRecord, Nested, nested_record
from .values import parse_timestamp


class MalformedResponse(Exception):
    """The body is not a usable Intacct response; ``str()`` is the reason."""


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what one response may contain (each far above what the gateway sends)."""

    max_elements: int = 3_000_000
    max_depth: int = 40
    max_attributes: int = 64
    max_text: int = 1_000_000
    max_records: int = 250_000
    max_record_elements: int = 10_000
    max_results: int = 1_000
    max_errors: int = 200


DEFAULT_LIMITS = Limits()
_SNIFF = 1024
# Elements kept in the tree by where they are (path below the root); anything else is dropped at its end tag
# so that unknown or repeated blocks cannot pile up in memory.
_KEPT = {
    ("control",), ("errormessage",), ("operation",),
    ("control", "*"), ("errormessage", "error"), ("errormessage", "error", "*"),
    ("operation", "authentication"), ("operation", "authentication", "*"),
    ("operation", "errormessage"), ("operation", "errormessage", "error"),
    ("operation", "errormessage", "error", "*"),
}
_RESULT_CHILDREN = {"status", "function", "controlid", "key", "listtype", "data", "errormessage"}
_FORBIDDEN = (b"<!doctype", b"<!entity")


def _parser_options() -> dict:
    return dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
                remove_comments=True, remove_pis=True, collect_ids=False)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(**_parser_options())


def _looks_like_html(head: bytes) -> bool:
    sniff = head.lstrip()[:512].lower()
    return sniff.startswith(b"<!doctype html") or sniff.startswith(b"<html") or b"<html" in sniff[:256]


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
    if target is None or not isinstance(target.text, str):
        return ""
    return target.text.strip()


def error_details(parent: etree._Element | None, limit: int = DEFAULT_LIMITS.max_errors) -> list[ErrorDetail]:
    """The ``<error>`` entries of ``parent``'s ``<errormessage>`` block."""
    block = child(parent, "errormessage")
    return [
        ErrorDetail(
            errorno=text(e, "errorno"),
            description=text(e, "description"),
            description2=text(e, "description2"),
            correction=text(e, "correction"),
        )
        for e in children(block, "error")[:limit]
    ]


@dataclass
class Authentication:
    """The ``operation/authentication`` block; ``utc_offset`` is the company's offset seen on its timestamps."""

    status: str
    user_id: str
    company_id: str
    location_id: str | None
    session_timeout: datetime | None
    errors: list[ErrorDetail] = field(default_factory=list)
    utc_offset: timedelta | None = None
    session_timestamp: datetime | None = None


@dataclass
class Result:
    """One ``<result>``: the outcome of one function; its records were turned into dicts while parsing."""

    status: str
    function: str
    controlid: str
    key: str | None
    records: list[Nested]
    errors: list[ErrorDetail]
    attributes: dict[str, str] = field(default_factory=dict)
    has_data: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def data_attrs(self) -> dict[str, str]:
        """The ``<data>`` element's attributes (read once while parsing; a plain dict lookup after)."""
        return self.attributes


@dataclass
class Response:
    """A parsed gateway response."""

    control_status: str
    control_errors: list[ErrorDetail]
    authentication: Authentication | None
    operation_errors: list[ErrorDetail]
    results: list[Result]
    has_operation: bool = True


def session_time(raw: str) -> tuple[datetime | None, timedelta | None]:
    """A session timestamp as an aware UTC datetime plus the offset it was written with; (None, None) if unusable.

    Years far from now (e.g. year 1) would overflow date arithmetic later; they count as unusable.
    """
    if not raw:
        return None, None
    try:
        parsed = parse_timestamp(raw)
        if parsed is None or not 1971 <= parsed.year <= 9000:
            return None, None
        return parsed.astimezone(UTC), parsed.utcoffset()
    except (ValueError, OverflowError, TypeError):
        return None, None


class ResponseParser:
    """Incremental parser: ``feed`` chunks as they arrive, then ``close`` for the :class:`Response`."""

    # Depths (root = 1) of the elements with a role in the response.
    _RECORD_DEPTH = 5

    def __init__(self, content_type: str | None = None, limits: Limits = DEFAULT_LIMITS) -> None:
        if content_type and "html" in content_type.lower():
            raise MalformedResponse("an HTML page was returned instead of XML (a gateway or CDN error page)")
        self._limits = limits
        self._pull = etree.XMLPullParser(events=("end",), **_parser_options())
        self._head = b""
        self._tail = b""
        self._size = 0
        self._elements = 0
        self._root: etree._Element | None = None
        self._record_parent: etree._Element | None = None
        self._results: list[Result] = []
        self._records: list[Nested] = []
        self._names: dict[str, str] = {}
        self._errors_seen: dict[int, int] = {}

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._size += len(chunk)
        if len(self._head) < _SNIFF:
            self._head += chunk[:_SNIFF - len(self._head)]
            if len(self._head) >= min(_SNIFF, self._size) and _looks_like_html(self._head):
                raise MalformedResponse("an HTML page was returned instead of XML (a gateway or CDN error page)")
        window = (self._tail + chunk[:16]).lower()
        lowered = chunk.lower()
        if any(f in lowered or f in window for f in _FORBIDDEN):
            raise MalformedResponse("the response declares a DOCTYPE/entities, which is refused")
        self._tail = chunk[-16:]
        try:
            self._pull.feed(chunk)
            self._drain()
        except etree.XMLSyntaxError as exc:
            raise MalformedResponse(f"not well-formed XML ({exc.msg})") from None
        except (ValueError, TypeError) as exc:
            raise MalformedResponse(f"not parseable XML ({exc})") from None

    def close(self) -> Response:
        if self._size == 0 or not self._head.strip():
            raise MalformedResponse("empty response body")
        if _looks_like_html(self._head):
            raise MalformedResponse("an HTML page was returned instead of XML (a gateway or CDN error page)")
        try:
            self._pull.close()
            self._drain()
        except etree.XMLSyntaxError as exc:
            raise MalformedResponse(f"not well-formed XML ({exc.msg})") from None
        except (ValueError, TypeError) as exc:
            raise MalformedResponse(f"not parseable XML ({exc})") from None
        if self._root is None:
            raise MalformedResponse("empty response body")
        return self._build(self._root)

    # -- events --
    #
    # Only end events are asked for, and a leaf (an element without children: every field of a record) costs
    # one length check here. It is checked by its parent instead: fields in `_record`, which walks each record
    # once to turn it into a dict, and everything else in `_structure`, which runs for the few elements outside
    # records. A record is dropped from the tree as soon as it is a dict; so are unknown blocks.

    def _drain(self) -> None:
        limits = self._limits
        for _event, el in self._pull.read_events():
            self._elements += 1
            if self._elements > limits.max_elements:
                raise MalformedResponse(f"more than {limits.max_elements} elements")
            if self._root is None:
                self._root = el.getroottree().getroot()
                self._check_root(self._root)
            if not len(el):
                continue
            parent = el.getparent()
            if parent is not None and (parent is self._record_parent or self._holds_records(parent)):
                self._take_records_before(el)
                self._take_record(el)
                parent.remove(el)
            else:
                self._structure(el)

    def _holds_records(self, el: etree._Element) -> bool:
        """`el` is a result's ``<data>`` (response/operation/result/data): its children are records."""
        names: list[str] = []
        node: etree._Element | None = el
        while node is not None and len(names) < 5:
            names.append(_local(node.tag))
            node = node.getparent()
        if names == ["data", "result", "operation", "response"] and node is None:
            self._record_parent = el
            return True
        return False

    def _take_records_before(self, el: etree._Element) -> None:
        """Records without fields (leaves) before `el`, which no end event of their own brought here."""
        earlier = []
        previous = el.getprevious()
        while previous is not None:
            earlier.append(previous)
            previous = previous.getprevious()
        for record in reversed(earlier):
            self._take_record(record)
            record.getparent().remove(record)

    def _take_record(self, el: etree._Element) -> None:
        if len(self._records) >= self._limits.max_records:
            raise MalformedResponse(f"more than {self._limits.max_records} records in one result")
        self._records.append(self._record(el))

    def _path(self, el: etree._Element) -> list[str]:
        names = []
        node: etree._Element | None = el
        while node is not None:
            names.append(_local(node.tag))
            node = node.getparent()
            if len(names) > self._limits.max_depth:
                raise MalformedResponse(f"elements nested deeper than {self._limits.max_depth}")
        names.reverse()
        return names

    def _check_element(self, el: etree._Element) -> None:
        limits = self._limits
        if len(el.attrib) > limits.max_attributes:
            raise MalformedResponse(f"an element with more than {limits.max_attributes} attributes")
        if isinstance(el.text, str) and len(el.text) > limits.max_text:
            raise MalformedResponse(f"a text value longer than {limits.max_text} characters")

    def _structure(self, el: etree._Element) -> None:
        """An element with children outside any record: its own checks and its leaves', then its role."""
        path = self._path(el)
        depth = len(path)
        in_result = depth >= 3 and path[1:3] == ["operation", "result"]
        if in_result and depth > self._RECORD_DEPTH and path[3] == "data":
            return  # a block inside a record: `_record` checks it with the record
        self._check_element(el)
        for leaf in el:
            if not len(leaf):
                self._check_element(leaf)
        if depth == 4 and in_result and path[3] == "data":
            for record in list(el):  # records without fields after the last one with fields
                self._take_record(record)
                el.remove(record)
        if depth == 3 and in_result:
            if len(self._results) >= self._limits.max_results:
                raise MalformedResponse(f"more than {self._limits.max_results} results")
            self._results.append(self._result(el))
            self._records = []
            self._drop(el)
        elif depth == 4 and in_result:
            if path[3] not in _RESULT_CHILDREN:
                self._drop(el)
        elif depth == 5 and in_result and path[3] == "errormessage":
            self._keep_or_drop(el, ("errormessage", path[4]))
        elif 2 <= depth <= 5 and not in_result:
            self._keep_or_drop(el, tuple(path[1:]))

    @staticmethod
    def _drop(el: etree._Element) -> None:
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)

    def _keep_or_drop(self, el: etree._Element, where: tuple[str, ...]) -> None:
        general = where[:-1] + ("*",)
        if where not in _KEPT and general not in _KEPT:
            self._drop(el)
            return
        if where[-1] == "error":
            parent = el.getparent()
            seen = self._errors_seen.get(id(parent), 0) + 1
            self._errors_seen[id(parent)] = seen
            if seen > self._limits.max_errors:
                self._drop(el)

    def _check_root(self, root: etree._Element) -> None:
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            raise MalformedResponse("the response declares a DOCTYPE/entities, which is refused")
        if not isinstance(root.tag, str) or _local(root.tag) != "response":
            raise MalformedResponse(f"root element is <{root.tag}>, expected <response>")

    def _record(self, el: etree._Element) -> Nested:
        """One record as a dict, checked against the limits as it is read.

        The common record is a flat list of distinct fields: read in one loop. Anything else (nested blocks,
        repeated names) is checked element by element, then converted by `nested_record`."""
        limits = self._limits
        self._check_element(el)
        if len(el) > limits.max_record_elements:
            raise MalformedResponse(f"a record with more than {limits.max_record_elements} elements")
        names = self._names
        out: Nested = FlatRecord()
        max_text, max_attributes = limits.max_text, limits.max_attributes
        for field_el in el:
            tag = field_el.tag
            key = names.get(tag)
            if key is None or len(field_el) or key in out:
                return self._nested(el)
            if len(field_el.attrib) > max_attributes:
                raise MalformedResponse(f"an element with more than {max_attributes} attributes")
            value = field_el.text
            if value is not None:
                if len(value) > max_text:
                    raise MalformedResponse(f"a text value longer than {max_text} characters")
                if not value or value.isspace():
                    value = None
            out[key] = value
        return out

    def _nested(self, el: etree._Element) -> Nested:
        self._check_subtree(el, self._RECORD_DEPTH, 0)
        names = self._names
        for field_el in el:
            tag = field_el.tag
            if isinstance(tag, str) and tag not in names:
                names[tag] = _local(tag).upper()
        record = nested_record(el)
        # One shared key object per field name instead of one per record: large pages repeat the same names.
        return {names.get(k, k): v for k, v in record.items()}

    def _check_subtree(self, el: etree._Element, depth: int, count: int) -> int:
        limits = self._limits
        for sub in el:
            count += 1
            if count > limits.max_record_elements:
                raise MalformedResponse(f"a record with more than {limits.max_record_elements} elements")
            if depth + 1 > limits.max_depth:
                raise MalformedResponse(f"elements nested deeper than {limits.max_depth}")
            self._check_element(sub)
            if len(sub):
                count = self._check_subtree(sub, depth + 1, count)
        return count

    def _result(self, r: etree._Element) -> Result:
        key_el = child(r, "key")
        data = child(r, "data")
        return Result(
            status=text(r, "status").lower(),
            function=text(r, "function"),
            controlid=text(r, "controlid"),
            key=(text(key_el) or None) if key_el is not None else None,
            records=self._records,
            errors=error_details(r, self._limits.max_errors),
            attributes={str(k): str(v) for k, v in data.attrib.items()} if data is not None else {},
            has_data=data is not None,
        )

    def _build(self, root: etree._Element) -> Response:
        control = child(root, "control")
        control_status = text(control, "status").lower()
        if control_status not in ("success", "failure"):
            raise MalformedResponse("missing or unknown control/status")
        operation = child(root, "operation")
        auth_el = child(operation, "authentication")
        auth = None
        if auth_el is not None:
            timeout, offset = session_time(text(auth_el, "sessiontimeout"))
            stamp, stamp_offset = session_time(text(auth_el, "sessiontimestamp"))
            loc = child(auth_el, "locationid")
            auth = Authentication(
                status=text(auth_el, "status").lower(),
                user_id=text(auth_el, "userid"),
                company_id=text(auth_el, "companyid"),
                location_id=(text(loc) or None) if loc is not None else None,
                session_timeout=timeout,
                utc_offset=stamp_offset if stamp_offset is not None else offset,
                session_timestamp=stamp,
            )
        if control_status == "success" and operation is None:
            raise MalformedResponse("control succeeded but the response has no <operation>")
        return Response(
            control_status=control_status,
            control_errors=error_details(root, self._limits.max_errors),
            authentication=auth,
            operation_errors=error_details(operation, self._limits.max_errors),
            results=self._results,
            has_operation=operation is not None,
        )


def parse_chunks(chunks: Iterable[bytes], content_type: str | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> Response:
    """Parse a response arriving in chunks; raise :class:`MalformedResponse` if its structure is unusable."""
    parser = ResponseParser(content_type, limits)
    for chunk in chunks:
        parser.feed(chunk)
    return parser.close()


def parse_response(body: bytes, content_type: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Response:
    """Parse a full gateway response; raise :class:`MalformedResponse` if its structure is unusable."""
    step = 1 << 20
    return parse_chunks((body[i:i + step] for i in range(0, len(body), step)), content_type, limits)


def parse_xml(body: bytes, content_type: str | None = None) -> etree._Element:
    """Parse a small ``body`` (a gateway error page) safely and return its root, or raise :class:`MalformedResponse`."""
    if not body or not body.strip():
        raise MalformedResponse("empty response body")
    if (content_type and "html" in content_type.lower()) or _looks_like_html(body[:_SNIFF]):
        raise MalformedResponse("an HTML page was returned instead of XML (a gateway or CDN error page)")
    lowered = body.lower()
    if any(f in lowered for f in _FORBIDDEN):
        raise MalformedResponse("the response declares a DOCTYPE/entities, which is refused")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedResponse(f"not well-formed XML ({exc.msg})") from None
    except (ValueError, TypeError) as exc:
        raise MalformedResponse(f"not parseable XML ({exc})") from None
    if not isinstance(root.tag, str) or _local(root.tag) != "response":
        raise MalformedResponse(f"root element is <{root.tag}>, expected <response>")
    return root


def gateway_error_details(body: bytes, content_type: str | None = None) -> list[ErrorDetail]:
    """Best-effort error details from a 4xx/5xx body; empty when it is not Intacct XML."""
    try:
        root = parse_xml(body[:1 << 20], content_type)
    except MalformedResponse:
        return []
    return error_details(root) or error_details(child(root, "operation"))
