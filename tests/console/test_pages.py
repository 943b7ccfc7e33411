"""What a finance user notices on each page: saved settings, clear errors, one run per click, failures with
Intacct's own error, field-by-field diffs, unreadable credentials explained."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlmodel import select

from console import state
from storage.db import read_session
from storage.models import SyncRun
from sync_engine.services import connection as connection_module
from sync_engine.services.settings import get_connection
from tests.console.conftest import texts
from tests.console.seed import seed_connection, seed_ledger


def _runs(db) -> list[SyncRun]:
    with read_session(db) as session:
        return list(session.exec(select(SyncRun).order_by(SyncRun.id)).all())


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_saving_a_connection_never_shows_the_password_back(app_as, db) -> None:
    at = app_as("admin", state.CONNECTION)
    for key, value in {"conn_company": "DEMO-AR ", "conn_user": "ws_console", "conn_user_pw": "sandbox-user-pw",
                       "conn_sender": "ar-console-sender", "conn_sender_pw": "sandbox-sender-pw",
                       "conn_url": "http://127.0.0.1:8765/ia/xml/xmlgw.phtml"}.items():
        at.text_input(key=key).input(value)
    _button(at, "Save").click().run()
    assert not at.exception
    assert "Connection saved" in texts(at)
    assert at.text_input(key="conn_user_pw").value == "" and at.text_input(key="conn_sender_pw").value == ""
    assert "Leave blank to keep" in at.text_input(key="conn_user_pw").placeholder
    assert "Not tested yet" in texts(at)
    assert "sandbox-user-pw" not in texts(at) and "sandbox-sender-pw" not in texts(at)
    with read_session(db) as session:
        connection = get_connection(session=session)
    assert connection.company_id == "DEMO-AR", "the trailing space is removed"
    assert "sandbox-user-pw" not in connection.user_password_enc


def test_a_missing_connection_field_is_named(app_as) -> None:
    at = app_as("admin", state.CONNECTION)
    at.text_input(key="conn_company").input("DEMO-AR")
    _button(at, "Save").click().run()
    assert "Not saved: Gateway URL is required." in texts(at)


def test_demo_helper_fills_the_sandbox_values(app_as, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTACCT_DEMO_URL", "http://127.0.0.1:8765/ia/xml/xmlgw.phtml")
    monkeypatch.setenv("INTACCT_DEMO_COMPANY_ID", "DEMO-AR")
    at = app_as("admin", state.CONNECTION)
    _button(at, "Use the local demo company").click().run()
    assert at.text_input(key="conn_company").value == "DEMO-AR"
    assert at.text_input(key="conn_url").value.startswith("http://127.0.0.1:8765")


def test_a_bad_mapping_shows_the_settings_error(app_as, db) -> None:
    seed_connection(db)
    at = app_as("admin", state.MAPPING)
    at.text_input(key="map_item").input("")
    _button(at, "Save").click().run()
    assert "Item account label is required to write invoices to Intacct." in texts(at)


def test_mapping_changes_are_audited_old_to_new(app_as, db) -> None:
    seed_connection(db)
    at = app_as("admin", state.MAPPING)
    at.text_input(key="map_item").input("Services")
    _button(at, "Save").click().run()
    assert "Mapping saved" in texts(at)
    history = at.dataframe[-1].value
    row = history[history["Setting"] == "Item account label"].iloc[0]
    assert (row["Old"], row["New"], row["Who"]) == ("Sales", "Services", "admin-user")


def test_sync_now_enqueues_exactly_one_run_when_clicked_twice(app_as, db) -> None:
    seed_connection(db)
    first = app_as("admin")
    second = app_as("accountant")  # a colleague (or a second tab) clicking before the first page updates
    _button(first, "Sync Now").click()
    _button(second, "Sync Now").click()
    first.run()
    second.run()
    runs = _runs(db)
    assert len(runs) == 1 and runs[0].status == "queued" and runs[0].requested_by == "admin-user"
    assert _button(first, "Sync Now").disabled, "no second click while a sync is queued"
    assert "Waiting for the scheduler" in first.main.get("progress")[0].proto.text
    assert "#" + str(runs[0].id) in first.dataframe[0].value["Run"].tolist()


def test_sync_now_is_disabled_without_a_connection(app_as) -> None:
    at = app_as("admin")
    assert _button(at, "Sync Now").disabled
    assert "Intacct is not connected yet" in texts(at)


def test_auto_sync_toggle_shows_the_next_due_time(app_as, db) -> None:
    seed_connection(db)
    at = app_as("accountant")
    at.toggle(key="auto_sync").set_value(True).run()
    assert "Next sync due" in texts(at)


def test_run_detail_shows_the_failed_record_first_with_intacct_error(app_as, db) -> None:
    ids = seed_ledger(db)
    at = app_as("accountant", query={"run": str(ids["bad_run"])})
    at.switch_page(state.RUN_DETAIL).run()
    assert not at.exception
    assert "Accounting sync #" in at.title[0].value
    items = next(df.value for df in at.dataframe if "Record" in df.value.columns)
    assert items.iloc[0]["Record"] == "Invoice INV-2001"
    assert items.iloc[0]["Intacct error"] == "BL03000018"
    assert "not valid for account 4000" in items.iloc[0]["Message"]
    _button(at, "Retry the 1 failed record").click().run()
    retry = _runs(db)[-1]
    assert retry.trigger == "retry" and retry.options["retry_of"] == ids["bad_run"]


def test_a_queued_run_can_be_cancelled(app_as, db) -> None:
    seed_connection(db)
    at = app_as("admin")
    _button(at, "Sync Now").click().run()
    run = _runs(db)[0]
    at.query_params["run"] = str(run.id)
    at.switch_page(state.RUN_DETAIL).run()
    _button(at, "Cancel this run").click().run()
    assert _runs(db)[0].status == "cancelled"


def test_record_detail_shows_a_field_by_field_diff(app_as, db) -> None:
    ids = seed_ledger(db)
    at = app_as("viewer", query={"type": "customer", "id": str(ids["acme"])})
    at.switch_page(state.RECORD_DETAIL).run()
    assert at.title[0].value == "Customer Acme Corp"
    diffs = [df.value for df in at.dataframe if list(df.value.columns) == ["Field", "Before", "After"]]
    newest = diffs[0].set_index("Field")
    assert newest.loc["Name", "Before"] == "Acme Corporation" and newest.loc["Name", "After"] == "Acme Corp"
    assert newest.loc["Email", "Before"] == "—"


def test_unreadable_credentials_are_explained_not_crashed_on(app_as, db, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_connection(db)
    monkeypatch.setenv("CONSOLE_SECRET_KEY", Fernet.generate_key().decode())
    at = app_as("admin")
    assert not at.exception
    assert "encrypted with another key" in texts(at)
    assert _button(at, "Sync Now").disabled and "Recent Syncs" in texts(at), "history stays visible"
    at.switch_page(state.CONNECTION).run()
    assert "encrypted with another key" in texts(at)
    at.text_input(key="conn_user_pw").input("new-user-pw")
    at.text_input(key="conn_sender_pw").input("new-sender-pw")
    next(b for b in at.button if b.label == "Save").click().run()
    assert "encrypted with another key" not in texts(at)


def test_imports_enqueue_with_their_options_and_explain_email(app_as, db) -> None:
    seed_connection(db)
    at = app_as("accountant", state.IMPORTS)
    assert "Email is off" in texts(at)
    at.radio(key="customer_scope").set_value("Active customers only")
    at.button(key="start_customers").click().run()
    at.button(key="start_invoices").click().run()
    kinds = {r.kind: r.options for r in _runs(db)}
    assert kinds == {"customer_import": {"active_only": True}, "invoice_import": {"outstanding_only": True}}
    assert at.button(key="start_customers").disabled


def test_admin_adds_a_user_who_can_then_sign_in(app_as, db) -> None:
    at = app_as("admin", state.SETTINGS)
    at.text_input(key="new_username").input("pat")
    at.text_input(key="new_password").input("short")
    _button(at, "Add user").click().run()
    assert "at least 8 characters" in texts(at)
    at.text_input(key="new_username").input("pat")
    at.text_input(key="new_password").input("long enough pw")
    _button(at, "Add user").click().run()
    assert "pat can now sign in as viewer." in texts(at)
    assert "pat" in at.dataframe[0].value["User"].tolist()


def test_email_settings_reject_a_bad_recipient(app_as) -> None:
    at = app_as("admin", state.SETTINGS)
    at.text_input(key="mail_recipients").input("not-an-address")
    _button(at, "Save email settings").click().run()
    assert "Not an email address: not-an-address" in texts(at)


def test_a_connection_test_that_cannot_run_says_why(app_as, db, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_connection(db)

    def broken(*, session, client=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("name resolution failed")

    monkeypatch.setattr(connection_module, "test_connection", broken)
    at = app_as("admin", state.CONNECTION)
    _button(at, "Test connection").click().run()
    assert not at.exception
    assert "The connection test could not run: name resolution failed" in texts(at)


def test_a_failed_connection_test_turns_the_status_red(app_as, db, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_connection(db)

    def failing_test(*, session, client=None):  # type: ignore[no-untyped-def]
        connection = get_connection(session=session)
        connection.status, connection.last_test_message = "failing", "Sign-in information is incorrect"
        session.add(connection)
        session.commit()
        return connection_module.ConnectionCheck(False, "Sign-in information is incorrect")

    monkeypatch.setattr(connection_module, "test_connection", failing_test)
    at = app_as("admin", state.CONNECTION)
    _button(at, "Test connection").click().run()
    assert "Sign-in failing" in texts(at) and "Sign-in information is incorrect" in texts(at)
    at.switch_page(state.ACCOUNTING_SYNC).run()
    assert "Intacct sign-in is failing" in texts(at)
    assert _button(at, "Sync Now").disabled


def test_email_on_tells_importers_they_can_leave(app_as, db) -> None:
    seed_connection(db)
    at = app_as("admin", state.SETTINGS)
    at.toggle(key="mail_enabled").set_value(True)
    at.text_input(key="mail_smtp_host").input("smtp.example.com")
    at.text_input(key="mail_recipients").input("ar-team@example.com")
    _button(at, "Save email settings").click().run()
    assert "Email settings saved." in texts(at)
    at.switch_page(state.IMPORTS).run()
    assert "we'll email the result to ar-team@example.com" in texts(at)


def test_admin_changes_a_role_but_not_the_last_admin(app_as, db) -> None:
    from tests.console.conftest import add_user

    add_user(db, "viv", "viewer")
    at = app_as("admin", state.SETTINGS)
    at.selectbox(key="edit_user").set_value("viv").run()
    at.selectbox(key="edit_role_viv").set_value("accountant")
    _button(at, "Save user").click().run()
    assert "Saved viv." in texts(at)
    users = at.dataframe[0].value.set_index("User")
    assert users.loc["viv", "Role"] == "Accountant"
    at.selectbox(key="edit_user").set_value("admin-user").run()
    at.selectbox(key="edit_role_admin-user").set_value("viewer")
    _button(at, "Save user").click().run()
    assert "last active administrator" in texts(at)
