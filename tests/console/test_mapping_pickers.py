"""Account mapping picked from Intacct's lists: checked at once, item overrides and routing rules saved and audited."""
from __future__ import annotations

from sqlmodel import select

from console import state
from storage.db import read_session
from storage.models import AuditEvent, IntacctListItem, ItemAccountOverride, PaymentRoutingRule
from sync_engine.services.settings import MappingForm, save_mapping
from sync_engine.services.users import update_user
from tests.console.conftest import add_user, texts
from tests.console.seed import seed_connection

LISTS = {"account_labels": [("Sales", True), ("Product Revenue", True), ("Legacy Revenue", False)],
         "gl_accounts": [("1010", True), ("1000", True), ("4900", False)], "locations": [("HQ", True)],
         "departments": [("SALES", True)], "bank_accounts": [("BOA-CHK", True), ("OLD-CHK", False)]}


def _cache_lists(db, connection_id: int) -> None:  # type: ignore[no-untyped-def]
    with read_session(db) as session:
        for name, entries in LISTS.items():
            for value, active in entries:
                session.add(IntacctListItem(connection_id=connection_id, list_name=name, value=value, active=active))
        session.commit()


def _button(at, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def test_mapping_is_picked_from_the_lists_and_an_unusable_value_is_named_at_once(app_as, db) -> None:
    connection_id = seed_connection(db)
    _cache_lists(db, connection_id)
    with read_session(db) as session:  # the label was retired in Intacct after it was mapped
        save_mapping(session=session, connection_id=connection_id, actor="admin-user",
                     form=MappingForm(item_account_label="Legacy Revenue", undeposited_funds_account="1010"))
    at = app_as("admin", state.MAPPING)
    picker = at.selectbox(key="map_item")
    assert any("Product Revenue" in o for o in picker.options)
    assert [o for o in picker.options if "Legacy" in o] == ["Legacy Revenue (not active in Intacct)"]
    assert [e.value for e in at.error] == ["Account label 'Legacy Revenue' is inactive in Intacct."]
    assert "Lists read from Intacct" in texts(at)
    at.selectbox(key="map_undeposited").set_value("1000").run()
    at.selectbox(key="map_item").set_value("Product Revenue").run()
    assert not at.error
    _button(at, "Save").click().run()
    assert "Mapping saved" in texts(at)


def test_item_overrides_and_routing_rules_are_checked_saved_and_audited(app_as, db) -> None:
    connection_id = seed_connection(db)
    _cache_lists(db, connection_id)
    at = app_as("admin", state.MAPPING)
    at.session_state["map_overrides"] = {"edited_rows": {}, "deleted_rows": [],
                                         "added_rows": [{"Item code": "HW-1", "Account label": "Legacy Revenue"}]}
    at.run()
    _button(at, "Save item overrides").click().run()
    assert "Account label 'Legacy Revenue' is inactive in Intacct" in texts(at)
    at.session_state["map_overrides"] = {"edited_rows": {}, "deleted_rows": [],
                                         "added_rows": [{"Item code": "HW-1", "Account label": "Product Revenue"}]}
    at.run()
    _button(at, "Save item overrides").click().run()
    assert "1 item override(s) saved" in texts(at)
    at.session_state["map_routing"] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"Method": "Credit Card", "Currency": "", "Deposit to": "gl_account:1000"}]}
    at.run()
    _button(at, "Save routing rules").click().run()
    assert "1 routing rule(s) saved" in texts(at)
    with read_session(db) as session:
        assert [(o.item_code, o.account_label) for o in session.exec(select(ItemAccountOverride))] == [
            ("HW-1", "Product Revenue")]
        assert [(r.method, r.deposit_account) for r in session.exec(select(PaymentRoutingRule))] == [
            ("Credit Card", "1000")]
        entities = {e.entity for e in session.exec(select(AuditEvent))}
        assert {"item_override", "payment_routing"} <= entities
    history = at.dataframe[-1].value
    assert "Item HW-1" in set(history["Setting"]) and "Payment routing: Rule 1" in set(history["Setting"])


def _route(at, *rows: dict) -> None:  # type: ignore[no-untyped-def]
    at.session_state["map_routing"] = {"edited_rows": {}, "deleted_rows": [], "added_rows": list(rows)}
    at.run()


def test_a_routing_rule_to_a_bank_account_is_checked_as_it_is_edited_saved_and_audited(app_as, db) -> None:
    connection_id = seed_connection(db)
    _cache_lists(db, connection_id)
    at = app_as("admin", state.MAPPING)
    assert not at.error
    _route(at, {"Method": "EFT", "Currency": "", "Deposit to": "bank_account:OLD-CHK"},
           {"Method": "", "Currency": "", "Deposit to": "gl_account:1000"})
    assert [e.value for e in at.error] == ["Row 1: Bank account 'OLD-CHK' is inactive in Intacct."], \
        "named at once, before Save"
    _route(at, {"Method": "", "Currency": "", "Deposit to": "bank_account:BOA-CHK"},
           {"Method": "Cash", "Currency": "", "Deposit to": "gl_account:1000"})
    assert [e.value for e in at.error] == [
        "Row 1: a rule for any method and any currency catches every payment, so it must be the last rule."]
    _button(at, "Save routing rules").click().run()
    assert "Routing rules not saved" in texts(at)
    _route(at, {"Method": "Cash", "Currency": "", "Deposit to": "gl_account:1000"},
           {"Method": "", "Currency": "", "Deposit to": "bank_account:BOA-CHK"})
    assert not at.error
    _button(at, "Save routing rules").click().run()
    assert "2 routing rule(s) saved" in texts(at)
    with read_session(db) as session:
        assert [(r.method, r.deposit_kind, r.deposit_account) for r in session.exec(
            select(PaymentRoutingRule).order_by(PaymentRoutingRule.position))] == [
            ("Cash", "gl_account", "1000"), (None, "bank_account", "BOA-CHK")]
    history = at.dataframe[-1].value
    assert {"Cash, any currency → undeposited funds account 1000",
            "any method, any currency → bank account BOA-CHK"} <= set(history["New"])


def test_routing_rules_are_the_admins_alone(app_as, db) -> None:
    connection_id = seed_connection(db)
    _cache_lists(db, connection_id)
    accountant = app_as("accountant")
    try:
        accountant.switch_page(state.MAPPING)
        accountant.run()
        assert "Account mapping" not in [t.value for t in accountant.title]
    except Exception:  # noqa: BLE001 - AppTest may refuse a page outside the navigation outright
        pass
    at = app_as("admin", state.MAPPING)
    _route(at, {"Method": "EFT", "Currency": "", "Deposit to": "bank_account:BOA-CHK"})
    add_user(db, "other-admin", "admin")
    with read_session(db) as session:  # demoted while the page was open
        update_user(session=session, username="admin-user", actor="other-admin", role="accountant")
    _button(at, "Save routing rules").click().run()
    with read_session(db) as session:
        assert session.exec(select(PaymentRoutingRule)).first() is None, "the click of a demoted admin saves nothing"
