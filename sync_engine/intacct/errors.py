"""The Intacct client's error taxonomy and ``classify``, the one place that maps failures to it.

The categories say what the caller must do:

- ``authentication``: stop the run and mark the connection (bad sender, bad sign-in, expired session twice).
- ``transient``: nothing (harmful) happened; back off and retry.
- ``ambiguous``: a write may or may not have been applied; look the record up before trying again.
- ``format``: the gateway answered with something that is not a usable Intacct XML response.
- ``request``: the gateway refused the whole request as invalid (schema error, bad URL); nothing ran.
- ``record``: one function failed on its data; record it and carry on with the others.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import requests
import urllib3.exceptions

Level = Literal["transport", "http", "format", "control", "authentication", "operation", "result"]

DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504, 524})

AUTH_ERRNO = "XL03000006"
SCHEMA_ERRNO = "XL03000003"
RATE_LIMIT_ERRNO = "GW-0010"
COMPANY_EXPIRED_ERRNO = "PL04000055"
AUTH_GATEWAY_ERRNOS = frozenset({"XMLGW_JPP0002", "UJPP0002"})

_TRANSIENT_TEXTS = ("api rate limit exceeded", "temporarily off-line", "temporarily offline", "please try again later")
_SUPPORT_ID = re.compile(r"\s*\[Support ID:[^\]]*\]\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ErrorDetail:
    """One ``<error>`` element of an Intacct ``<errormessage>`` block."""

    errorno: str = ""
    description: str = ""
    description2: str = ""
    correction: str = ""

    @property
    def text(self) -> str:
        """The most useful human text: description2, else description, without the Support ID suffix."""
        raw = self.description2.strip() or self.description.strip()
        return _SUPPORT_ID.sub("", raw).strip()

    def __str__(self) -> str:
        parts = [p for p in (self.errorno, self.text, self.correction.strip()) if p]
        return " | ".join(parts)


class IntacctError(Exception):
    """Base of every error the client raises.

    ``str(error)`` is technical (for logs); ``user_message`` is one clear line for finance staff.
    """

    category: str = "error"

    def __init__(
        self,
        message: str,
        *,
        details: Sequence[ErrorDetail] = (),
        user_message: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
        function: str | None = None,
        controlid: str | None = None,
    ) -> None:
        super().__init__(message)
        self.details: list[ErrorDetail] = list(details)
        self.user_message: str = user_message or message
        self.http_status = http_status
        self.retry_after = retry_after
        self.function = function
        self.controlid = controlid
        # Set by IntacctClient.execute when a multi-request batch stops part-way.
        self.partial_results: list = []
        self.unsettled_controlids: list[str] = []

    @property
    def errorno(self) -> str | None:
        """The first error number, if Intacct sent one."""
        return self.details[0].errorno if self.details else None


class AuthenticationError(IntacctError):
    """Sender or user sign-in rejected, or the session could not be renewed: stop the run."""

    category = "authentication"


class SessionExpiredError(AuthenticationError):
    """A request made with a session id was refused at the authentication level (the client re-signs in once)."""


class TransientError(IntacctError):
    """Rate limit, gateway outage, timeout or maintenance: nothing harmful happened, retry later."""

    category = "transient"


class AmbiguousWriteError(IntacctError):
    """A write reached (or may have reached) the gateway without a usable answer: look the record up first."""

    category = "ambiguous"


class ResponseFormatError(IntacctError):
    """The response was not a usable Intacct XML document (HTML, truncated, oversized, DTD/entities...)."""

    category = "format"


class RequestError(IntacctError):
    """The gateway refused the request as a whole (schema error, invalid request, bad URL); nothing ran."""

    category = "request"


class RecordError(IntacctError):
    """A single function failed on its data (result level); the other functions are unaffected."""

    category = "record"


class DuplicateControlIdError(RecordError):
    """A repeated write (one sent again under the controlid of an earlier attempt) was refused.

    Whatever Intacct's reason (its duplicate guard with uniqueid=true answers in no documented shape), the
    earlier attempt may have been applied: the caller must look the record up, never treat this as a new error.
    Raised only for the controlids a caller marks as repeats (``IntacctClient.execute(..., repeats=...)``).
    """


class TransientRecordError(RecordError, TransientError):
    """A function failed with a retry-later message (maintenance, rate limit) and ran out of retries."""

    category = "transient"


def _summary(details: Sequence[ErrorDetail]) -> str:
    return "; ".join(str(d) for d in details) or "no error details"


def _first_text(details: Sequence[ErrorDetail]) -> str:
    for d in details:
        if d.text:
            return d.text
    return ""


def _first_correction(details: Sequence[ErrorDetail]) -> str:
    for d in details:
        if d.correction.strip():
            return d.correction.strip()
    return ""


def _is_transient_text(details: Sequence[ErrorDetail]) -> bool:
    for d in details:
        if d.errorno.strip().upper() == RATE_LIMIT_ERRNO:
            return True
        blob = " ".join((d.description, d.description2, d.correction)).lower()
        if any(t in blob for t in _TRANSIENT_TEXTS):
            return True
    return False


def _nothing_sent(exc: BaseException) -> bool:
    """True when the failure happened before any byte of the request could reach the server."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        cur = stack.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(
            cur,
            (
                requests.exceptions.ConnectTimeout,
                urllib3.exceptions.NewConnectionError,  # refused, unreachable, DNS failure
                urllib3.exceptions.ConnectTimeoutError,
                urllib3.exceptions.SSLError,  # handshake precedes the request
                requests.exceptions.SSLError,
            ),
        ):
            return True
        stack.append(cur.__cause__)
        stack.append(cur.__context__)
        stack.append(getattr(cur, "reason", None))
        stack.extend(a for a in getattr(cur, "args", ()) if isinstance(a, BaseException))
    return False


