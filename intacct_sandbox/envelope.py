"""Request envelope parsing (with schema-level checks) and response envelope building."""

from __future__ import annotations

import secrets
import urllib.parse
from dataclasses import dataclass, field

from lxml import etree

from .errors import ControlError, ErrorEntry
from .xmlio import Node, children, child_text, leaf

CONTROL_ORDER = ["appid", "senderid", "password", "controlid", "uniqueid", "dtdversion", "policyid", "debug",
                 "includewhitespace", "showadditionalerrorinfo", "validate"]


def support_id() -> str:
    return urllib.parse.quote(secrets.token_urlsafe(9).replace("-", "~"))


def schema_error(message: str, line: int | None = None, column: int = 0) -> ControlError:
    where = f" Line: {line}, column: {column}." if line else ""
    return ControlError(ErrorEntry(
        "XL03000003", f"XML Parse schema error: {message}.{where} [Support ID: {support_id()}]"
    ))


@dataclass
class Control:
    senderid: str = ""
    password: str = ""
    controlid: str = ""
    uniqueid: str | None = None
    dtdversion: str = ""
    includewhitespace: bool = True
    policyid: str = ""


@dataclass
class Login:
    userid: str = ""
    companyid: str = ""
    password: str = ""
    locationid: str = ""
    clientid: str = ""


@dataclass
class FunctionCall:
    controlid: str
    name: str
    element: etree._Element


@dataclass
class Request:
    control: Control
    transaction: bool = False
    login: Login | None = None
    sessionid: str | None = None
    functions: list[FunctionCall] = field(default_factory=list)


def _bool(text: str | None, default: bool) -> bool:
    if text is None or text == "":
        return default
    return text.strip().lower() == "true"


def read_control(root: etree._Element | None) -> Control:
    """Control values (best effort): used for echoing even when the request is invalid."""
    control = Control()
    node = root.find("control") if root is not None else None
    if node is None:
        return control
    control.senderid = child_text(node, "senderid", "") or ""
    control.password = child_text(node, "password", "") or ""
    control.controlid = child_text(node, "controlid", "") or ""
    control.uniqueid = child_text(node, "uniqueid")
    control.dtdversion = child_text(node, "dtdversion", "") or ""
    control.includewhitespace = _bool(child_text(node, "includewhitespace"), True)
    control.policyid = child_text(node, "policyid", "") or ""
    return control


def parse_request(root: etree._Element) -> Request:
    """Validate the envelope structure (schema errors are control failures: nothing runs)."""
    if root.tag != "request":
        raise schema_error(f"Element '{root.tag}': No matching global declaration available for the validation root",
                           root.sourceline)
    control_el = root.find("control")
    if control_el is None:
        raise schema_error("Element 'request': Missing child element(s). Expected is ( control )", root.sourceline)
    for child in children(control_el):
        if child.tag not in CONTROL_ORDER:
            raise schema_error(f"Element '{child.tag}': This element is not expected", child.sourceline)
    for required in ("senderid", "controlid"):  # the schema makes password optional (then the sender check fails)
        if control_el.find(required) is None:
            raise schema_error(f"Element 'control': Missing child element(s). Expected is ( {required} )",
                               control_el.sourceline)
    request = Request(read_control(root))
    operations = root.findall("operation")
    if not operations:
        raise schema_error("Element 'request': Missing child element(s). Expected is ( operation )",
                           control_el.sourceline)
    operation = operations[0]
    request.transaction = (operation.get("transaction") or "false").strip().lower() == "true"
    auth = operation.find("authentication")
    if auth is None:
        raise schema_error("Element 'operation': Missing child element(s). Expected is ( authentication )",
                           operation.sourceline)
    login = auth.find("login")
    session = auth.find("sessionid")
    if login is not None:
        request.login = Login(
            userid=child_text(login, "userid", "") or "",
            companyid=child_text(login, "companyid", "") or "",
            password=child_text(login, "password", "") or "",
            locationid=child_text(login, "locationid", "") or "",
            clientid=child_text(login, "clientid", "") or "",
        )
    elif session is not None:
        request.sessionid = (session.text or "").strip()
    else:
        raise schema_error("Element 'authentication': Missing child element(s). Expected is one of ( login, sessionid )",
                           auth.sourceline)
    for op in operations:
        for content in op.findall("content"):
            for function in children(content):
                if function.tag != "function":
                    raise schema_error(f"Element '{function.tag}': This element is not expected. Expected is ( function )",
                                       function.sourceline)
                controlid = function.get("controlid")
                if controlid is None:
                    raise schema_error("Element 'function': The attribute 'controlid' is required but missing",
                                       function.sourceline)
                body = children(function)
                if len(body) != 1:
                    raise schema_error("Element 'function': exactly one function element is expected",
                                       function.sourceline)
                request.functions.append(FunctionCall(controlid, body[0].tag, body[0]))
    return request


# --- response side ---

def error_block(errors: list[ErrorEntry]) -> Node:
    block = Node("errormessage")
    for err in errors:
        block.add(Node("error").add(
            leaf("errorno", err.errorno), leaf("description", err.description),
            leaf("description2", err.description2), leaf("correction", err.correction),
        ))
    return block


def control_block(control: Control, status: str, uniqueid_echo: str) -> Node:
    return Node("control").add(
        leaf("status", status), leaf("senderid", control.senderid), leaf("controlid", control.controlid),
        leaf("uniqueid", uniqueid_echo), leaf("dtdversion", control.dtdversion),
    )


@dataclass
class FunctionResult:
    """One ``<result>``; ``data`` is the complete ``<data>`` node when there is one."""

    function: str
    controlid: str
    status: str = "success"
    data: Node | None = None
    key: str | None = None
    listtype: str | None = None
    errors: list[ErrorEntry] = field(default_factory=list)

    def node(self) -> Node:
        result = Node("result").add(leaf("status", self.status), leaf("function", self.function),
                                    leaf("controlid", self.controlid))
        if self.listtype is not None:
            result.add(leaf("listtype", self.listtype))
        elif self.key is not None:
            result.add(leaf("key", self.key))
        if self.data is not None:
            result.add(self.data)
        if self.errors:
            result.add(error_block(self.errors))
        return result


def gateway_error_body(errorno: str, description: str) -> bytes:
    """The small body of gateway-level 4xx rejections: control status plus errorno/description only."""
    from .xmlio import render

    root = Node("response").add(
        Node("control").add(leaf("status", "failure")),
        Node("errormessage").add(Node("error").add(leaf("errorno", errorno), leaf("description", description))),
    )
    return render(root, True)
