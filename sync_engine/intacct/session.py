"""Session state from ``getAPISession`` (section 5): public info plus the privately held session id."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from .response import MalformedResponse, Response

DEFAULT_REFRESH_MARGIN = timedelta(minutes=5)
# Used when the gateway does not say when the session ends (observed durations: 2 to 24 hours).
FALLBACK_LIFETIME = timedelta(minutes=30)
MAX_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class SessionInfo:
    """What is known about the current API session (the session id itself is never exposed here)."""

    endpoint: str
    location_id: str | None
    expires_at: datetime
    user_id: str
    company_id: str
    utc_offset: timedelta | None = None  # the offset the gateway wrote the session's timestamps with
    stamped_at: datetime | None = None  # the gateway's sessiontimestamp (its clock when the session was answered)


class Session:
    """A live session: its info and its secret id. ``repr`` never shows the id."""

    def __init__(self, info: SessionInfo, session_id: str) -> None:
        self._lock = threading.Lock()
        self._info = info
        self._session_id = session_id

    @property
    def info(self) -> SessionInfo:
        return self._info

    @property
    def session_id(self) -> str:
        return self._session_id

    def needs_refresh(self, now: datetime, margin: timedelta = DEFAULT_REFRESH_MARGIN) -> bool:
        """True when the session is within ``margin`` of its (sliding) expiry."""
        try:
            return now >= self._info.expires_at - margin
        except (OverflowError, TypeError):
            return True

    def slide(self, new_expiry: datetime | None) -> None:
        """Move the expiry forward after a successful call (the timeout slides on use)."""
        if new_expiry is None:
            return
        with self._lock:
            current = self._info.expires_at
            try:
                believable = new_expiry > current and new_expiry - current <= MAX_LIFETIME
            except (OverflowError, TypeError):
                believable = False
            if believable:
                self._info = replace(self._info, expires_at=new_expiry)

    def __repr__(self) -> str:
        return f"Session(info={self._info!r}, session_id=<redacted>)"

    __str__ = __repr__


def _field(record: dict, name: str) -> str:
    value = record.get(name)
    return value.strip() if isinstance(value, str) else ""


def _plausible_expiry(stated: datetime | None, now: datetime) -> datetime:
    """The gateway's expiry when it is believable, else ``now`` + the fallback (a year-1 or year-9999 timeout
    must neither crash date arithmetic nor keep a dead session for ever)."""
    if stated is None or not now - timedelta(days=1) <= stated <= now + MAX_LIFETIME:
        return now + FALLBACK_LIFETIME
    return stated


def session_from_response(resp: Response, *, login_url: str, now: datetime) -> Session:
    """Build a :class:`Session` from a successful getAPISession response."""
    result = next((r for r in resp.results if r.function.lower() == "getapisession"), None)
    if result is None and resp.results:
        result = resp.results[0]
    api = result.records[0] if result is not None and result.records else {}
    session_id = _field(api, "SESSIONID")
    if not session_id:
        raise MalformedResponse("getAPISession returned no session id")
    endpoint = _field(api, "ENDPOINT") or login_url
    login_scheme, endpoint_scheme = urlsplit(login_url).scheme.lower(), urlsplit(endpoint).scheme.lower()
    if endpoint_scheme not in ("http", "https"):
        raise MalformedResponse(f"getAPISession returned an unusable endpoint {endpoint!r}")
    if login_scheme == "https" and endpoint_scheme != "https":
        raise MalformedResponse("getAPISession returned a non-HTTPS endpoint for an HTTPS connection")
    auth = resp.authentication
    location = _field(api, "LOCATIONID") or (auth.location_id if auth else None) or None
    expires = _plausible_expiry(auth.session_timeout if auth else None, now)
    info = SessionInfo(
        endpoint=endpoint,
        location_id=location,
        expires_at=expires,
        user_id=auth.user_id if auth else "",
        company_id=auth.company_id if auth else "",
        utc_offset=auth.utc_offset if auth else None,
        stamped_at=auth.session_timestamp if auth else None,
    )
    return Session(info, session_id)
