"""Account mapping page (admin): where ledger invoices and payments land in the G/L, picked from Intacct's own
lists (cached, with "Refresh from Intacct" and when they were read) and checked at once; per-item account
overrides; payment routing rules; which directions sync; validation against Intacct; and the audit trail of
every change (who, when, old → new)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from console.change_words import change_rows
from console.forms import blank, editor_rows
from console.state import flash, get_engine, guarded, require_user, show_flash
from console.tables import CHANGE_COLUMNS, show_table
from console.widgets import ago, credentials_blocked, needs_connection, when
from storage.db import read_session, write_session
from storage.models import Role
from sync_engine.services.connection import validate_mapping
from sync_engine.services.settings import MappingForm, SettingsError, get_connection, get_mapping, save_mapping
from sync_engine.sync.audit import audit_trail
from sync_engine.sync.exports import pending_write_summary
from sync_engine.sync.intacct_lists import LISTS, choices, last_refreshed, problem, refresh_lists
from sync_engine.sync.write_rules import (
    BANK_ACCOUNT,
    DEPOSIT_KINDS,
    GL_ACCOUNT,
    METHODS,
    OverrideRow,
    RoutingRow,
    RulesError,
    item_overrides,
    routing_problems,
    routing_rules,
    save_item_overrides,
    save_routing_rules,
)

user = require_user(Role.ADMIN)
# mapping field → (widget key, list it is picked from, label, help)
PICKED = {
    "item_account_label": ("map_item", "account_labels", "Item account label",
                           "The A/R account label invoice lines post to unless a line or its item names another."),
    "undeposited_funds_account": ("map_undeposited", "gl_accounts", "Undeposited funds account",
                                  "The G/L account payments are deposited to unless a routing rule below matches."),
    "location_id": ("map_location", "locations", "Location (optional)", "For multi-entity companies."),
    "department_id": ("map_department", "departments", "Department (optional)", None),
}
FLAGS = {"read_customers": "map_read_customers", "read_invoices": "map_read_invoices",
         "write_invoices": "map_write_invoices", "write_payments": "map_write_payments",
         "active_customers_only": "map_active_only"}
OVERRIDES_KEY, ROUTING_KEY = "map_overrides", "map_routing"


@guarded(Role.ADMIN)
def _save(connection_id: int) -> None:
    form = MappingForm(**{f: st.session_state.get(key) or "" for f, (key, *_) in PICKED.items()},
                       **{f: bool(st.session_state.get(k)) for f, k in FLAGS.items()})
    try:
        with write_session(get_engine()) as session:
            save_mapping(session=session, connection_id=connection_id, form=form, actor=user.username)
    except SettingsError as exc:
        flash("error", f"Not saved: {exc}")
        return
    flash("success", "Mapping saved. Validate it against Intacct before the next sync.")


@guarded(Role.ADMIN)
def _refresh() -> None:
    try:
        with st.spinner("Reading the lists from Intacct…"), write_session(get_engine()) as session:
            counts = refresh_lists(session=session)
    except Exception as exc:  # noqa: BLE001 - a person pressed a button: show what went wrong, not a traceback
        flash("error", f"The lists could not be read from Intacct: {exc}")
        return
    flash("success", "Read from Intacct: " + ", ".join(f"{n:,} {LISTS[name].label.lower()}(s)"
                                                      for name, n in counts.items()) + ".")


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


@guarded(Role.ADMIN)
def _save_overrides(connection_id: int, base: list[dict]) -> None:
    rows = [OverrideRow(str(r.get("Item code") or ""), str(r.get("Account label") or ""))
            for r in editor_rows(OVERRIDES_KEY,
                                 base) if not (blank(r.get("Item code")) and blank(r.get("Account label")))]
    try:
        with write_session(get_engine()) as session:
            count = save_item_overrides(session=session, connection_id=connection_id, rows=rows, actor=user.username)
    except RulesError as exc:
        flash("error", f"Overrides not saved: {exc}", key="flash_rules")
        return
    st.session_state.pop("map_override_base", None)
    st.session_state.pop(OVERRIDES_KEY, None)
    flash("success", f"{count} item override(s) saved.", key="flash_rules")


def _deposit_option(kind: str, account: str) -> str:
    """The routing editor's one 'Deposit to' column holds both kinds of account: 'bank_account:BOA-CHK'."""
    return f"{kind}:{account}"


