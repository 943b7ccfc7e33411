"""Classification of every error shape in the reference into the client's error types."""

import pytest
import requests
import urllib3

from sync_engine.intacct import errors as e
from sync_engine.intacct.response import MalformedResponse, gateway_error_details, parse_response

from . import samples as s


def classify_body(body: bytes, **kw) -> e.IntacctError:
    resp = parse_response(body)
    if resp.control_status == "failure":
        return e.classify(level="control", details=resp.control_errors, **kw)
    if resp.authentication and resp.authentication.status != "success":
        return e.classify(level="authentication", details=resp.operation_errors, **kw)
    r = resp.results[0]
    return e.classify(level="result", details=r.errors, function=r.function, controlid=r.controlid, **kw)


def test_control_failure_is_authentication():
    err = classify_body(s.CONTROL_FAILURE)
    assert type(err) is e.AuthenticationError and err.category == "authentication"
    assert err.errorno == "XL03000006"
    assert "sender" in err.user_message.lower()


def test_signin_failure_is_authentication():
    err = classify_body(s.auth_failure())
    assert type(err) is e.AuthenticationError
    assert "sign-in" in err.user_message.lower() and "company ID" in err.user_message


def test_sender_not_authorised():
    body = s.auth_failure(
        description="Invalid Web Services Authorization",
        description2="The sender ID 'S' is not authorized to make Web Services requests to company ID 'C'.",
        correction="Contact the company administrator to grant Web Services authorization to this sender ID.",
    )
    err = classify_body(body)
    assert isinstance(err, e.AuthenticationError)
    assert "not authorised" in err.user_message and "Contact the company administrator" in err.user_message


def test_session_invalid_via_session_is_session_expired():
    err = classify_body(s.SESSION_INVALID, via_session=True)
    assert isinstance(err, e.SessionExpiredError) and isinstance(err, e.AuthenticationError)
    assert type(classify_body(s.SESSION_INVALID)) is e.AuthenticationError


def test_schema_error_is_request_error():
    err = classify_body(s.SCHEMA_FAILURE)
    assert type(err) is e.RequestError and err.errorno == "XL03000003"
    assert "Support ID" not in err.user_message


def test_company_expired_stops_run():
    err = classify_body(s.COMPANY_EXPIRED)
    assert isinstance(err, e.AuthenticationError) and "expired" in err.user_message


def test_result_failure_is_record_error_with_details():
    body = s.response(s.result("create", "fn-1", '<data listtype="objects" count="0"/>' + s.DUPLICATE_CUSTOMER,
                               status="failure"))
    err = classify_body(body)
    assert type(err) is e.RecordError and err.category == "record"
    assert err.controlid == "fn-1" and err.function == "create"
    assert [d.errorno for d in err.details] == ["BL34000061", "BL01001973"]
    assert err.details[0].correction == "Use a unique value instead."
    assert err.user_message == (
        "Intacct rejected this record: Another Customer with the given value(s) C100  already exists "
        "Use a unique value instead."
    )


@pytest.mark.parametrize("errorno", ["BL01001973", "SANDBOX-DUPLICATE-CONTROLID", "XL03000009", ""])
def test_any_refusal_of_a_repeated_write_means_look_it_up(errorno):
    body = s.response(s.result("create_invoice", "inv-1", s.error_block(
        (errorno, "", "whatever the gateway says about inv-1", "")), "failure"))
    err = classify_body(body, repeated=True)
    assert isinstance(err, e.DuplicateControlIdError) and isinstance(err, e.RecordError)
    assert "looked up" in err.user_message
    first_time = classify_body(body)
    assert type(first_time) is e.RecordError  # no error number is recognised as "duplicate" on its own


@pytest.mark.parametrize("d2, correction", [
    ("The Service is Temporarily Off-line", ""),
    ("Something odd", "Please Try Again Later"),
    ("API rate limit exceeded", ""),
])
def test_transient_result_texts(d2, correction):
    body = s.response(s.result("query", "q", s.error_block(("DL02000001", "", d2, correction)), "failure"))
    err = classify_body(body)
    assert isinstance(err, e.TransientError) and isinstance(err, e.RecordError)
    assert err.category == "transient"