def _ambiguous(message: str, *, details: Sequence[ErrorDetail] = (), http_status: int | None = None) -> AmbiguousWriteError:
    return AmbiguousWriteError(
        f"write outcome unknown: {message}",
        details=details,
        http_status=http_status,
        user_message=(
            "Intacct may or may not have saved this change (" + message + "). "
            "It will be looked up in Intacct before any new attempt."
        ),
    )


def classify(
    *,
    level: Level,
    details: Sequence[ErrorDetail] = (),
    http_status: int | None = None,
    exception: BaseException | None = None,
    message: str = "",
    is_write: bool = False,
    retry_after: float | None = None,
    retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES,
    function: str | None = None,
    controlid: str | None = None,
    via_session: bool = False,
    host: str = "the Intacct gateway",
    repeated: bool = False,
) -> IntacctError:
    """Map one failure to the error type the caller must act on. The only place with this knowledge.

    ``level`` says where the failure was seen:

    - ``transport``: ``exception`` from requests/urllib3 (connect/read failures, timeouts).
    - ``http``: a non-200 ``http_status`` (``details`` from the gateway's XML body when it had one).
    - ``format``: the body was unusable; ``message`` says why.
    - ``control`` / ``authentication`` / ``result``: an Intacct ``<errormessage>`` at that level.

    ``is_write`` turns every outcome after which the request may have been processed into
    :class:`AmbiguousWriteError`; only failures where nothing was processed stay retryable.
    ``via_session`` marks authentication failures of session-based requests (a re-sign-in may help).
    """
    summary = _summary(details)
    if level == "transport":
        assert exception is not None
        reason = f"{type(exception).__name__}: {exception}"
        if isinstance(exception, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                                  requests.exceptions.InvalidSchema, requests.exceptions.URLRequired)):
            return RequestError(
                f"invalid gateway URL: {reason}",
                user_message="The Intacct gateway URL is not valid. Check the connection settings.",
            )
        if _nothing_sent(exception):
            return TransientError(
                f"could not connect to {host}: {reason}",
                user_message=(
                    f"Could not reach the Intacct gateway ({host}). "
                    "Check the gateway URL and the network connection, then try again."
                ),
            )
        if is_write:
            kind = "timed out" if isinstance(exception, requests.exceptions.Timeout) else "connection lost"
            return _ambiguous(f"{kind} after the request was sent ({reason})")
        if isinstance(exception, requests.exceptions.Timeout):
            return TransientError(
                f"timed out waiting for {host}: {reason}",
                user_message="The Intacct gateway did not answer in time. The sync will retry later.",
            )
        return TransientError(
            f"connection to {host} failed: {reason}",
            user_message="The connection to the Intacct gateway was interrupted. The sync will retry later.",
        )

    if level == "http":
        assert http_status is not None
        text = f"HTTP {http_status} from {host}" + (f": {summary}" if details else "")
        errnos = {d.errorno.strip().upper() for d in details}
        if http_status == 401 or errnos & AUTH_GATEWAY_ERRNOS:
            return (SessionExpiredError if via_session else AuthenticationError)(
                text, details=details, http_status=http_status,
                user_message="Intacct rejected the sign-in (HTTP 401). Check the user ID, company ID and password.",
            )
        if http_status == 429 or RATE_LIMIT_ERRNO in errnos:
            # A rate-limited request was refused before processing, so even a write may be re-sent.
            return TransientError(
                text, details=details, http_status=http_status, retry_after=retry_after,
                user_message="Intacct is limiting the request rate (HTTP 429). The sync backs off and retries.",
            )
        if is_write and (http_status >= 500 or http_status in retry_statuses):
            return _ambiguous(f"HTTP {http_status} from the gateway", details=details, http_status=http_status)
        if http_status in retry_statuses:
            return TransientError(
                text, details=details, http_status=http_status, retry_after=retry_after,
                user_message=f"The Intacct gateway is temporarily unavailable (HTTP {http_status}). The sync will retry.",
            )
        return RequestError(
            text, details=details, http_status=http_status,
            user_message=f"The Intacct gateway refused the request (HTTP {http_status})"
            + (f": {_first_text(details)}" if _first_text(details) else "."),
        )

    if level == "format":
        if is_write:
            return _ambiguous(f"unusable response: {message}", http_status=http_status)
        return ResponseFormatError(
            f"unusable response from {host}: {message}", http_status=http_status,
            user_message=f"The Intacct gateway sent a response that could not be read ({message}).",
        )

    if level in ("control", "authentication"):
        errnos = {d.errorno.strip().upper() for d in details}
        if _is_transient_text(details):
            return TransientError(
                f"{level} failure: {summary}", details=details, retry_after=retry_after,
                user_message="Intacct is temporarily unavailable: " + (_first_text(details) or "please try again later."),
            )
        if level == "authentication" or errnos & ({AUTH_ERRNO, COMPANY_EXPIRED_ERRNO} | AUTH_GATEWAY_ERRNOS):
            cls = SessionExpiredError if (level == "authentication" and via_session) else AuthenticationError
            return cls(f"{level} failure: {summary}", details=details, user_message=_auth_user_message(level, details))
        return RequestError(
            f"control failure: {summary}", details=details,
            user_message="Intacct refused the request: " + (_first_text(details) or "no reason given") + ".",
        )

    if level == "operation":
        # Signed in, then the operation as a whole was refused with an error block and no results.
        if _is_transient_text(details) and not is_write:
            return TransientError(
                f"operation failure: {summary}", details=details, retry_after=retry_after,
                user_message="Intacct is temporarily unavailable: " + (_first_text(details) or "please try again later."),
            )
        if is_write:
            return _ambiguous(f"the operation was refused without per-function results ({summary})", details=details)
        return RequestError(
            f"operation failure: {summary}", details=details,
            user_message="Intacct refused the request: " + (_first_text(details) or "no reason given")
            + (f" {_first_correction(details)}" if _first_correction(details) else "") + ".",
        )

    if level == "result":
        text = f"{function or 'function'} {controlid or ''} failed: {summary}"
        kwargs = dict(details=details, function=function, controlid=controlid)
        if (function or "").lower() == "getapisession" and not _is_transient_text(details):
            # No session means no sign-in (e.g. an entity the user may not enter): stop like a bad login.
            return AuthenticationError(
                text, **kwargs,
                user_message="Intacct could not open an API session: "
                + (_first_text(details) or "no reason given") + ". Check the user and entity settings.",
            )
        if _is_transient_text(details):
            return TransientRecordError(
                text, **kwargs,
                user_message="Intacct is temporarily unavailable: " + (_first_text(details) or "try again later") + ".",
            )
        if repeated:
            return DuplicateControlIdError(
                text, **kwargs,
                user_message="Intacct refused a repeat of an earlier attempt ("
                + (_first_text(details) or "no reason given") + "); the record is looked up before anything else.",
            )
        reason = _first_text(details) or "Intacct gave no reason"
        correction = _first_correction(details)
        return RecordError(
            text, **kwargs,
            user_message=f"Intacct rejected this record: {reason}" + (f" {correction}" if correction else ""),
        )

    raise ValueError(f"unknown level {level!r}")


def _auth_user_message(level: str, details: Sequence[ErrorDetail]) -> str:
    text = _first_text(details)
    correction = _first_correction(details)
    errnos = {d.errorno.strip().upper() for d in details}
    if COMPANY_EXPIRED_ERRNO in errnos:
        return f"Intacct refused the company: {text or 'the company has expired'}."
    if level == "control":
        return (
            "Intacct rejected the Web Services sender ID or sender password"
            + (f" ({text})" if text else "")
            + ". Check the sender credentials."
        )
    if "authoriz" in " ".join(d.description.lower() + d.description2.lower() for d in details):
        return f"The Web Services sender is not authorised for this company: {text} {correction}".strip()
    if "session" in text.lower():
        return "The Intacct session expired and signing in again failed. Check the connection settings."
    return (
        "Intacct rejected the sign-in"
        + (f" ({text})" if text else "")
        + ". Check the company ID, user ID, user password and entity."
    )