def _routing_rows(base: list[dict]) -> list[RoutingRow]:
    rows = []
    for r in editor_rows(ROUTING_KEY, base):
        value = "" if blank(r.get("Deposit to")) else str(r["Deposit to"])
        kind, _, account = value.partition(":") if ":" in value else (GL_ACCOUNT, "", value)
        rows.append(RoutingRow(None if blank(r.get("Method")) else str(r["Method"]),
                               None if blank(r.get("Currency")) else str(r["Currency"]), account, kind))
    return rows


def _unlisted_deposit(option: str) -> str:
    kind, _, account = option.partition(":")
    return f"{DEPOSIT_KINDS.get(kind, DEPOSIT_KINDS[GL_ACCOUNT])[1]} {account} (not in Intacct's list)"


@guarded(Role.ADMIN)
def _save_routing(connection_id: int, base: list[dict]) -> None:
    rows = _routing_rows(base)
    try:
        with write_session(get_engine()) as session:
            count = save_routing_rules(session=session, connection_id=connection_id, rows=rows, actor=user.username)
    except RulesError as exc:
        flash("error", f"Routing rules not saved: {exc}", key="flash_routing")
        return
    st.session_state.pop("map_routing_base", None)
    st.session_state.pop(ROUTING_KEY, None)
    flash("success", f"{count} routing rule(s) saved.", key="flash_routing")


st.title("Account mapping")
st.caption("Tells the sync where invoices and payments from our ledger go in Intacct's general ledger.")
with read_session(get_engine()) as session:
    connection = get_connection(session=session)
    mapping = get_mapping(session=session, connection_id=connection.id) if connection else None
    history = sorted([e for entity in ("account_mapping", "item_override", "payment_routing")
                      for e in audit_trail(session=session, entity=entity, limit=100)],
                     key=lambda e: (e.at, e.id), reverse=True)
    waiting = pending_write_summary(session=session, item_account_label=mapping.item_account_label if mapping else None)
    if connection:
        lists = {name: choices(session=session, connection_id=connection.id, list_name=name) for name in LISTS}
        refreshed = last_refreshed(session=session, connection_id=connection.id)
        overrides = item_overrides(session=session, connection_id=connection.id)
        rules = routing_rules(session=session, connection_id=connection.id)
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

lists_col, refresh_col = st.columns([3, 1], vertical_alignment="center")
lists_col.caption(f"Lists read from Intacct {ago(refreshed)} ({when(refreshed)})." if refreshed else
                  "Intacct's lists were never read: refresh them to pick accounts, locations and departments "
                  "instead of typing them.")
refresh_col.button("Refresh from Intacct", icon=":material/refresh:", on_click=_refresh, disabled=blocked,
                   width="stretch",
                   help="Reads account labels, G/L accounts, bank accounts, locations and departments (a few seconds).")

for field, (key, *_rest) in PICKED.items():
    st.session_state.setdefault(key, getattr(mapping, field, None) or "")
for field, key in FLAGS.items():
    st.session_state.setdefault(key, bool(getattr(mapping, field, field != "active_customers_only")))

left, right = st.columns(2)
for n, (key, list_name, label, help_text) in enumerate(PICKED.values()):
    column = left if n % 2 == 0 else right
    with column:
        entries = lists[list_name]
        if refreshed:
            by_value = {c.value: c.label for c in entries}
            current = st.session_state.get(key) or ""
            options = [""] + [c.value for c in entries] + ([current] if current and current not in by_value else [])
            st.selectbox(label, options, key=key, help=help_text,
                         format_func=lambda v, m=by_value: m.get(v, f"{v} (not active in Intacct)") if v else "—")
            with read_session(get_engine()) as session:
                issue = problem(session=session, connection_id=connection.id, list_name=list_name,
                                value=st.session_state.get(key))
            if issue:
                st.error(issue, icon=":material/error:")
        else:
            st.text_input(label, key=key, help=help_text)
st.markdown("**What syncs**")
a, b = st.columns(2)
a.toggle("Read customers from Intacct", key="map_read_customers")
a.toggle("Read outstanding invoices from Intacct", key="map_read_invoices")
a.toggle("Customer imports take active customers only", key="map_active_only")
b.toggle("Write our invoices to Intacct", key="map_write_invoices")
b.toggle("Write our payments to Intacct", key="map_write_payments")
save_col, validate_col = st.columns(2)
save_col.button("Save", type="primary", icon=":material/save:", on_click=_save, args=(connection.id,))
validate_col.button("Validate against Intacct", icon=":material/fact_check:", on_click=_validate, disabled=blocked,
                    help="Checks that each account, location and department, and each routing rule's account, "
                         "exists and is active in Intacct.")
