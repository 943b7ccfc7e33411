"""Text typed or pasted by people, made safe to store and compare: invisible characters removed, spaces trimmed.

A company ID or customer number copied from a web page or a spreadsheet can carry a zero-width space, a
byte-order mark or a non-breaking space that nobody can see and that makes Intacct answer "Sign-in information
is incorrect" or creates a second customer that looks exactly like the first.
"""
from __future__ import annotations

import unicodedata

# Format characters (zero-width spaces and joiners, BOM, direction marks), controls, unassigned and private use.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cn"})


def visible(value: str | None) -> str:
    """`value` without invisible characters, other spaces made plain, trimmed; '' for None."""
    if not value:
        return ""
    if value.isascii() and value.isprintable():
        return value.strip()  # the common case, kept fast for large uploads
    kept = []
    for char in value:
        category = unicodedata.category(char)
        if category in _INVISIBLE_CATEGORIES:
            if char in "\t\n\r":
                kept.append(" ")
            continue
        kept.append(" " if category == "Zs" else char)
    return "".join(kept).strip()
