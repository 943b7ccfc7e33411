"""In real Chromium against `console_server.py` (what `make run` serves): no password and no session token ever
reaches the page or arrives in a websocket frame, a reload keeps the user signed in through an HttpOnly cookie,
and sign-out ends the session so the same cookie no longer works."""
from __future__ import annotations

import time

import pytest
import requests

from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser
ADMIN, PASSWORD = "trust-admin", "admin-password-in-browser"  # the console fixture's first administrator
CONSOLE_SCRIPT = "console_server.py"
CONSOLE_ENV = {"INTACCT_DEMO_URL": "http://127.0.0.1:9/ia/xml/xmlgw.phtml", "INTACCT_DEMO_COMPANY_ID": "DEMO-AR",
               "INTACCT_DEMO_USER_ID": "ws_console", "INTACCT_DEMO_SENDER_ID": "ar-console-sender",
               "INTACCT_DEMO_USER_PASSWORD": "demo-user-pw-never-shown",
               "INTACCT_DEMO_SENDER_PASSWORD": "demo-sender-pw-never-shown"}
DEMO_PASSWORDS = (CONSOLE_ENV["INTACCT_DEMO_USER_PASSWORD"], CONSOLE_ENV["INTACCT_DEMO_SENDER_PASSWORD"])


class Frames:
    """Every websocket frame of a page, by direction."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.received: list[bytes] = []
        self.sent: list[bytes] = []
        page.on("websocket", self._watch)

    def _watch(self, ws) -> None:  # type: ignore[no-untyped-def]
        ws.on("framereceived", lambda payload: self.received.append(_bytes(payload)))
        ws.on("framesent", lambda payload: self.sent.append(_bytes(payload)))


def _bytes(payload) -> bytes:  # type: ignore[no-untyped-def]
    return payload if isinstance(payload, bytes) else str(payload).encode("utf-8")


def _session_cookie(context) -> dict | None:  # type: ignore[no-untyped-def]
    return next((c for c in context.cookies() if c["name"] == "arsync_session"), None)


def _wait_for_cookie(page, context) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 20
    while (cookie := _session_cookie(context)) is None:
        assert time.monotonic() < deadline, "the session cookie was never set"
        page.wait_for_timeout(100)
    return cookie


def _sign_in(page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, ADMIN, PASSWORD)


def test_no_password_or_session_token_reaches_the_page_and_a_reload_keeps_the_session(  # type: ignore[no-untyped-def]
        console_url: str, browser, new_page) -> None:
    from playwright.sync_api import expect

    page = new_page(timezone=None)
    context = page.context
    frames = Frames(page)
    page.goto(console_url)
    _sign_in(page)
    expect(page.get_by_role("heading", name="Accounting sync")).to_be_visible()
    cookie = _wait_for_cookie(page, context)
    token = cookie["value"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and len(token) >= 40
    assert token not in page.evaluate("document.cookie")  # page scripts cannot read it

    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Connection", exact=True).click()
    page.get_by_role("button", name="Use the local demo company").click()
    expect(page.get_by_text("its passwords are stored on the server")).to_be_visible()
    for label in ("User password", "Sender password"):
        box = page.get_by_role("textbox", name=label, exact=True)
        expect(box).to_have_value("")
        expect(box).to_have_attribute("placeholder", "Stored (demo company). Leave blank to use it")
    scanned_dom = [page.content(), page.evaluate("[...document.querySelectorAll('input')].map(i => i.value).join('|')")]
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Connection saved")).to_be_visible()
    expect(page.get_by_role("textbox", name="User password", exact=True)).to_have_attribute(
        "placeholder", "Stored. Leave blank to keep")

    page.reload()  # a reload opens a new websocket: the cookie keeps the user signed in
    expect(page.get_by_role("heading", name="Intacct connection")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_have_count(0)
    scanned_dom += [page.content(),
                    page.evaluate("[...document.querySelectorAll('input')].map(i => i.value).join('|')")]

    assert frames.received, "no websocket frame was seen"
    for secret in (*DEMO_PASSWORDS, PASSWORD, token):
        for html in scanned_dom:
            assert secret not in html
        assert not any(secret.encode() in frame for frame in frames.received), f"{secret[:4]}… sent to the browser"
    for secret in (*DEMO_PASSWORDS, token):  # the browser never had them, so it never sends them either
        assert not any(secret.encode() in frame for frame in frames.sent)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    # The old token, replayed from another browser, no longer signs anyone in: it ended on the server.
    replay = browser.new_context()
    replay.add_cookies([{**{k: cookie[k] for k in ("name", "value", "domain", "path")}}])
    other = replay.new_page()
    other.goto(console_url)
    expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(other.get_by_role("heading", name="Accounting sync")).to_have_count(0)
    replay.close()


def test_the_cookie_routes_refuse_other_sites_and_unknown_nonces(console_url: str) -> None:
    assert requests.post(f"{console_url}/_console/session", data="made-up", timeout=5).status_code == 404
    foreign = requests.post(f"{console_url}/_console/session", data="made-up", timeout=5,
                            headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and "set-cookie" not in {k.lower() for k in foreign.headers}
