"""Account mapping page (admin): where ledger invoices and payments land in the G/L, which directions sync,
validation against Intacct, and the audit trail of every change (who, when, old → new)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from console.state import flash, get_engine, guarded, require_user, show_flash
from console.widgets import ago, credentials_blocked, needs_connection, when
from storage.db import read_session, write_session
from storage.models import Role
from sync_engine.audit import audit_trail
from sync_engine.connection import validate_mapping
from sync_engine.exports import pending_write_summary
from sync_engine.settings import MappingForm, SettingsError, get_connection, get_mapping, save_mapping

user = require_user(Role.ADMIN)
TEXT = {"item_account_label": "map_item", "undeposited_funds_account": "map_undeposited", "location_id": "map_location",
        "department_id": "map_department"}
FLAGS = {"read_customers": "map_read_customers", "read_invoices": "map_read_invoices",
         "write_invoices": "map_write_invoices", "write_payments": "map_write_payments",
         "active_customers_only": "map_active_only"}


@guarded(Role.ADMIN)
def _save(connection_id: int) -> None:
    form = MappingForm(**{f: st.session_state.get(k, "") for f, k in TEXT.items()},
                       **{f: bool(st.session_state.get(k)) for f, k in FLAGS.items()})
    try:
        with write_session(get_engine()) as session:
            save_mapping(session=session, connection_id=connection_id, form=form, actor=user.username)
    except SettingsError as exc:
        flash("error", f"Not saved: {exc}")
        return
    flash("success", "Mapping saved. Validate it against Intacct before the next sync.")


@guarded(Role.ADMIN)
def _validate() -> None:
    try:
        with st.spinner("Looking up the accounts in Intacct…"), read_session(get_engine()) as session:
            result = validate_mapping(session=session)
    except Exception as exc:  # noqa: BLE001 - a person pressed a button: show what went wrong, not a traceback
        flash("error", f"The mapping could not be validated: {exc}")
        return
    if result.ok:
        flash("success", "All mapped values exist and are active in Intacct.\n\n" + "\n".join(
            f"- {note}" for note in result.notes))
    else:
        flash("error", "Intacct would refuse postings with this mapping:\n\n" + "\n".join(
            f"- {p}" for p in result.problems))


st.title("Account mapping")
st.caption("Tells the sync where invoices and payments from our ledger go in Intacct's general ledger.")
with read_session(get_engine()) as session:
    connection = get_connection(session=session)
    mapping = get_mapping(session=session, connection_id=connection.id) if connection else None
    history = audit_trail(session=session, entity="account_mapping", limit=100)
    waiting = pending_write_summary(session=session, item_account_label=mapping.item_account_label if mapping else None)
if needs_connection(connection, user):
    st.stop()
blocked = credentials_blocked(connection, user)

show_flash()
if mapping is not None and mapping.validated_at:
    st.success(f"Validated against Intacct {ago(mapping.validated_at)}.", icon=":material/verified:")
elif mapping is not None and mapping.validation_message:
    st.error(f"Last validation: {mapping.validation_message}", icon=":material/error:")
else:
    st.info("Not validated since the last change.", icon=":material/help:")

for field, key in TEXT.items():
    st.session_state.setdefault(key, getattr(mapping, field, None) or "")
for field, key in FLAGS.items():
    st.session_state.setdefault(key, bool(getattr(mapping, field, field != "active_customers_only")))

with st.form("mapping"):
    left, right = st.columns(2)
    left.text_input("Item account label", key="map_item",
                    help="The A/R account label new invoice lines post to (Accounts Receivable > Setup > Account labels).")
    right.text_input("Undeposited funds account", key="map_undeposited",
                     help="G/L account number payments received here are deposited to, e.g. 1010.")
    left.text_input("Location ID (optional)", key="map_location", help="For multi-entity companies.")
    right.text_input("Department ID (optional)", key="map_department")
    st.markdown("**What syncs**")
    a, b = st.columns(2)
    a.toggle("Read customers from Intacct", key="map_read_customers")
    a.toggle("Read outstanding invoices from Intacct", key="map_read_invoices")
    a.toggle("Customer imports take active customers only", key="map_active_only")
    b.toggle("Write our invoices to Intacct", key="map_write_invoices")
    b.toggle("Write our payments to Intacct", key="map_write_payments")
    st.form_submit_button("Save", type="primary", icon=":material/save:", on_click=_save, args=(connection.id,))
if waiting["invoices"] or waiting["payments"]:
    label = mapping.item_account_label or "(no label mapped yet)"
    st.info(f"Waiting for the next sync: {waiting['invoices']:,} invoice(s) and {waiting['payments']:,} payment(s). "
            f"{waiting['lines_on_mapped_label']:,} invoice line(s) will post to **{label}**"
            + (f"; {waiting['lines_with_own_label']:,} name their own account label." if waiting["lines_with_own_label"]
               else ".") + " Payments go to the undeposited funds account above.", icon=":material/pending_actions:")
st.button("Validate against Intacct", icon=":material/fact_check:", on_click=_validate, disabled=blocked,
          help="Checks that each account, location and department exists and is active in Intacct.")

st.subheader("Change history")
if history:
    st.dataframe(pd.DataFrame([{"When": when(e.at), "Who": e.actor, "Setting": e.field.replace("_", " "),
                                "Old": e.old_value or "—", "New": e.new_value or "—"} for e in history]),
                 hide_index=True)
else:
    st.caption("No changes yet. Every save is recorded here with who changed what.")
