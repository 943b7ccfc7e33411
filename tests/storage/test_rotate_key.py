"""`python -m storage.rotate_key`: every stored credential moves to a new key, processes keep reading them during
the rotation, and the old key no longer opens anything afterwards."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlmodel import Session

from storage.models import IntacctConnection, NotificationSettings
from storage.rotate_key import encrypted_columns, main, reencrypt_all
from storage.secrets import SecretBox, SecretKeyMismatch, load_keys
from sync_engine import settings

ROOT = Path(__file__).resolve().parents[2]


def _store_credentials(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        settings.save_connection(session=session, actor="t", form=settings.ConnectionForm(
            endpoint_url="http://127.0.0.1:9/ia/xml/xmlgw.phtml", company_id="C", user_id="u",
            user_password="user-secret", sender_id="s", sender_password="sender-secret"))
        settings.save_notification_settings(session=session, actor="t", enabled=True, smtp_host="localhost",
                                            smtp_port=25, security="none", smtp_user="mailer",
                                            smtp_password="smtp-secret", sender="a@b.test", recipients="c@d.test",
                                            console_base_url="http://localhost:8501")


def _secrets(engine, box: SecretBox) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        connection = session.get(IntacctConnection, 1)
        mail = session.get(NotificationSettings, 1)
        return (box.decrypt(connection.user_password_enc), box.decrypt(connection.sender_password_enc),
                box.decrypt(mail.smtp_password_enc))


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CONSOLE_SECRET_KEY")
    path = tmp_path / ".secret_key"
    monkeypatch.setenv("CONSOLE_SECRET_KEY_FILE", str(path))
    return path


def test_every_encrypted_column_is_covered() -> None:
    assert encrypted_columns() == [("intacct_connection", "sender_password_enc"),
                                   ("intacct_connection", "user_password_enc"),
                                   ("notification_settings", "smtp_password_enc")]


def test_the_documented_command_rotates_the_key_file(engine, key_file: Path) -> None:
    _store_credentials(engine)
    [old] = load_keys()
    result = subprocess.run([sys.executable, "-m", "storage.rotate_key", "--database-url",
                             engine.url.render_as_string(hide_password=False)],
                            cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Re-encrypted 3 stored credential(s)" in result.stdout
    [new] = load_keys()
    assert new != old and old.decode() not in result.stdout + result.stderr and new.decode() not in result.stdout
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _secrets(engine, SecretBox(new)) == ("user-secret", "sender-secret", "smtp-secret")
    with pytest.raises(SecretKeyMismatch):
        _secrets(engine, SecretBox(old))


def test_during_the_rotation_both_keys_are_accepted(engine, key_file: Path) -> None:
    _store_credentials(engine)
    [old] = load_keys()
    assert main(["--database-url", engine.url.render_as_string(hide_password=False), "--keep-old"]) == 0
    new, kept = load_keys()
    assert kept == old
    # A process that opens its box now (every use does) reads what was stored before and after the rotation.
    during = SecretBox()
    assert _secrets(engine, during) == ("user-secret", "sender-secret", "smtp-secret")
    assert during.decrypt(SecretBox(old).encrypt("written by a process still on the old key")) == (
        "written by a process still on the old key")
    assert SecretBox(new).decrypt(during.encrypt("x")) == "x"  # new writes use the new key


def test_rotation_with_keys_in_the_environment(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _store_credentials(engine)
    old = os.environ["CONSOLE_SECRET_KEY"]
    url = engine.url.render_as_string(hide_password=False)
    assert main(["--database-url", url]) == 2  # one key only: it says what to do and changes nothing
    assert _secrets(engine, SecretBox(old.encode()))[0] == "user-secret"
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("CONSOLE_SECRET_KEY", f"{new},{old}")
    assert main(["--database-url", url]) == 0
    assert _secrets(engine, SecretBox(new.encode())) == ("user-secret", "sender-secret", "smtp-secret")


def test_a_credential_no_key_opens_is_reported_and_left_alone(engine) -> None:
    _store_credentials(engine)
    stranger = SecretBox(Fernet.generate_key()).encrypt("lost")
    with Session(engine) as session:
        mail = session.get(NotificationSettings, 1)
        mail.smtp_password_enc = stranger
        session.add(mail)
        session.commit()
    report = reencrypt_all(engine=engine, box=SecretBox(keys=[Fernet.generate_key(), *load_keys()]))
    assert report.reencrypted == 2 and report.unreadable == ["notification_settings.smtp_password_enc (row 1)"]
    with Session(engine) as session:
        assert session.get(NotificationSettings, 1).smtp_password_enc == stranger
