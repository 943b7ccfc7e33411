"""The ``uniqueid`` guard: a write function whose controlid already completed is not run again.

The repeat fails at result level with the generic business-rule number (BL01001973), since no reference shows
the gateway's own answer; clients must not depend on its wording.

Completed controlids are stored in the same transaction as the function's own changes, so a rolled-back
function is never remembered and a committed one survives a restart.
"""

from __future__ import annotations

import sqlite3

from .config import DUPLICATE_CONTROLID_ERRORNO
from .errors import ErrorEntry, FunctionError


def check(conn: sqlite3.Connection, sender_id: str, company_id: str, controlid: str, now: float) -> None:
    row = conn.execute(
        "SELECT function, expires_at FROM controlids WHERE sender_id = ? AND company_id = ? AND controlid = ?",
        (sender_id, company_id, controlid),
    ).fetchone()
    if row is not None and row[1] > now:
        # developer.intacct.com/web-services/requests/: with uniqueid true "a request cannot be repeated"; the
        # function's controlid is checked for an operation already executed and completed. The wording and number
        # of the answer are not published (README.md lists this as a guess).
        raise FunctionError(ErrorEntry(
            DUPLICATE_CONTROLID_ERRORNO,
            f"A function with control ID '{controlid}' was already executed and completed; it was not run again.",
            "",
            "Look the record up, or use a new control ID for a new operation.",
        ))


def remember(conn: sqlite3.Connection, sender_id: str, company_id: str, controlid: str, function: str,
             expires_at: float) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO controlids (sender_id, company_id, controlid, function, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (sender_id, company_id, controlid, function, expires_at),
    )
