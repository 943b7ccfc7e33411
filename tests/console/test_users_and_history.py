"""The console's engine helpers on both databases: users and passwords, and the read models behind the pages."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session

from storage.models import SyncRunItem
from sync_engine.history import failure_groups, invoice_aging, list_customers, list_invoices, record_history
from sync_engine.users import (UserError, authenticate, create_user, ensure_first_admin, hash_password, update_user,
                               verify_password)
from tests.console.seed import seed_ledger


def test_password_hashes_are_salted_and_verified() -> None:
    first, second = hash_password("same password"), hash_password("same password")
    assert first != second and first.startswith("$argon2id$")
    assert verify_password("same password", first) and not verify_password("other", first)
    assert not verify_password("same password", "not-a-hash")


def test_authenticate_and_user_rules(engine) -> None:
    with Session(engine) as session:
        assert ensure_first_admin(session=session, username="root", password="first-admin-pw").role == "admin"
        assert ensure_first_admin(session=session, username="again", password="first-admin-pw") is None
        create_user(session=session, username="Viv", password="viewer-pw-1", role="viewer", actor="root")
        with pytest.raises(UserError, match="already a user"):
            create_user(session=session, username="viv", password="viewer-pw-1", role="viewer", actor="root")
        with pytest.raises(UserError, match="at least 8"):
            create_user(session=session, username="pat", password="short", role="viewer", actor="root")
        assert authenticate(session=session, username="VIV", password="viewer-pw-1").last_login_at is not None
        assert authenticate(session=session, username="viv", password="wrong") is None
        assert authenticate(session=session, username="nobody", password="viewer-pw-1") is None
        with pytest.raises(UserError, match="last active administrator"):
            update_user(session=session, username="root", actor="root", role="viewer")
        update_user(session=session, username="viv", actor="root", active=False)
        assert authenticate(session=session, username="viv", password="viewer-pw-1") is None


def test_ledger_views_search_group_and_age(engine) -> None:
    ids = seed_ledger(engine)
    with Session(engine) as session:
        assert [c.name for c in list_customers(session=session, search="acme")] == ["Acme Corp"]
        assert [r.invoice.number for r in list_invoices(session=session, search="globex")] == ["INV-2001"]
        aging = {(b.currency, b.bucket): b.amount for b in invoice_aging(session=session, today=date.today())}
        assert aging[("USD", "1–30 days")] == Decimal("10000.00")
        assert aging[("EUR", "Over 90 days")] == Decimal("800.50")
        groups = failure_groups(session=session)
        assert [(g.errorno, g.count, g.records) for g in groups] == [("BL03000018", 1, ["Invoice INV-2001"])]
        history = record_history(session=session, record_type="customer", record_id=ids["acme"])
        assert [v.version for v in history] == [2, 1]
        assert {(c.field, c.old, c.new) for c in history[0].changes} == {
            ("name", "Acme Corporation", "Acme Corp"), ("email", None, "ap@acme.example")}
        # A later success of the same record closes its failure.
        session.add(SyncRunItem(run_id=ids["bad_run"], step="invoice_writes", record_type="invoice",
                                record_id=ids["inv3"], label="Invoice INV-2001", action="created"))
        session.commit()
        assert failure_groups(session=session) == []


def test_an_old_scrypt_hash_still_signs_in_and_is_replaced_by_argon2id(engine) -> None:
    import base64
    import hashlib

    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"legacy-password", salt=salt, n=2**14, r=8, p=1, dklen=32)
    legacy = f"scrypt${2**14}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    with Session(engine) as session:
        user = create_user(session=session, username="old-timer", password="placeholder-pw", role="viewer", actor="t")
        user.password_hash = legacy
        session.add(user)
        session.commit()
        assert authenticate(session=session, username="old-timer", password="wrong-password") is None
        assert session.get(type(user), user.id).password_hash == legacy  # a failure changes nothing
        assert authenticate(session=session, username="old-timer", password="legacy-password") is not None
        session.expire_all()
        upgraded = session.get(type(user), user.id).password_hash
        assert upgraded.startswith("$argon2id$") and verify_password("legacy-password", upgraded)
        assert authenticate(session=session, username="old-timer", password="legacy-password") is not None
