"""The ``uniqueid`` guard: a write function whose controlid already completed is not run again.

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
        raise FunctionError(ErrorEntry(
            DUPLICATE_CONTROLID_ERRORNO,
            f"Function controlid '{controlid}' was already executed successfully ({row[0]}); it was not run again "
            f"because uniqueid is true (sandbox-specific error).",
            "Duplicate function controlid",
            "Look the record up instead of retrying, or use a new controlid.",
        ))


def remember(conn: sqlite3.Connection, sender_id: str, company_id: str, controlid: str, function: str,
             expires_at: float) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO controlids (sender_id, company_id, controlid, function, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (sender_id, company_id, controlid, function, expires_at),
    )