if waiting["invoices"] or waiting["payments"]:
    label = mapping.item_account_label if mapping and mapping.item_account_label else "(no label mapped yet)"
    st.info(f"Waiting for the next sync: {waiting['invoices']:,} invoice(s) and {waiting['payments']:,} payment(s). "
            f"{waiting['lines_on_mapped_label']:,} invoice line(s) will post to **{label}**"
            + (f"; {waiting['lines_with_own_label']:,} name their own account label." if waiting["lines_with_own_label"]
               else ".") + " Payments go to the account their routing rule names, else the undeposited funds "
                           "account above.", icon=":material/pending_actions:")

st.subheader("Account label per item")
st.caption("Invoice lines of these items post to their own account label (a line that names a label keeps it).")
show_flash("flash_rules")
label_options = [c.value for c in lists["account_labels"]]
override_base = st.session_state.setdefault(  # loaded once per edit session: the editor keeps its edits
    "map_override_base", [{"Item code": code, "Account label": label} for code, label in overrides.items()])
st.data_editor(pd.DataFrame(override_base, columns=["Item code", "Account label"]), key=OVERRIDES_KEY,
               num_rows="dynamic", hide_index=True, width="stretch", column_config={
                   "Item code": st.column_config.TextColumn("Item code", width="medium",
                                                            help="The item or product code on lines"),
                   "Account label": (st.column_config.SelectboxColumn("Account label", options=label_options,
                                                                      width="large")
                                     if label_options else st.column_config.TextColumn("Account label",
                                                                                       width="large"))})
st.button("Save item overrides", icon=":material/save:", on_click=_save_overrides,
          args=(connection.id, override_base))

st.subheader("Payment routing")
st.caption("Where payments are deposited, by method and/or currency: a bank account, or an undeposited funds "
           "account. The first matching rule wins; a last rule with no method and no currency catches the rest; a "
           "payment no rule matches goes to the undeposited funds account above.")
show_flash("flash_routing")
deposit_labels = {_deposit_option(kind, c.value): f"{DEPOSIT_KINDS[kind][1]} {c.label}"
                  for kind in (BANK_ACCOUNT, GL_ACCOUNT) for c in lists[DEPOSIT_KINDS[kind][0]]}
routing_base = st.session_state.setdefault("map_routing_base", [
    {"Method": r.method or "", "Currency": r.currency or "",
     "Deposit to": _deposit_option(r.deposit_kind, r.deposit_account)} for r in rules])
deposit_options = [*deposit_labels, *(r["Deposit to"] for r in routing_base if r["Deposit to"] not in deposit_labels)]
st.data_editor(pd.DataFrame(routing_base, columns=["Method", "Currency", "Deposit to"]), key=ROUTING_KEY,
               num_rows="dynamic", hide_index=True, width="stretch", column_config={
                   "Method": st.column_config.SelectboxColumn("Method", options=["", *METHODS], width="medium",
                                                              help="Empty: any method"),
                   "Currency": st.column_config.TextColumn("Currency", max_chars=3, width="small",
                                                           help="e.g. EUR; empty: any currency"),
                   "Deposit to": st.column_config.SelectboxColumn(
                       "Deposit to", options=deposit_options, width="large",
                       help="A bank account or an undeposited funds account, as last read from Intacct (type to "
                            "search)",
                       format_func=lambda v: deposit_labels.get(v) or _unlisted_deposit(v))})
if not refreshed:
    st.caption("Refresh from Intacct above to choose bank and undeposited funds accounts for the rules.")
with read_session(get_engine()) as session:  # checked as it is edited, not only on Save
    for issue in routing_problems(session=session, connection_id=connection.id, rows=_routing_rows(routing_base)):
        st.error(issue, icon=":material/error:")
st.button("Save routing rules", icon=":material/save:", on_click=_save_routing, args=(connection.id, routing_base))

st.subheader("Change history")
if history:
    show_table(pd.DataFrame(change_rows(history, when)), CHANGE_COLUMNS)
else:
    st.caption("No changes yet. Every save is recorded here with who changed what.")
