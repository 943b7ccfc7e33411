"""Scrubbing secrets (sender/user passwords, session ids) out of anything that gets logged."""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.sax.saxutils import escape

REDACTED = "***REDACTED***"
_SECRET_TAGS = re.compile(
    r"(<(password|sessionid)\b[^>]*>)(.*?)(</\2\s*>)", re.IGNORECASE | re.DOTALL
)
# A secret shorter than this would mangle ordinary text if replaced literally; the tag rule covers it.
_MIN_LITERAL = 4


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with secret elements emptied and every known secret value (raw or XML-escaped) replaced."""
    out = _SECRET_TAGS.sub(lambda m: m.group(1) + REDACTED + m.group(4), text)
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_LITERAL}, key=len, reverse=True):
        for form in {secret, escape(secret), escape(secret, {'"': "&quot;", "'": "&#039;"})}:
            out = out.replace(form, REDACTED)
    return out


def redact_body(body: bytes, secrets: Iterable[str] = (), limit: int = 64 * 1024) -> str:
    """A loggable, redacted rendering of a request/response body, cut to ``limit`` characters."""
    text = body[: limit * 4 + 16384].decode("utf-8", errors="replace")
    # Redact before cutting, with a margin past the cut, so a secret straddling the cut never leaks in part.
    redacted = redact_text(text[: limit + 16384], secrets)
    if len(redacted) > limit:
        return redacted[:limit] + f"... [cut; {len(body)} bytes in total]"
    return redacted
