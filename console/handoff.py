"""Moving a new session's token into an HttpOnly cookie without the token ever crossing the websocket.

Sign-in happens in the Streamlit script, which talks to the browser only over the websocket, and script code
can set no cookie. So at sign-in the script parks the token here under a one-time nonce (a random value, valid
for HANDOFF_TTL seconds, usable once) and the page's small script POSTs that nonce to `/_console/session`
(console_server.py), whose HTTP answer sets the cookie: HttpOnly (page scripts cannot read it), SameSite=Strict,
Secure over HTTPS. On a reload the browser sends the cookie with the websocket handshake and
`st.context.cookies` hands it to the script. The parked tokens live only in this process's memory.
"""
from __future__ import annotations

import secrets
import threading
import time

COOKIE_NAME = "arsync_session"
HANDOFF_PATH = "/_console/session"
SIGN_OUT_PATH = "/_console/sign-out"
HANDOFF_TTL = 60.0

_parked: dict[str, tuple[str, float, float]] = {}  # nonce -> (token, max-age seconds, deadline)
_lock = threading.Lock()


def park(token: str, *, max_age: float) -> str:
    """Keep `token` for one claim; return the nonce the page sends to claim it."""
    nonce = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for stale in [n for n, (_, _, deadline) in _parked.items() if deadline < now]:
            del _parked[stale]
        _parked[nonce] = (token, max_age, now + HANDOFF_TTL)
    return nonce


def claim(nonce: str) -> tuple[str, float] | None:
    """The parked token and its cookie lifetime, once; None for an unknown, used or expired nonce."""
    with _lock:
        entry = _parked.pop(nonce, None)
    if entry is None or entry[2] < time.monotonic():
        return None
    return entry[0], entry[1]


def claim_script(nonce: str) -> str:
    """The page script that claims the cookie (the nonce is url-safe base64: nothing to escape)."""
    return (f"<script>fetch('{HANDOFF_PATH}', {{method: 'POST', body: '{nonce}', credentials: 'same-origin'}})"
            ".catch(() => {});</script>")


def clear_script() -> str:
    return (f"<script>fetch('{SIGN_OUT_PATH}', {{method: 'POST', credentials: 'same-origin'}})"
            ".catch(() => {});</script>")