def test_transient_control_text():
    body = (s.XML_DECL + "<response><control><status>failure</status></control>"
            + s.error_block(("XYZ", "", "The Service is Temporarily Off-line", "")) + "</response>").encode()
    assert type(classify_body(body)) is e.TransientError


def test_rollback_aborted_is_record_error():
    body = s.response(s.result("create", "fn-1", s.error_block(
        ("XL03000009", "", "The entire transaction in this operation has been rolled back due to an error.", "")),
        status="aborted"))
    assert type(classify_body(body)) is e.RecordError


@pytest.mark.parametrize("status, body, write, expected", [
    (429, s.RATE_LIMITED, False, e.TransientError),
    (429, s.RATE_LIMITED, True, e.TransientError),  # refused before processing: safe to resend
    (400, s.INVALID_REQUEST, False, e.RequestError),
    (401, s.GW_401, False, e.AuthenticationError),
    (401, s.GW_401, True, e.AuthenticationError),
    (503, s.HTML_503, False, e.TransientError),
    (503, s.HTML_503, True, e.AmbiguousWriteError),
    (502, b"", True, e.AmbiguousWriteError),
    (524, b"", False, e.TransientError),
    (524, b"", True, e.AmbiguousWriteError),
    (500, b"", True, e.AmbiguousWriteError),
    (501, b"", False, e.RequestError),
    (501, b"", True, e.AmbiguousWriteError),
    (404, b"", False, e.RequestError),
])
def test_http_statuses(status, body, write, expected):
    details = gateway_error_details(body)
    err = e.classify(level="http", http_status=status, details=details, is_write=write, retry_after=3.0)
    assert type(err) is expected
    assert err.http_status == status


def test_gateway_details_and_retry_after():
    details = gateway_error_details(s.RATE_LIMITED)
    assert details == [e.ErrorDetail("GW-0010", "API rate limit exceeded", "", "")]
    err = e.classify(level="http", http_status=429, details=details, retry_after=7)
    assert err.retry_after == 7 and "GW-0010" in str(err)
    assert gateway_error_details(s.HTML_503) == []


def test_transport_classification():
    refused = requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, "/", urllib3.exceptions.NewConnectionError(None, "refused")))
    for write in (False, True):
        err = e.classify(level="transport", exception=refused, is_write=write, host="gw.test")
        assert type(err) is e.TransientError and "could not reach" in err.user_message.lower()
    connect_timeout = requests.exceptions.ConnectTimeout("slow")
    assert type(e.classify(level="transport", exception=connect_timeout, is_write=True)) is e.TransientError
    read_timeout = requests.exceptions.ReadTimeout("slow")
    assert type(e.classify(level="transport", exception=read_timeout)) is e.TransientError
    assert type(e.classify(level="transport", exception=read_timeout, is_write=True)) is e.AmbiguousWriteError
    dropped = requests.exceptions.ChunkedEncodingError("dropped")
    assert type(e.classify(level="transport", exception=dropped, is_write=True)) is e.AmbiguousWriteError
    assert type(e.classify(level="transport", exception=dropped)) is e.TransientError
    bad_url = requests.exceptions.MissingSchema("no scheme")
    assert type(e.classify(level="transport", exception=bad_url)) is e.RequestError


def test_format_classification():
    assert type(e.classify(level="format", message="truncated")) is e.ResponseFormatError
    err = e.classify(level="format", message="truncated", is_write=True)
    assert type(err) is e.AmbiguousWriteError and "truncated" in str(err)


@pytest.mark.parametrize("body, reason", [
    (s.HTML_503, "HTML"),
    (b"<response><control><status>success</status>", "well-formed"),
    (s.BILLION_LAUGHS, "DOCTYPE"),
    (s.external_entity("/etc/passwd"), "DOCTYPE"),
    (b"", "empty"),
    (b"<other/>", "expected <response>"),
    (b"just text", "well-formed"),
])
def test_malformed_bodies(body, reason):
    with pytest.raises(MalformedResponse, match=reason):
        parse_response(body)


def test_error_detail_text_strips_support_id():
    d = e.ErrorDetail("X", "", "Bad thing happened [Support ID: abc%7Edef]", "")
    assert d.text == "Bad thing happened"


def test_http_401_on_a_session_request_allows_one_re_sign_in():
    err = e.classify(level="http", http_status=401, via_session=True)
    assert isinstance(err, e.SessionExpiredError)
