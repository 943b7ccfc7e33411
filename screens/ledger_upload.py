"""Upload page (accountant+): add invoices and received payments to our ledger from CSV files.

Rows are checked in sync_engine.services.ledger_csv (account labels against Intacct's cached list; customers
and invoices the ledger lacks against Intacct itself, asked through sync_engine before the write lock is taken)
and shown before anything is added; "Add these N rows" saves the good invoices and payments, which go to
Intacct with the next sync, and rejected rows come back as a CSV with the reason on each row.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import streamlit as st

from console.state import ACCOUNTING_SYNC, CUSTOMERS, INVOICES, get_engine, guarded, require_user
from console.tables import show_table
from storage.db import read_session, write_session
from storage.models import Role
from sync_engine.services.ledger_csv import (
    INVOICE_COLUMNS,
    INVOICE_REQUIRED,
    PAYMENT_COLUMNS,
    PAYMENT_REQUIRED,
    CsvFormatError,
    CsvImportResult,
    import_invoices_csv,
    import_payments_csv,
    max_upload_bytes,
    numbers_to_ask,
)
from sync_engine.services.upload_lookup import IntacctFacts, ask_intacct

user = require_user(Role.ACCOUNTANT)
FIX_PAGES = {"customers": (CUSTOMERS, "Customers"), "invoices": (INVOICES, "Invoices")}
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
KINDS = {
    "invoices": ("Invoices", import_invoices_csv, INVOICE_COLUMNS, INVOICE_REQUIRED, "ledger_invoices.csv",
                 "One row per invoice line; rows with the same invoice_number make one invoice. A new customer "
                 "needs a customer_name. account_label is optional and overrides the mapped item account label."),
    "payments": ("Payments", import_payments_csv, PAYMENT_COLUMNS, PAYMENT_REQUIRED, "ledger_payments.csv",
                 "One row per invoice a payment pays; rows with the same customer_number and reference make one "
                 "payment. applied_amount defaults to the whole payment."),
}


def _ask_intacct(kind: str, data: bytes) -> IntacctFacts:
    """Intacct's answer about the file's customers (and invoices) the ledger lacks, before the write lock."""
    customers, invoices = numbers_to_ask(data, kind)
    with read_session(get_engine()) as session:
        return ask_intacct(session=session, customer_numbers=customers, invoice_numbers=invoices)


@guarded(Role.ACCOUNTANT)
def _check(kind: str) -> None:
    """Check the chosen file and keep what would be added, for the person to look at before adding it."""
    _, importer, *_ = KINDS[kind]
    st.session_state.pop(f"result_{kind}", None)
    st.session_state.pop(f"preview_{kind}", None)
    upload = st.session_state.get(f"file_{kind}")
    if upload is None:
        st.session_state[f"result_{kind}"] = ("error", "Choose a CSV file first.")
        return
    data = upload.getvalue()
    try:
        facts = _ask_intacct(kind, data)
        with write_session(get_engine()) as session:
            result = importer(session=session, data=data, actor=user.username, preview=True, intacct=facts)
    except CsvFormatError as exc:
        st.session_state[f"result_{kind}"] = ("error", str(exc))
        return
    except Exception:  # noqa: BLE001 - a person uploaded a file: a message, never a traceback; nothing was saved
        logging.getLogger(__name__).exception("CSV check failed")
        st.session_state[f"result_{kind}"] = ("error", "The file could not be processed and nothing was added. "
                                                       "Check that it is a CSV file in the format described above.")
        return
    st.session_state[f"preview_{kind}"] = (data, result)


@guarded(Role.ACCOUNTANT)
def _upload(kind: str) -> None:
    _, importer, *_ = KINDS[kind]
    checked = st.session_state.pop(f"preview_{kind}", None)
    if checked is None:
        st.session_state[f"result_{kind}"] = ("error", "Check the file first.")
        return
    try:
        facts = _ask_intacct(kind, checked[0])
        with write_session(get_engine()) as session:
            result = importer(session=session, data=checked[0], actor=user.username, intacct=facts)
    except CsvFormatError as exc:
        st.session_state[f"result_{kind}"] = ("error", str(exc))
        return
    except Exception:  # noqa: BLE001 - a person uploaded a file: a message, never a traceback; nothing was saved
        logging.getLogger(__name__).exception("CSV upload failed")
        st.session_state[f"result_{kind}"] = ("error", "The file could not be processed and nothing was added. "
                                                       "Check that it is a CSV file in the format described above.")
        return
    st.session_state[f"result_{kind}"] = ("done", result)


def _problems(kind: str, value: CsvImportResult, *, added: bool) -> None:
    label = KINDS[kind][0].lower()
    for warning in value.warnings:
        st.warning(warning, icon=":material/info:")
    if value.linked:
        st.info(f"In Intacct, not yet in the ledger: {', '.join(value.linked[:10])}"
                + (" …" if len(value.linked) > 10 else "") + (". They were taken into the ledger from Intacct."
                                                               if added else ". Adding the rows takes them into the "
                                                               "ledger from Intacct (never as new customers)."),
                icon=":material/link:")
    if value.skipped:
        st.info(f"Already in the ledger, {'left' if added else 'will be left'} as they are: "
                f"{', '.join(value.skipped[:10])}" + (" …" if len(value.skipped) > 10 else ""), icon=":material/info:")
    if value.problems:
        st.warning(f"{len(value.problems)} problem(s): the {label} below {'were' if added else 'will'} not "
                   f"{'added' if added else 'be added'}. Fix the rows and upload the corrected file; nothing else "
                   "needs to be uploaded again.", icon=":material/warning:")
        show_table(pd.DataFrame([{"Row": p.row, "Column": p.column, "Value": p.value, "Problem": p.message}
                                 for p in value.problems]), {"Problem": st.column_config.TextColumn(width="large")})
        for fix in sorted({p.fix for p in value.problems if p.fix}):
            page, title = FIX_PAGES[fix]
            st.page_link(page, label=f"Import {title.lower()} from Intacct on {title}", icon=":material/download:")
        st.download_button("Download the rejected rows (CSV)", value.rejected_csv, file_name=f"rejected_{kind}.csv",
                           mime="text/csv", icon=":material/download:", key=f"rejected_{kind}")


def _show_preview(kind: str) -> None:
    checked = st.session_state.get(f"preview_{kind}")
    if checked is None:
        return
    value = checked[1]
    label = KINDS[kind][0].lower()
    _problems(kind, value, added=False)
    if value.rows:
        what = label[:-1] if len(value.created) == 1 else label
        st.markdown(f"**{len(value.created):,} {what} to add** ({len(value.rows):,} rows), as read from the file:")
        show_table(pd.DataFrame([{"Row": int(row["_row"]), **{k: v for k, v in row.items() if k != "_row"}}
                                 for row in value.rows]))
        st.button(f"Add these {len(value.rows):,} rows", type="primary", icon=":material/playlist_add:",
                  key=f"add_{kind}", on_click=_upload, args=(kind,))
    elif not (value.skipped or value.problems):
        st.info("The file held nothing to add.")


def _show_result(kind: str) -> None:
    outcome = st.session_state.get(f"result_{kind}")
    if outcome is None:
        return
    state, value = outcome
    if state == "error":
        st.error(value, icon=":material/error:")
        return
    label = KINDS[kind][0].lower()
    if value.created:
        st.success(f"Added {len(value.created)} {label}: {', '.join(value.created[:10])}"
                   + (" …" if len(value.created) > 10 else "") + ". They go to Intacct with the next sync.",
                   icon=":material/check_circle:")
        st.page_link(ACCOUNTING_SYNC, label="Go to Accounting sync", icon=":material/sync:")
    _problems(kind, value, added=True)
    if not (value.created or value.skipped or value.problems):
        st.info("The file held nothing to add.")


st.title("Upload to the ledger")
st.caption("Add invoices raised and payments received outside the console. They start in our ledger and are "
           "written to Intacct by the next accounting sync.")
for kind, tab in zip(KINDS, st.tabs([v[0] for v in KINDS.values()]), strict=False):
    title, _, columns, required, sample, help_text = KINDS[kind]
    with tab:
        st.caption(help_text)
        st.markdown("Columns: " + ", ".join(f"**{c}**" if c in required else c for c in columns)
                    + " (bold = required). Dates as YYYY-MM-DD; amounts like 1250.00 or 1,250.00 (a dot before the "
                    f"cents, at most two decimals); files up to {max_upload_bytes() // 1048576} MB.")
        st.download_button(f"Download a sample {title.lower()} file", (SAMPLES / sample).read_bytes(), file_name=sample,
                           mime="text/csv", icon=":material/description:", key=f"sample_{kind}")
        st.file_uploader(f"{title} CSV", type=["csv", "txt"], key=f"file_{kind}",
                         max_upload_size=max(1, -(-max_upload_bytes() // 1048576)))
        st.button(f"Check {title.lower()}", icon=":material/fact_check:", key=f"check_{kind}",
                  on_click=_check, args=(kind,), help="Reads and checks every row; nothing is added yet.")
        _show_preview(kind)
        _show_result(kind)
