"""Form helpers for the console's entry screens: exact parsing of what people type (amounts as Decimal, never
float), the rows of a `st.data_editor` rebuilt from its session state, and problems shown beside fields.

Callbacks run before the page draws, so a Save button's callback cannot see the editor's returned frame:
`editor_rows` applies the editor's recorded edits (edited, added and deleted rows) to the rows it started from.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import streamlit as st


def parse_amount(text: object) -> Decimal | None:
    """'1,250.00' → Decimal('1250.00'); empty → None; anything else raises ValueError with a plain reason."""
    raw = "" if text is None else str(text).strip()
    if not raw or raw.lower() == "nan":
        return None
    try:
        value = Decimal(raw.replace(",", "").replace("$", "").replace(" ", ""))
    except InvalidOperation:
        raise ValueError(f"'{raw}' is not a number: use digits with a dot for decimals, e.g. 1250.00") from None
    if not value.is_finite():
        raise ValueError(f"'{raw}' is not a number")
    return value


def editor_rows(key: str, base: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows a keyed data editor shows now: `base` with the edits kept in st.session_state[key]."""
    state = st.session_state.get(key) or {}
    deleted = {int(i) for i in state.get("deleted_rows", [])}
    rows = []
    for n, row in enumerate(base):
        if n in deleted:
            continue
        rows.append({**row, **(state.get("edited_rows", {}).get(n) or state.get("edited_rows", {}).get(str(n)) or {})})
    rows += [dict(added) for added in state.get("added_rows", [])]
    return rows


def blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() in ("", "None", "nan")


def show_problems(problems: dict[str, str], *, prefix: str = "") -> None:
    """Problems whose field starts with `prefix`, one line each, under the fields they are about."""
    for field, message in problems.items():
        if field.startswith(prefix):
            st.error(message, icon=":material/error:")
