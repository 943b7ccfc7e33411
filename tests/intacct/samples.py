"""Canned gateway bodies shaped like the reference's examples (shared by unit and HTTP tests)."""

from __future__ import annotations

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


def error_block(*errors: tuple[str, str, str, str]) -> str:
    items = "".join(
        f"<error><errorno>{no}</errorno><description>{d}</description>"
        f"<description2>{d2}</description2><correction>{c}</correction></error>"
        for no, d, d2, c in errors
    )
    return f"<errormessage>{items}</errormessage>"


CONTROL_OK = (
    "<control><status>success</status><senderid>S</senderid><controlid>req</controlid>"
    "<uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>"
)


def auth_ok(timeout: str = "2099-05-01T22:00:01+00:00", location: str = "") -> str:
    return (
        "<authentication><status>success</status><userid>U</userid><companyid>C</companyid>"
        f"<locationid>{location}</locationid><sessiontimestamp>2024-05-01T10:00:01+00:00</sessiontimestamp>"
        f"<sessiontimeout>{timeout}</sessiontimeout></authentication>"
    )


def response(*results: str, auth: str | None = None) -> bytes:
    operation = f"<operation>{auth or auth_ok()}{''.join(results)}</operation>"
    return (XML_DECL + f"<response>{CONTROL_OK}{operation}</response>").encode()


def result(function: str, controlid: str, inner: str = "", status: str = "success") -> str:
    return (
        f"<result><status>{status}</status><function>{function}</function>"
        f"<controlid>{controlid}</controlid>{inner}</result>"
    )


def session_response(endpoint: str, session_id: str = "SESSION-SECRET-123..",
                     timeout: str = "2099-05-01T22:00:01+00:00",
                     location: str = "", controlid: str = "sess") -> bytes:
    data = (
        f"<data><api><sessionid>{session_id}</sessionid><endpoint>{endpoint}</endpoint>"
        f"<locationid>{location}</locationid></api></data>"
    )
    return response(result("getAPISession", controlid, data), auth=auth_ok(timeout, location))


CONTROL_FAILURE = (
    XML_DECL + "<response><control><status>failure</status><senderid>S</senderid><controlid>req-17</controlid>"
    "<uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>"
    + error_block(("XL03000006", "", "Incorrect Intacct XML Partner ID or password.", ""))
    + "</response>"
).encode()

SCHEMA_FAILURE = (
    XML_DECL + "<response><control><status>failure</status></control>"
    + error_block(("XL03000003", "", "XML Parse schema error: Fatal Error 76: Opening and ending tag mismatch: "
                   "NAME line 9 and CUSTOMER. Line: 12, column: 18. [Support ID: abc%7Edef]", ""))
    + "</response>"
).encode()

COMPANY_EXPIRED = (
    XML_DECL + "<response><control><status>failure</status></control>"
    + error_block(("PL04000055", "", "This company is a demo company and has expired.", ""))
    + "</response>"
).encode()


def auth_failure(description: str = "", description2: str = "Sign-in information is incorrect",
                 correction: str = "", userid: str = "U", companyid: str = "C") -> bytes:
    return (
        XML_DECL + f"<response>{CONTROL_OK}<operation><authentication><status>failure</status>"
        f"<userid>{userid}</userid><companyid>{companyid}</companyid></authentication>"
        + error_block(("XL03000006", description, description2, correction))
        + "</operation></response>"
    ).encode()


SESSION_INVALID = auth_failure(description2="Invalid session", userid="", companyid="")


def gateway_error(errorno: str, description: str) -> bytes:
    return (
        XML_DECL + "<response><control><status>failure</status></control><errormessage><error>"
        f"<errorno>{errorno}</errorno><description>{description}</description></error></errormessage></response>"
    ).encode()


RATE_LIMITED = gateway_error("GW-0010", "API rate limit exceeded")
INVALID_REQUEST = gateway_error("GW-0011", "Invalid Request [Request ID: 42]")
GW_401 = gateway_error("XMLGW_JPP0002", "Sign-in information is incorrect. Please check your request.")

HTML_503 = (
    b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>"
    b"<body><h1>Service Unavailable</h1></body></html>"
)

DUPLICATE_CUSTOMER = error_block(
    ("BL34000061", "", "Another Customer with the given value(s) C100  already exists [Support ID: x%7Ey]",
     "Use a unique value instead."),
    ("BL01001973", "", "Could not create Customer record!", ""),
)

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode() for i in range(1, 10)
    )
    + b"]>\n<response><control><status>success</status></control><operation>&lol9;</operation></response>"
)


def external_entity(path: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE response [<!ENTITY xxe SYSTEM "file://{path}">]>\n'
        "<response><control><status>success</status></control><operation><result><status>success</status>"
        "<function>query</function><controlid>x</controlid><data>&xxe;</data></result></operation></response>"
    ).encode()
